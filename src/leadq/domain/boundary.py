"""What any value from outside may be, checked once at every door before a use case sees it.

JSON bodies, form fields, query strings, CSV cells and YAML documents all pass ``problems``:
text holds no NUL and no lone surrogate (neither can be stored, and PostgreSQL refuses both),
and numbers are finite and within ``MAX_MAGNITUDE``, so no sum or average of them overflows a
double. Times are bounded by ``Moment`` and ``EventMoment``: nothing before 1900 or after 2200
(far enough for birth years and contract ends, near enough to convert to any zone), and no
event before 1970.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime

MAX_MAGNITUDE = 10**15
"""The largest number accepted anywhere (amounts, sizes, revenues): |x| ≤ 10¹⁵."""
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
EARLIEST_EVENT = datetime(1970, 1, 1, tzinfo=UTC)


def text_problem(text: str) -> str | None:
    """Why this text cannot be stored, or None."""
    if "\x00" in text:
        return "contains a NUL character"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "contains a lone surrogate (not valid Unicode text)"
    return None


def number_problem(number: float) -> str | None:
    """Why this number is refused, or None."""
    if isinstance(number, float) and not math.isfinite(number):
        return "expected a finite number"
    if abs(number) > MAX_MAGNITUDE:
        return f"expected a finite number of at most {MAX_MAGNITUDE:.0e} in size"
    return None


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def problems(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every ``(field, reason)`` in a decoded value, nested objects and lists included; the
    names of object members are checked like their values."""
    if isinstance(value, str):
        if reason := text_problem(value):
            yield path or "value", reason
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int | float):
        if reason := number_problem(value):
            yield path or "value", reason
    elif isinstance(value, dict):
        for key, item in value.items():
            name = str(key)
            if reason := text_problem(name):
                shown = name.encode("utf-8", "backslashreplace").decode("utf-8")  # printable
                yield _join(path, shown), f"the name {reason}"
                continue
            yield from problems(item, _join(path, name))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from problems(item, _join(path, index))


def within_calendar(moment: datetime) -> datetime:
    """The moment itself, or ValueError outside 1900–2199 (read on its own clock, before any
    conversion, so year 1 at +14:00 is refused instead of overflowing)."""
    local = moment.replace(tzinfo=None)
    if not EARLIEST.replace(tzinfo=None) <= local < LATEST.replace(tzinfo=None):
        raise ValueError(f"must be between {EARLIEST.year} and {LATEST.year - 1}")
    return moment


def _not_before_1970(moment: datetime) -> datetime:
    within_calendar(moment)
    if moment.tzinfo is not None and moment < EARLIEST_EVENT:
        raise ValueError(f"an event cannot have happened before {EARLIEST_EVENT.year}")
    return moment


Moment = Annotated[AwareDatetime, AfterValidator(within_calendar)]
"""A time anyone may send: between 1900 and 2200, so any zone converts without overflow."""
EventMoment = Annotated[AwareDatetime, AfterValidator(_not_before_1970)]
"""When an event happened: a ``Moment`` not before 1970."""
