"""Bounds on custom values (lead attributes, event properties): any shape, but not any size."""

from __future__ import annotations

import json
from typing import Any

from leadq.domain.boundary import problems

MAX_NAME = 100
MAX_TEXT = 4_096
MAX_NESTED_JSON = 16_384


def check_custom_values(values: dict[str, Any], what: str, max_keys: int) -> dict[str, Any]:
    """Refuse too many names, blank or long names, long texts and big nested values, so one
    client cannot bloat every query that reads them."""
    if len(values) > max_keys:
        raise ValueError(f"at most {max_keys} {what}")
    for name, value in values.items():  # on the hot path of batch intake: kept cheap
        if not 0 < len(name) <= MAX_NAME or name.isspace():
            raise ValueError(f"{what} names must be 1–{MAX_NAME} characters")
        if type(value) is str:
            if len(value) > MAX_TEXT:
                raise ValueError(f"{name!r} is over {MAX_TEXT} characters")
        elif isinstance(value, (list, dict)) and len(json.dumps(value)) > MAX_NESTED_JSON:
            raise ValueError(f"{name!r} is over {MAX_NESTED_JSON} bytes as JSON")
    for field, reason in problems(values):  # whichever door they came by (CSV, form, API)
        raise ValueError(f"{field}: {reason}")
    return values
