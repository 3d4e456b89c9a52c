"""``leadq monitor``: check each live model against its reference period.

A model's reference period is the ``monitor_reference_days`` of leads that arrived before it
went live (or, when too few did, the first such days after). Each lead is seen as of its first
day (arrival + 1 day), so a lead of last week and one of last quarter are compared alike. Shift
checks look at the leads of the last ``monitor_window_days``; calibration looks at leads old
enough for their outcome to have matured (``monitor_maturity_days``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadq.config import Settings
from leadq.domain import monitoring
from leadq.domain.monitoring import Finding, Limits
from leadq.domain.scoring.model import FRAMEWORK_PREFIX, ScoringModel
from leadq.predictive.history import Past
from leadq.services.predictive import model as predictive
from leadq.services.predictive import registry
from leadq.services.predictive.history import arrivals, features_at
from leadq.services.scoring import backtest
from leadq.services.scoring import rescoring as scoring
from leadq.store.tables import PredictiveModelVersion, ScoringModelVersion

FIRST_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Periods:
    window: timedelta
    reference: timedelta
    maturity: timedelta

    @classmethod
    def of(cls, settings: Settings) -> Periods:
        return cls(
            timedelta(days=settings.monitor_window_days),
            timedelta(days=settings.monitor_reference_days),
            timedelta(days=settings.monitor_maturity_days),
        )


@dataclass
class ModelReport:
    """What one run found for one live model; ``notes`` say which checks could not run."""

    model: str
    kind: str
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Cohort:
    """Leads that arrived in a period, each with its first-day moment and matured outcome."""

    moments: dict[int, datetime]
    outcomes: dict[int, int]

    @property
    def ids(self) -> list[int]:
        return sorted(self.moments)


def cohort(
    pasts: Iterable[Past], start: datetime, end: datetime, now: datetime, maturity: timedelta
) -> Cohort:
    moments, outcomes = {}, {}
    for past in pasts:
        if start <= past.arrived < end:
            moments[past.lead_id] = min(past.arrived + FIRST_DAY, now)
            won = past.converted_at is not None and past.converted_at <= past.arrived + maturity
            outcomes[past.lead_id] = int(won)
    return Cohort(moments, outcomes)


def reference_period(
    pasts: Sequence[Past], live_since: datetime, periods: Periods, minimum: int
) -> tuple[datetime, datetime]:
    before = sum(live_since - periods.reference <= p.arrived < live_since for p in pasts)
    if before >= minimum:
        return live_since - periods.reference, live_since
    return live_since, live_since + periods.reference


def check_models(
    session: Session, now: datetime, periods: Periods, limits: Limits
) -> list[ModelReport]:
    """Every live model's checks: the active rules model and the predictive champion."""
    live = _live(session, now)
    pasts = arrivals(session) if live else []
    return [_checked(pasts, since, now, periods, limits, report, reader)
            for report, since, reader in live]  # fmt: skip


def _live(session: Session, now: datetime) -> list[tuple[ModelReport, datetime, _Reader]]:
    """Each live model, when it went live, and how to read its values."""
    found: list[tuple[ModelReport, datetime, _Reader]] = []
    rules = session.scalars(select(ScoringModelVersion).where(ScoringModelVersion.active)).first()
    if rules is not None:
        model = scoring.model_of(rules)
        found.append((ModelReport(model.ref, "rules"), rules.activated_at or rules.created_at,
                      _RulesReader(session, model)))  # fmt: skip
    champion = session.scalars(
        select(PredictiveModelVersion).where(PredictiveModelVersion.role == registry.CHAMPION)
    ).first()
    if champion is not None:
        found.append((ModelReport(f"{champion.name}@{champion.version}", "predictive"),
                      champion.activated_at or champion.created_at,
                      _PredictiveReader(session, registry.model_of(champion), now)))  # fmt: skip
    return found


class _RulesReader:
    """Scores, grades and the profile fields a rules model looks at, as of each moment."""

    def __init__(self, session: Session, model: ScoringModel) -> None:
        self.session, self.model = session, model
        self.columns = sorted(
            f for f in model.profile_fields() if not f.startswith(FRAMEWORK_PREFIX)
        )

    def read(self, group: Cohort, now: datetime) -> dict[str, list[Any]]:
        cards = backtest.replay(self.session, self.model, group.moments, group.ids)
        frame = features_at(self.session, group.moments, now, types=[])
        values: dict[str, list[Any]] = {
            "score": [c.score for c in cards],
            "grade": [c.grade for c in cards],
        }
        for column in self.columns:
            values[f"column:{column}"] = _column(frame, column)
        return values

    def promises(self, reference: Cohort, values: dict[str, list[Any]]) -> dict[str, float]:
        """What each grade promised: its conversion rate over the matured reference."""
        by_grade: dict[str, list[int]] = {}
        for grade, lead_id in zip(values["grade"], reference.ids, strict=True):
            by_grade.setdefault(grade, []).append(reference.outcomes[lead_id])
        return {grade: sum(won) / len(won) for grade, won in by_grade.items()}


class _PredictiveReader:
    """Probabilities and the model's input columns, as of each moment."""

    def __init__(self, session: Session, model: predictive.PredictiveModel, now: datetime) -> None:
        self.session, self.model = session, model
        self.columns = list(model.columns)

    def read(self, group: Cohort, now: datetime) -> dict[str, list[Any]]:
        frame = features_at(self.session, group.moments, now)
        values: dict[str, list[Any]] = {"probability": [], "grade": []}
        if not frame.is_empty():
            found = predictive.predicted(self.model, frame)
            values["probability"] = [float(p) for p in found["probability"]]
        for column in self.columns:
            values[f"column:{column}"] = _column(frame, column)
        return values


_Reader = _RulesReader | _PredictiveReader


def _column(frame: Any, column: str) -> list[Any]:
    return list(frame[column]) if column in frame.columns else [None] * frame.height


def _checked(
    pasts: Sequence[Past],
    live: datetime,
    now: datetime,
    periods: Periods,
    limits: Limits,
    report: ModelReport,
    reader: _Reader,
) -> ModelReport:
    start, end = reference_period(pasts, live, periods, limits.min_leads)
    if end > now - periods.window:
        report.notes.append(
            "its reference period has not ended yet: shift is checked from"
            f" {(end + periods.window).date().isoformat()}"
        )
    else:
        reference = reader.read(cohort(pasts, start, end, now, periods.maturity), now)
        current = reader.read(cohort(pasts, now - periods.window, now, now, periods.maturity), now)
        _shifts(report, reference, current, limits)
    _calibration(report, pasts, (start, end), now, periods, limits, reader)
    return report


def _shifts(
    report: ModelReport,
    reference: dict[str, list[Any]],
    current: dict[str, list[Any]],
    limits: Limits,
) -> None:
    for name, values in reference.items():
        kind, _, subject = name.partition(":")
        if not values or (kind == "grade" and report.kind == "predictive"):
            continue
        found = monitoring.shift(kind, subject or None, values, current[name], limits)
        if found is None:
            report.notes.append(
                f"too few leads to judge {name.replace(':', ' ')}"
                f" ({len(current[name])} new, {len(values)} in the reference)"
            )
        else:
            report.findings.append(found)


def _calibration(
    report: ModelReport,
    pasts: Sequence[Past],
    span: tuple[datetime, datetime],
    now: datetime,
    periods: Periods,
    limits: Limits,
    reader: _Reader,
) -> None:
    matured_end = now - periods.maturity
    recent = cohort(pasts, matured_end - periods.reference, matured_end, now, periods.maturity)
    values = reader.read(recent, now) if recent.moments else {}
    outcomes = [recent.outcomes[i] for i in recent.ids]
    found: Finding | None = None
    if isinstance(reader, _RulesReader) and span[1] <= matured_end and values:
        reference = cohort(pasts, *span, now, periods.maturity)
        promised = reader.promises(reference, reader.read(reference, now))
        kept = [i for i, grade in enumerate(values["grade"]) if grade in promised]
        grades = [
            values["grade"][i] for i in kept
        ]  # a grade the reference never saw promised nothing
        found = monitoring.calibration(
            grades, [promised[g] for g in grades], [outcomes[i] for i in kept], limits, "grade"
        )
    elif isinstance(reader, _PredictiveReader) and values:
        probability = values["probability"]
        found = monitoring.calibration(
            monitoring.deciles(probability), probability, outcomes, limits, "decile"
        )
    if found is None:
        report.notes.append(
            "calibration waits for matured outcomes"
            f" ({len(outcomes)} leads older than {periods.maturity.days} days)"
        )
    else:
        report.findings.append(found)
