"""The workspace's own history as a training table, with every feature taken *as of* a moment.

A lead's decision moment is its arrival (its creation or its first recorded touch, whichever is
earlier: imports bring older events) plus a horizon of N days. Only events up to that moment
become features, so nothing the lead did later leaks in; the outcome is whether it converted
afterwards. Profile fields are the lead's current values.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import polars as pl

PROFILE_COLUMNS = (
    "seniority", "department", "industry", "company_size", "annual_revenue",
    "company_founded_year", "funding_stage", "product_users", "country", "region", "source",
    "campaign", "utm_source", "utm_medium", "utm_campaign", "free_mail",
)  # fmt: skip
EVENT_PREFIX = "events: "
QUIET_DAYS = "days since last event"
ACTIVE_DAYS = "active days"
CONVERTED = "converted"


@dataclass(frozen=True)
class Touch:
    """What the history needs of an event: whose, what, when."""

    lead_id: int
    type: str
    at: datetime


@dataclass(frozen=True)
class Past:
    """A lead's arrival and, if it converted, when."""

    lead_id: int
    arrived: datetime
    converted_at: datetime | None


def decision_moments(pasts: Iterable[Past], horizon: timedelta,
                     now: datetime) -> dict[int, tuple[datetime, int]]:  # fmt: skip
    """Leads whose decision moment has passed unconverted: the moment, and 1 if they converted
    later."""
    chosen = {}
    for past in pasts:
        moment = past.arrived + horizon
        if moment > now or (past.converted_at is not None and past.converted_at <= moment):
            continue
        chosen[past.lead_id] = (moment, int(past.converted_at is not None))
    return chosen


def snapshot(profiles: Mapping[int, Mapping[str, Any]], touches: Iterable[Touch],
             moments: Mapping[int, datetime],
             event_types: Sequence[str]) -> pl.DataFrame:  # fmt: skip
    """One row of text cells per lead: profile fields, and event counts up to its moment."""
    counts: dict[int, Counter[str]] = defaultdict(Counter)
    days: dict[int, set[str]] = defaultdict(set)
    last: dict[int, datetime] = {}
    for touch in touches:
        moment = moments.get(touch.lead_id)
        if moment is None or touch.at > moment:
            continue
        counts[touch.lead_id][touch.type] += 1
        days[touch.lead_id].add(touch.at.date().isoformat())
        last[touch.lead_id] = max(last.get(touch.lead_id, touch.at), touch.at)
    rows = []
    for lead_id, moment in moments.items():
        profile = profiles[lead_id]
        row: dict[str, str | None] = {"lead_id": str(lead_id)}
        row |= {column: _text(profile.get(column)) for column in PROFILE_COLUMNS}
        row |= {EVENT_PREFIX + kind: str(counts[lead_id][kind]) for kind in event_types}
        row[ACTIVE_DAYS] = str(len(days[lead_id]))
        quiet = (moment - last[lead_id]).total_seconds() / 86400 if lead_id in last else None
        row[QUIET_DAYS] = None if quiet is None else f"{quiet:.3f}"
        rows.append(row)
    columns = ["lead_id", *PROFILE_COLUMNS, *(EVENT_PREFIX + k for k in event_types),
               ACTIVE_DAYS, QUIET_DAYS]  # fmt: skip
    return pl.DataFrame(rows, schema=dict.fromkeys(columns, pl.String), orient="row")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def event_types_of(columns: Iterable[str]) -> list[str]:
    """The event types a model's columns count."""
    return [c[len(EVENT_PREFIX) :] for c in columns if c.startswith(EVENT_PREFIX)]
