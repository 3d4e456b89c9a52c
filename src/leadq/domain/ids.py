"""The one spelling of an id, for every way an id comes in.

A path segment, a JSON body, a form field, a CSV cell and the rep's scope check all read an id
through ``canonical_id``, so no two of them can disagree about which record ``+6``, ``6.0``,
`` 6`` or ``0006`` names: none of them is an id. An id is a JSON integer, or ASCII digits
without sign, spaces or leading zeros, from 1 to ``MAX_ID``.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BeforeValidator, Field

MAX_ID = 2**31 - 1
_DIGITS = re.compile(r"[1-9][0-9]{0,9}")
REASON = f"an id is a whole number from 1 to {MAX_ID}, written with digits only"


def canonical_id(value: object) -> int:
    """The id ``value`` spells, or ValueError: one rule for every door."""
    if isinstance(value, str) and _DIGITS.fullmatch(value):
        number = int(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        raise ValueError(REASON)
    if not 1 <= number <= MAX_ID:
        raise ValueError(REASON)
    return number


EntityId = Annotated[int, BeforeValidator(canonical_id), Field(ge=1, le=MAX_ID)]
"""An id in a body or a form: a lead, a task, an override, an outbox message."""
