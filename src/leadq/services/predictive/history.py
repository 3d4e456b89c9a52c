"""The workspace's history, read from the database for training and backtests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import polars as pl
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from leadq.domain.consent import may_profile
from leadq.domain.free_mail import is_free_mail
from leadq.predictive.history import CONVERTED, Past, Touch, decision_moments, snapshot
from leadq.store.tables import Event, Lead, StageChange

CONVERTING_EVENT = "purchase"
CONVERTED_STAGE = "customer"


@dataclass(frozen=True)
class History:
    """Leads with a known outcome, each with its decision moment, as one table of text cells."""

    frame: pl.DataFrame
    moments: dict[int, datetime]
    outcomes: dict[int, int]


def lead_profile(lead: Lead) -> dict[str, Any]:
    """What a predictive model may know of a lead's profile: no names, e-mails or phones."""
    profile = lead.profile()
    profile["free_mail"] = is_free_mail(lead.email) if lead.email else None
    return profile


def touches(session: Session, lead_ids: Sequence[int], until: datetime) -> list[Touch]:
    query = select(Event.lead_id, Event.type, Event.occurred_at).where(
        Event.lead_id.in_(lead_ids), Event.occurred_at <= until
    )
    return [Touch(lead_id, kind, at) for lead_id, kind, at in session.execute(query)]


def event_types(session: Session) -> list[str]:
    return sorted(session.scalars(select(Event.type).distinct()))


def _first(session: Session, lead: Any, moment: Any, *where: Any) -> dict[int, datetime]:
    """Each lead's earliest ``moment`` among the rows matching ``where``."""
    query = select(lead, func.min(moment)).where(*where).group_by(lead)
    return {lead_id: at for lead_id, at in session.execute(query)}


def arrivals(session: Session) -> list[Past]:
    """Every lead that may be profiled: when it arrived and, if it converted, when."""
    first_touch = _first(session, Event.lead_id, Event.occurred_at)
    bought = _first(session, Event.lead_id, Event.occurred_at, Event.type == CONVERTING_EVENT)
    won = _first(session, StageChange.lead_id, StageChange.at,
                 StageChange.to_stage == CONVERTED_STAGE)  # fmt: skip
    pasts = []
    leads = session.execute(select(Lead.id, Lead.created_at, Lead.consents))
    for lead_id, created, consents in leads:
        if not may_profile(consents):
            continue  # who objected to profiling is not learnt from nor replayed either
        arrived = min(created, first_touch.get(lead_id, created))
        converted = [m for m in (bought.get(lead_id), won.get(lead_id)) if m is not None]
        pasts.append(Past(lead_id, arrived, min(converted) if converted else None))
    return pasts  # fmt: skip


def features_at(session: Session, moments: dict[int, datetime], now: datetime,
                types: Sequence[str] | None = None) -> pl.DataFrame:  # fmt: skip
    """Each lead's profile and event counts as of its own moment, one row per lead."""
    ids = sorted(moments)
    leads = {lead.id: lead_profile(lead)
             for lead in session.scalars(select(Lead).where(Lead.id.in_(ids)))}  # fmt: skip
    kinds = list(types) if types is not None else event_types(session)
    return snapshot(leads, touches(session, ids, now), moments, kinds)


def history(session: Session, horizon: timedelta, now: datetime,
            types: Sequence[str] | None = None) -> History:  # fmt: skip
    """Every lead whose decision moment has passed unconverted, with its features then."""
    chosen = decision_moments(arrivals(session), horizon, now)
    moments = {lead_id: moment for lead_id, (moment, _) in chosen.items()}
    outcomes = {lead_id: outcome for lead_id, (_, outcome) in chosen.items()}
    frame = features_at(session, moments, now, types)
    frame = frame.with_columns(
        pl.Series(CONVERTED, [str(outcomes[int(i)]) for i in frame["lead_id"]])
    )
    return History(frame, moments, outcomes)
