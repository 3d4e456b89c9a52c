"""Try a scoring model document before storing or activating it: the grades it would give
today's leads beside the active model's, and a backtest of both over the history."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from leadq.domain.scoring.evaluate import evaluate
from leadq.domain.scoring.model import ScoringModel
from leadq.services.scoring import backtest, documents
from leadq.services.scoring import rescoring as scoring
from leadq.services.scoring.backtest import Backtest, BacktestError, Capacity
from leadq.store.db import Database
from leadq.store.tables import Lead

PREVIEW_LEADS = 5_000


@dataclass(frozen=True)
class GradeShare:
    grade: str
    leads: int
    share: float


@dataclass(frozen=True)
class Preview:
    model: ScoringModel
    leads: int
    grades: list[GradeShare]
    current: list[GradeShare]
    backtest: Backtest | None
    backtest_note: str | None


def _shares(grades: list[str], order: list[str]) -> list[GradeShare]:
    counts = Counter(grades)
    total = max(1, len(grades))
    names = [*reversed(order), *sorted(set(counts) - set(order))]
    return [GradeShare(g, counts[g], counts[g] / total) for g in names]


def preview(db: Database, text: str, now: datetime, horizon: timedelta = timedelta(days=7),
            capacity: Capacity = Capacity(share=0.2)) -> Preview:  # fmt: skip
    """Parse (a bad document raises ``ConfigError`` naming the path), grade the newest
    leads with it as of now, and backtest it against the active model."""
    model = documents.parse(text, "draft")
    with db.reading() as session:
        leads = list(session.scalars(select(Lead).order_by(Lead.id.desc()).limit(PREVIEW_LEADS)))
        facts = backtest.events_until(session, [lead.id for lead in leads],
                                      {lead.id: now for lead in leads})  # fmt: skip
        active = scoring.active_model(session)
    cards = [evaluate(model, scoring.lead_facts(lead), facts[lead.id], now) for lead in leads]
    current_order = list(active.grades) if active else []
    current = _shares([lead.grade or "unscored" for lead in leads], current_order)
    contenders: list[str | ScoringModel] = [model]
    if active is not None:
        contenders.insert(0, active.ref)
    try:
        replay, note = backtest.run(db, contenders, horizon, capacity, now), None
    except BacktestError as exc:
        replay, note = None, str(exc)
    return Preview(model, len(leads), _shares([c.grade for c in cards], list(model.grades)),
                   current, replay, note)  # fmt: skip
