"""Try a scoring model document before storing or activating it: the grades it would give
today's leads beside the active model's, and a backtest of both over the history."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select

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
class Move:
    """Leads that had ``before`` and would get ``after``."""

    before: str
    after: str
    leads: int
    direction: int
    """+1 up (a better grade), -1 down, 0 the same rank."""


@dataclass(frozen=True)
class Example:
    lead_id: int
    name: str
    before: str
    after: str
    score_before: float | None
    score_after: float


@dataclass(frozen=True)
class Preview:
    model: ScoringModel
    leads: int
    grades: list[GradeShare]
    current: list[GradeShare]
    backtest: Backtest | None
    backtest_note: str | None
    moves: list[Move] = field(default_factory=list)
    examples: list[Example] = field(default_factory=list)
    """A few leads that would move up, then a few that would move down."""

    @property
    def up(self) -> int:
        return sum(m.leads for m in self.moves if m.direction > 0)

    @property
    def down(self) -> int:
        return sum(m.leads for m in self.moves if m.direction < 0)


def _rank(grade: str, order: list[str]) -> float | None:
    """A grade's place, 0 (lowest) to 1 (best), in the order that holds it."""
    if grade not in order:
        return None
    return order.index(grade) / max(1, len(order) - 1)


def _direction(before: str, after: str, draft: list[str], current: list[str]) -> int:
    """Up or down: by the draft's order when it has both grades, else by each grade's place in
    its own model (a lead without a grade counts as the lowest)."""
    if before in draft and after in draft:
        low, high = draft.index(before), draft.index(after)
    else:
        low, high = _rank(before, current) or 0.0, _rank(after, draft) or 0.0  # type: ignore[assignment]
    return (high > low) - (high < low)


def _changes(leads: list[Lead], drafted: list[tuple[str, float]], draft: list[str],
             current: list[str], examples: int = 5,
             ) -> tuple[list[Move], list[Example]]:  # fmt: skip
    counts: Counter[tuple[str, str]] = Counter()
    up: list[Example] = []
    down: list[Example] = []
    for lead, (grade, score) in zip(leads, drafted, strict=True):
        before = lead.grade or "unscored"
        counts[before, grade] += 1
        way = _direction(before, grade, draft, current)
        kept = up if way > 0 else down if way < 0 else None
        if kept is not None and len(kept) < examples:
            name = " ".join(p for p in (lead.first_name, lead.last_name) if p)
            kept.append(Example(lead.id, name or lead.email or lead.phone or str(lead.id),
                                before, grade, lead.score, score))  # fmt: skip
    moves = [Move(before, after, n, _direction(before, after, draft, current))
             for (before, after), n in counts.most_common() if before != after]  # fmt: skip
    return moves, up + down


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
    moves, examples = _changes(leads, [(c.grade, c.score) for c in cards], list(model.grades),
                               current_order)  # fmt: skip
    return Preview(model, len(leads), _shares([c.grade for c in cards], list(model.grades)),
                   current, replay, note, moves, examples)  # fmt: skip


def histogram(db: Database, bins: int = 24) -> list[tuple[float, float, int]]:
    """The leads' current scores in ``bins`` equal ranges (low, high, leads), for placing the
    grade lines; empty without scored leads."""
    with db.reading() as session:
        low = session.scalar(select(func.min(Lead.score)))
        high = session.scalar(select(func.max(Lead.score)))
        if low is None or high is None:
            return []
        width = (high - low) / bins or 1.0
        place = func.floor((Lead.score - low) / width)
        counted: dict[int, int] = dict(session.execute(select(place, func.count()).where(
            Lead.score.is_not(None)).group_by(place)).all())  # fmt: skip
    found = [(low + i * width, low + (i + 1) * width, int(counted.get(i, 0))) for i in range(bins)]
    last = found[-1]
    found[-1] = (last[0], last[1], last[2] + int(counted.get(bins, 0)))  # the top score
    return found
