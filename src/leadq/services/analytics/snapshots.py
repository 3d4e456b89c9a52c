"""The dashboard as of a moment: computed once, kept, and served while it is young.

A dashboard over a million leads takes seconds to compute and changes little from one minute
to the next, so — as CRM dashboards do ("as of 12:04, refresh") — the computed series are kept
in ``report_snapshots`` and served until they are ``max_age`` old; the worker refreshes the
default one before anybody waits for it, and ``fresh`` computes one at once. The low-score
sample is kept as lead ids and read again, so a snapshot holds no one's profile; an erasure
drops every snapshot all the same (campaign names may name people).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, get_type_hints

from pydantic import TypeAdapter
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadq.services.analytics.dashboard import Dashboard, dashboard, leads_by_id
from leadq.store.db import Database
from leadq.store.sql import dialect_insert
from leadq.store.tables import ReportSnapshot


@dataclass(frozen=True)
class Kept:
    """A dashboard and the moment it was computed as of."""

    dashboard: Dashboard
    as_of: datetime
    seconds: float
    """How long computing it took."""


_SERIES = {
    name: TypeAdapter(kind)
    for name, kind in get_type_hints(Dashboard).items()
    if name != "low_score_sample"  # leads: kept as their ids
}


def _name(weeks: int, sample: int, seed: int | None) -> str:
    return f"dashboard?weeks={weeks}&sample={sample}&seed={seed}"


def _encode(found: Dashboard) -> dict[str, Any]:
    body = {name: kind.dump_python(getattr(found, name), mode="json")
            for name, kind in _SERIES.items()}  # fmt: skip
    return {**body, "low_score_sample": [lead.id for lead in found.low_score_sample]}


def _decode(session: Session, body: dict[str, Any]) -> Dashboard:
    series = {name: kind.validate_python(body[name]) for name, kind in _SERIES.items()}
    return Dashboard(**series, low_score_sample=leads_by_id(session, body["low_score_sample"]))


def current(db: Database, now: datetime, weeks: int = 12, sample: int = 10,
            seed: int | None = None, max_age: float = 300,
            fresh: bool = False) -> Kept:  # fmt: skip
    """The kept dashboard if it is younger than ``max_age`` seconds (and not ``fresh``),
    otherwise one computed now and kept."""
    name = _name(weeks, sample, seed)
    if not fresh and max_age > 0:
        with db.reading() as session:
            row = session.get(ReportSnapshot, name)
            if row is not None and timedelta(0) <= now - row.as_of <= timedelta(seconds=max_age):
                return Kept(_decode(session, row.body), row.as_of, row.seconds)
    return compute(db, now, weeks, sample, seed)


def compute(db: Database, now: datetime, weeks: int = 12, sample: int = 10,
            seed: int | None = None) -> Kept:  # fmt: skip
    """Compute the dashboard as of ``now`` and keep it (replacing the one kept before)."""
    started = time.perf_counter()
    with db.reading() as session:
        found = dashboard(session, now, weeks, sample, seed)
    seconds = round(time.perf_counter() - started, 3)
    row = {"name": _name(weeks, sample, seed), "as_of": now, "seconds": seconds,
           "body": _encode(found)}  # fmt: skip
    with db.unit_of_work() as session:
        upsert = dialect_insert(session, ReportSnapshot).values(**row)
        replaced = {key: upsert.excluded[key] for key in row if key != "name"}
        session.execute(upsert.on_conflict_do_update(index_elements=["name"], set_=replaced))
    return Kept(found, now, seconds)


def refresh_due(db: Database, now: datetime, max_age: float) -> bool:
    """The worker's round: recompute the default dashboard once it is half ``max_age`` old, so
    readers find a young one. Returns whether it computed."""
    if max_age <= 0:
        return False
    with db.reading() as session:
        kept = session.scalar(select(ReportSnapshot.as_of).where(
            ReportSnapshot.name == _name(12, 10, None)))  # fmt: skip
    if kept is not None and timedelta(0) <= now - kept < timedelta(seconds=max_age / 2):
        return False
    compute(db, now)
    return True
