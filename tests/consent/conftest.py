"""Consent tests: a fresh automation document per test, and helpers shared by the modules."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from leadq.config import get_settings


@pytest.fixture(autouse=True)
def _fresh_settings() -> Iterator[None]:
    """Documents put in force by a test leave with it."""
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def record(purpose: str, granted: bool, at: datetime, source: str = "tests",
           **more: Any) -> dict[str, Any]:  # fmt: skip
    """A consent record as the API takes it."""
    return {"purpose": purpose, "granted": granted, "at": at.isoformat(), "source": source,
            **more}  # fmt: skip
