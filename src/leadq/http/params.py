"""Path parameters that the API and the web UI both take, checked before any use case runs.

Ids are read by ``canonical_id``, the function the rep's scope check uses too, so a route and
the check can never read one path segment as two different ids."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path
from pydantic import BeforeValidator

from leadq.domain.ids import MAX_ID, canonical_id

ModelReference = Annotated[str, Path(max_length=80, pattern=r"^[\w.\-]+(@\d+)?$",
                                     description="NAME or NAME@VERSION")]  # fmt: skip
"""A scoring or predictive model in a path; malformed ones never reach the database."""


LeadPath = Annotated[int, BeforeValidator(canonical_id),
                     Path(ge=1, le=MAX_ID, description="The lead's id")]  # fmt: skip
TaskPath = Annotated[int, BeforeValidator(canonical_id),
                     Path(ge=1, le=MAX_ID, description="The task's id")]  # fmt: skip
OverridePath = Annotated[int, BeforeValidator(canonical_id),
                         Path(ge=1, le=MAX_ID, description="The override's id")]  # fmt: skip
MessagePath = Annotated[int, BeforeValidator(canonical_id),
                        Path(ge=1, le=MAX_ID, description="The outbox message's id")]  # fmt: skip
PairPath = Annotated[int, BeforeValidator(canonical_id),
                     Path(ge=1, le=MAX_ID, description="The possible duplicate's id")]  # fmt: skip
AccountPath = Annotated[int, BeforeValidator(canonical_id),
                        Path(ge=1, le=MAX_ID, description="The account's id")]  # fmt: skip
ImportPath = Annotated[int, BeforeValidator(canonical_id),
                       Path(ge=1, le=MAX_ID, description="The import's id")]  # fmt: skip
