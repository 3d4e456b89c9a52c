from __future__ import annotations

from collections.abc import Iterator

import pytest

from leadq.config import get_settings


@pytest.fixture(autouse=True)
def _fresh_settings() -> Iterator[None]:
    """Documents put in force by a test leave with it."""
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
