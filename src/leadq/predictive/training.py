"""Train a lead scorer on an export: pick the columns, guard against leakage, fit, report.

The steps are pure: the caller reads the file and writes the model directory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl
from sklearn.metrics import roc_auc_score

from leadq.predictive import evaluation, leakage
from leadq.predictive.columns import (
    ColumnProfile,
    TargetError,
    clean,
    dates,
    looks_open,
    outcomes,
    profile,
)
from leadq.predictive.scorer import BASELINES, LeadScorer

FEW_ROWS = 500
FEW_OF_A_CLASS = 50
Outcomes = np.ndarray[Any, np.dtype[np.int8]]


@dataclass(frozen=True)
class TrainingPlan:
    """What the user asked for: the outcome column and the columns to leave out or keep."""

    target: str
    positive: str | None = None
    exclude: tuple[str, ...] = ()
    allow: tuple[str, ...] = ()
    id_column: str | None = None
    time_column: str | None = None
    random_state: int = 0
    undecided: tuple[str, ...] = ()
    """Outcome labels of records still open (``--open``): left out, neither won nor lost."""
    strict: bool = False
    """Leave out the columns the guard keeps for review too (``--strict``)."""


@dataclass
class Selection:
    """The columns the model learns from, and every other one with the reason it was left out."""

    used: list[ColumnProfile] = field(default_factory=list)
    excluded: list[dict[str, str]] = field(default_factory=list)
    kept_by_allow: list[dict[str, str]] = field(default_factory=list)
    review: list[dict[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Trained:
    scorer: LeadScorer
    report: dict[str, Any]
    warnings: list[str]


def _check_names(frame: pl.DataFrame, plan: TrainingPlan) -> None:
    named = [plan.target, *plan.exclude, *plan.allow, plan.id_column, plan.time_column]
    unknown = [name for name in named if name is not None and name not in frame.columns]
    if unknown:
        shown = ", ".join(repr(c) for c in frame.columns[:12])
        raise TargetError(f"no column {unknown[0]!r} in the file (columns: {shown}…)")


def target_of(frame: pl.DataFrame, plan: TrainingPlan) -> tuple[pl.DataFrame, Outcomes, list[str]]:
    """Rows with a known outcome, their 0/1 outcomes, and a warning for rows without one."""
    _check_names(frame, plan)
    raw = clean(frame.select(plan.target)).to_series()
    try:
        labels = outcomes(raw, plan.positive, plan.undecided)
    except TargetError as exc:
        raise TargetError(f"outcome column {plan.target!r}: {exc}") from None
    known = labels.is_not_null().to_numpy()
    notes = _open_notes(raw, plan)
    missing = int(raw.is_null().sum())
    if missing:
        notes.append(f"{missing} rows have no {plan.target!r} value and were left out")
    y = labels.filter(pl.Series(known)).to_numpy().astype(np.int8)
    if len(np.unique(y)) < 2:
        raise TargetError(f"outcome column {plan.target!r} has a single class: a model needs"
                          " converted and not converted leads")  # fmt: skip
    return frame.filter(pl.Series(known)), y, notes


def _open_notes(raw: pl.Series, plan: TrainingPlan) -> list[str]:
    """How many open records were left out; or, without ``--open``, a warning when labels
    counted as not converted look like stages still open."""
    lowered = raw.drop_nulls().str.to_lowercase()
    if plan.undecided:
        open_ = {label.strip().lower() for label in plan.undecided}
        count = int(lowered.is_in(sorted(open_)).sum())
        return [f"{count} rows are still open ({', '.join(plan.undecided)}) and were left out"
                " of training"]  # fmt: skip
    if plan.positive is None:
        return []
    wanted = plan.positive.strip().lower()
    suspects = sorted({v for v in lowered.unique().to_list() if v != wanted and looks_open(v)})
    if not suspects:
        return []
    count = int(lowered.is_in(suspects).sum())
    shown = ", ".join(repr(s) for s in suspects)
    return [
        f"{count} rows labelled {shown} count as not converted, but look still open:"
        f" --open {','.join(suspects)} leaves undecided rows out"
    ]


def select_columns(frame: pl.DataFrame, y: Outcomes,
                   plan: TrainingPlan) -> Selection:  # fmt: skip
    chosen = Selection()
    named = {plan.target: "the outcome", plan.id_column: "the lead identifier (--id)",
             plan.time_column: "the time column (--time-column)"}  # fmt: skip
    named.update(dict.fromkeys(plan.exclude, "excluded with --exclude"))
    candidates = [c for c in frame.columns if c not in named]
    chosen.excluded += [{"column": c, "reason": r} for c, r in named.items() if c]
    cleaned = clean(frame.select(candidates))
    profiles = [profile(cleaned[name]) for name in candidates]
    for item in profiles:
        if not item.usable:
            chosen.excluded.append({"column": item.name, "reason": _unusable(item)})
    created = clean(frame.select(plan.time_column)).to_series() if plan.time_column else None
    outcome = plan.positive or plan.target
    verdicts = {v.column: v for v in leakage.screen(cleaned, profiles, y, created, outcome)}
    for item in (p for p in profiles if p.usable):
        _decide(item, _suspicion(item.name, verdicts, cleaned[item.name]), chosen, plan)
    chosen.warnings += _guard_warnings(chosen)
    return chosen


def _decide(item: ColumnProfile, suspicion: tuple[str, str] | None, chosen: Selection,
            plan: TrainingPlan) -> None:  # fmt: skip
    """Use the column, leave it out, or keep it for review, as the evidence and the flags say."""
    if suspicion is None:
        chosen.used.append(item)
        return
    verdict, reason = suspicion
    entry = {"column": item.name, "reason": reason}
    if item.name in plan.allow:
        chosen.kept_by_allow.append(entry)
        chosen.used.append(item)
    elif verdict == "review" and plan.strict:
        chosen.excluded.append({"column": item.name, "reason": f"--strict: {reason}"})
    elif verdict == "review":
        chosen.review.append(entry)
        chosen.used.append(item)
    else:
        chosen.excluded.append(entry)


def _guard_warnings(chosen: Selection) -> list[str]:
    warnings = []
    leaky = [e["column"] for e in chosen.excluded if e["reason"].startswith("leakage")]
    if leaky:
        warnings.append("leakage guard left out " + ", ".join(repr(c) for c in leaky)
                        + " (filled in after the sales conversation?); --allow COLUMN keeps"
                        " one")  # fmt: skip
    if chosen.review:
        warnings.append("kept for review: " + ", ".join(repr(e["column"]) for e in chosen.review)
                        + " (check they were known at the first contact); --strict leaves them"
                        " out, --exclude COLUMN leaves one out")  # fmt: skip
    return warnings


def _unusable(item: ColumnProfile) -> str:
    return {
        "identifier": "identifier-like: a different value on nearly every row",
        "constant": "the same value on every row",
        "empty": "empty on every row",
    }[item.kind]


def _suspicion(column: str, verdicts: dict[str, leakage.Verdict],
               values: pl.Series) -> tuple[str, str] | None:  # fmt: skip
    """``("out", why)``, ``("review", why)`` or nothing to say about a usable column."""
    verdict = verdicts.get(column)
    if verdict is not None and verdict.left_out:
        return "out", "leakage: " + "; ".join(verdict.evidence)
    if leakage.sensitive(column):
        return "out", "sensitive attribute: left out unless --allow names it"
    proxy = leakage.proxy_of(column, values)
    if proxy is not None:
        return "out", (
            f"stands in for a sensitive attribute, {proxy}: left out unless --allow names it"
        )
    if verdict is not None:
        return "review", "kept for review: " + "; ".join(verdict.review)
    return None


def train(frame: pl.DataFrame, plan: TrainingPlan) -> Trained:
    """Fit a scorer on an export's text cells and describe it in a report."""
    rows, y, notes = target_of(frame, plan)
    selection = select_columns(rows, y, plan)
    notes += selection.warnings + _size_warnings(y)
    if not selection.used:
        raise TargetError("no column is left to learn from")
    profiles = tuple(selection.used)
    scorer = LeadScorer(profiles, random_state=plan.random_state).fit(rows, y)
    explanation = scorer.explain(rows)
    report = {
        "target": plan.target, "positive": plan.positive, "id_column": plan.id_column,
        "model": {"chosen": scorer.kind_, "cv_roc_auc": scorer.cv_auc_,
                  "baselines": {BASELINES[k]: scorer.cv_auc_[k] for k in BASELINES
                                if k in scorer.cv_auc_},
                  "calibration": {"method": "platt", "slope": scorer.calibration_[0],
                                  "intercept": scorer.calibration_[1]}},
        "metrics": evaluation.metrics(y, scorer.oof_probability_),
        "columns": [{"column": p.name, "kind": str(p.kind), "filled": p.filled}
                    for p in profiles],
        "excluded": selection.excluded, "kept_by_allow": selection.kept_by_allow,
        "review": selection.review,
        "decisions": {"exclude": list(plan.exclude), "allow": list(plan.allow),
                      "strict": plan.strict, "open": list(plan.undecided)},
        "importance": evaluation.importance(explanation.contributions, explanation.columns),
        "segments": evaluation.segments(rows, profiles, y),
        "warnings": notes,
    }  # fmt: skip
    if plan.time_column:
        report["newest_holdout"] = _newest_holdout(rows, y, profiles, plan)
    return Trained(scorer, report, notes)


def _size_warnings(y: Outcomes) -> list[str]:
    fewest = int(min(y.sum(), len(y) - y.sum()))
    if len(y) < FEW_ROWS or fewest < FEW_OF_A_CLASS:
        return [f"only {len(y)} rows ({fewest} in the smaller class): the figures are rough and"
                f" the model may not generalise; {FEW_ROWS}+ leads with {FEW_OF_A_CLASS}+"
                " conversions and as many losses give a steadier model"]  # fmt: skip
    return []


def _newest_holdout(rows: pl.DataFrame, y: Outcomes, profiles: tuple[ColumnProfile, ...],
                    plan: TrainingPlan) -> dict[str, Any]:  # fmt: skip
    """Train on the older 80 % of leads and score the newest 20 %: does the model age well?"""
    column = clean(rows.select(plan.time_column)).to_series()
    stamps = profile(column)
    if stamps.date_format is None:
        return {"error": f"{plan.time_column!r} does not hold dates"}
    when = dates(column, stamps.date_format)
    order = np.argsort(when.fill_null(when.min()).to_numpy(), kind="stable")
    cut = int(len(order) * 0.8)
    older, newest = order[:cut], order[cut:]
    if len(np.unique(y[older])) < 2 or len(np.unique(y[newest])) < 2:
        return {"error": "the newest fifth or the rest has a single class"}
    index = pl.Series(older)
    scorer = LeadScorer(profiles, random_state=plan.random_state).fit(rows[index], y[older])
    probability = scorer.predict_proba(rows[pl.Series(newest)])[:, 1]
    return {"train_rows": len(older), "holdout_rows": len(newest),
            "roc_auc": float(roc_auc_score(y[newest], probability))}  # fmt: skip
