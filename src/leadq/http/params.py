"""Path parameters that the API and the web UI both take, checked before any use case runs."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

ModelReference = Annotated[str, Path(max_length=80, pattern=r"^[\w.\-]+(@\d+)?$",
                                     description="NAME or NAME@VERSION")]  # fmt: skip
"""A scoring or predictive model in a path; malformed ones never reach the database."""
