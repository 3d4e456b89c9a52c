"""Has the model stopped meaning what it meant? Distribution shift (population stability index)
of scores, grades and input columns against the model's reference period, and calibration:
realised conversion against what each grade or probability band promised.

Pure: the caller gathers the values of both periods and the outcomes that have matured.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

BINS = 10
TOP_CATEGORIES = 10
SMOOTHING = 1e-4
MIN_LEADS = 50
MIN_GROUP = 30
Z_LIMIT = 3.0
EMPTY, OTHER = "(empty)", "(other)"
NUMERIC_SHARE = 0.9


@dataclass(frozen=True)
class Limits:
    """When a check breaches: shift above ``psi``; a gap in conversion of at least ``gap``
    that chance would explain less than once in a few hundred (``z`` ≥ 3)."""

    psi: float = 0.25
    gap: float = 0.10
    min_leads: int = MIN_LEADS


@dataclass(frozen=True)
class Finding:
    """One check of one model: ``kind`` is score, grade, probability, column or calibration."""

    kind: str
    subject: str | None
    value: float
    limit: float
    breached: bool
    leads: int
    reference: int
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.subject or ''}"


def psi(reference: Sequence[Any], current: Sequence[Any]) -> tuple[float, dict[str, Any]]:
    """The population stability index of ``current`` against ``reference``, with the shares
    per bin: numbers in the reference's deciles, anything else by value (its ten commonest,
    the rest pooled)."""
    if _numeric(reference):
        bins, ref, cur = _number_bins(reference, current)
    else:
        bins, ref, cur = _category_bins(reference, current)
    value = sum((c - r) * math.log(c / r) for r, c in zip(ref, cur, strict=True))
    shares = {
        name: {"reference": round(r, 4), "current": round(c, 4)}
        for name, r, c in zip(bins, ref, cur, strict=True)
    }
    return float(value), shares


def shift(
    kind: str, subject: str | None, reference: Sequence[Any], current: Sequence[Any], limits: Limits
) -> Finding | None:
    """The shift check, or None when either period is too small to judge."""
    if len(reference) < limits.min_leads or len(current) < limits.min_leads:
        return None
    value, shares = psi(reference, current)
    return Finding(
        kind,
        subject,
        round(value, 4),
        limits.psi,
        value > limits.psi,
        len(current),
        len(reference),
        {"bins": shares},
    )


def calibration(
    groups: Sequence[str],
    promised: Sequence[float],
    outcomes: Sequence[int],
    limits: Limits,
    subject: str,
) -> Finding | None:
    """Realised conversion per group against its promise; breached when a group of at least
    ``MIN_GROUP`` leads is off by ``gap`` or more and by ``Z_LIMIT`` standard errors."""
    if len(outcomes) < limits.min_leads:
        return None
    rows, worst, breached = [], 0.0, False
    for group in sorted(set(groups)):
        index = [i for i, g in enumerate(groups) if g == group]
        n = len(index)
        promise = float(np.mean([promised[i] for i in index]))
        realised = float(np.mean([outcomes[i] for i in index]))
        spread = math.sqrt(max(promise * (1 - promise), 1e-6) / n)
        z = abs(realised - promise) / spread
        off = n >= MIN_GROUP and abs(realised - promise) >= limits.gap and z >= Z_LIMIT
        breached |= off
        worst = max(worst, abs(realised - promise) if n >= MIN_GROUP else 0.0)
        rows.append(
            {
                "group": group,
                "leads": n,
                "promised": round(promise, 4),
                "realised": round(realised, 4),
                "z": round(z, 2),
                "breached": off,
            }
        )
    return Finding(
        "calibration",
        subject,
        round(worst, 4),
        limits.gap,
        breached,
        len(outcomes),
        0,
        {"groups": rows},
    )


def deciles(probabilities: Sequence[float]) -> list[str]:
    """Each probability's tenth of the cohort, ``d01`` (lowest) to ``d10``."""
    order = np.argsort(np.asarray(probabilities, dtype=np.float64), kind="stable")
    labels = [""] * len(order)
    for rank, i in enumerate(order):
        labels[int(i)] = f"d{rank * 10 // len(order) + 1:02d}"
    return labels


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _numeric(values: Sequence[Any]) -> bool:
    filled = [v for v in values if v is not None and v != ""]
    return bool(filled) and sum(_number(v) is not None for v in filled) >= NUMERIC_SHARE * len(
        filled
    )


def _number_bins(
    reference: Sequence[Any], current: Sequence[Any]
) -> tuple[list[str], list[float], list[float]]:
    ref = np.array([n for n in map(_number, reference) if n is not None], dtype=np.float64)
    edges: Any = np.unique(np.quantile(ref, np.linspace(0, 1, BINS + 1)[1:-1])) if len(ref) else []
    names = [f"< {edges[0]:g}"] if len(edges) else ["all"]
    names += [f"{a:g} – {b:g}" for a, b in itertools.pairwise(edges)]
    names += [f"≥ {edges[-1]:g}"] if len(edges) else []
    names.append(EMPTY)

    def shares(values: Sequence[Any]) -> list[float]:
        counts = Counter(
            len(names) - 1
            if (n := _number(v)) is None
            else int(np.searchsorted(edges, n, side="right"))
            for v in values
        )
        return _smoothed([counts.get(i, 0) for i in range(len(names))], len(values))

    return names, shares(reference), shares(current)


def _category_bins(
    reference: Sequence[Any], current: Sequence[Any]
) -> tuple[list[str], list[float], list[float]]:
    def name(value: Any) -> str:
        return EMPTY if value is None or value == "" else str(value)

    common = [v for v, _ in Counter(map(name, reference)).most_common(TOP_CATEGORIES)]
    names = [*common, OTHER]

    def shares(values: Sequence[Any]) -> list[float]:
        counts = Counter(n if (n := name(v)) in common else OTHER for v in values)
        return _smoothed([counts.get(n, 0) for n in names], len(values))

    return names, shares(reference), shares(current)


def _smoothed(counts: list[int], total: int) -> list[float]:
    """Shares with a floor, so an empty bin on one side gives a large but finite index."""
    raw = [max(c / max(total, 1), SMOOTHING) for c in counts]
    whole = sum(raw)
    return [r / whole for r in raw]
