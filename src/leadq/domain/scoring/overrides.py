"""Manual overrides: a person's adjustment of the score, or a pinned grade, on top of the
model's card. Each shows as its own breakdown line, so the total still adds up, and it holds
until it expires or a person removes it — the next automatic rescoring never erases it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from leadq.domain.scoring.evaluate import Line, ScoreCard, grade_of

Kind = Literal["points", "grade", "stage"]
LINE_PREFIXES = ("override:", "grade_pin:")


@dataclass(frozen=True)
class Override:
    id: int
    kind: Kind
    reason: str
    actor: str
    created_at: datetime
    expires_at: datetime | None = None
    points: float | None = None
    grade: str | None = None
    stage: str | None = None

    def active(self, as_of: datetime) -> bool:
        return self.created_at <= as_of and (self.expires_at is None or as_of < self.expires_at)


def overridden(card: ScoreCard, overrides: Iterable[Override], grades: Mapping[str, float],
               as_of: datetime) -> ScoreCard:  # fmt: skip
    """The card with the overrides active at ``as_of``: adjustments add their points on
    their own lines; the newest grade pin sets the grade."""
    active = sorted((o for o in overrides if o.active(as_of)), key=lambda o: o.id)
    adjustments = [o for o in active if o.kind == "points" and o.points is not None]
    pins = [o for o in active if o.kind == "grade" and o.grade is not None]
    if not adjustments and not pins:
        return card
    lines, total = list(card.breakdown), card.score
    for o in adjustments:
        assert o.points is not None
        lines.append(Line(f"override:{o.id}", f"manual adjustment: {o.reason}", o.actor, o.points))
        total += o.points
    grade = grade_of(grades, total)
    if pins:
        pin = pins[-1]
        assert pin.grade is not None
        lines.append(Line(f"grade_pin:{pin.id}", f"grade pinned: {pin.reason}", pin.grade, 0.0))
        grade = pin.grade
    return replace(card, score=total, grade=grade, breakdown=lines)


def stage_pinned(overrides: Iterable[Override], as_of: datetime) -> bool:
    return any(o.kind == "stage" and o.active(as_of) for o in overrides)
