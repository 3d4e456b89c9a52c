"""How good a model is, in the terms a sales team decides by.

Everything here is computed from out-of-fold probabilities, so the figures describe leads the
model had not seen: ROC AUC, PR AUC, Brier score, calibration, lift and conversion by decile, the
share of conversions a team with capacity for the top 10 / 20 / 30 % would catch, and plain
segment insights.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
from numpy.typing import NDArray
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score, roc_curve

from leadq.predictive.columns import ColumnProfile, Kind, clean, numbers

CAPACITIES = (0.1, 0.2, 0.3)
SEGMENT_MIN_SHARE = 0.02
SEGMENT_MIN_ROWS = 30
SEGMENTS_SHOWN = 12

Probabilities = NDArray[np.float64]


def metrics(y: NDArray[np.int8], probability: Probabilities) -> dict[str, Any]:
    false_positive, true_positive, _ = roc_curve(y, probability)
    step = max(1, len(false_positive) // 200)
    return {
        "rows": len(y), "conversions": int(y.sum()), "base_rate": float(y.mean()),
        "roc_auc": float(roc_auc_score(y, probability)),
        "pr_auc": float(average_precision_score(y, probability)),
        "brier": float(brier_score_loss(y, probability)),
        "roc_curve": {"fpr": false_positive[::step].round(4).tolist(),
                      "tpr": true_positive[::step].round(4).tolist()},
        "calibration": calibration(y, probability),
        "deciles": deciles(y, probability),
        "captured": {f"top_{round(c * 100)}": captured(y, probability, c) for c in CAPACITIES},
    }  # fmt: skip


def calibration(
    y: NDArray[np.int8], probability: Probabilities, bins: int = 10
) -> list[dict[str, float]]:
    """Predicted against observed conversion, in bins of equal lead counts."""
    order = np.argsort(probability, kind="stable")
    return [{"predicted": float(probability[part].mean()), "observed": float(y[part].mean()),
             "leads": len(part)} for part in np.array_split(order, bins) if len(part)]  # fmt: skip


def deciles(y: NDArray[np.int8], probability: Probabilities) -> list[dict[str, float]]:
    """From the best-scored tenth down: conversion rate, lift, and the conversions caught so far."""
    order = np.argsort(-probability, kind="stable")
    base, total, caught, rows = float(y.mean()), max(int(y.sum()), 1), 0, []
    for number, part in enumerate(np.array_split(order, 10), start=1):
        if not len(part):
            continue
        rate = float(y[part].mean())
        caught += int(y[part].sum())
        rows.append({"decile": number, "leads": len(part), "conversions": int(y[part].sum()),
                     "conversion_rate": rate, "lift": rate / base if base else 0.0,
                     "cumulative_captured": caught / total,
                     "min_probability": float(probability[part].min())})  # fmt: skip
    return rows


def captured(y: NDArray[np.int8], probability: Probabilities, capacity: float) -> float:
    """Share of all conversions among the best-scored ``capacity`` share of leads."""
    calls = max(1, round(len(y) * capacity))
    best = np.argsort(-probability, kind="stable")[:calls]
    return float(y[best].sum() / max(int(y.sum()), 1))


def importance(contributions: NDArray[np.float64], columns: list[str]) -> list[dict[str, Any]]:
    """Mean absolute contribution per column, as a share of all."""
    strength = np.abs(contributions).mean(axis=0)
    total = float(strength.sum()) or 1.0
    ranked = sorted(zip(columns, strength, strict=True), key=lambda pair: -pair[1])
    return [{"column": name, "mean_abs_contribution": float(value), "share": float(value) / total}
            for name, value in ranked]  # fmt: skip


def segments(frame: pl.DataFrame, profiles: tuple[ColumnProfile, ...],
             y: NDArray[np.int8]) -> list[dict[str, Any]]:  # fmt: skip
    """Groups that convert far above or below the base rate, said in words."""
    cleaned = clean(frame.select(p.name for p in profiles))
    base = float(y.mean())
    least = max(SEGMENT_MIN_ROWS, round(len(y) * SEGMENT_MIN_SHARE))
    found: list[dict[str, Any]] = []
    for profile in profiles:
        for label, mask in _groups(cleaned[profile.name], profile):
            rows = int(mask.sum())
            if rows < least or rows == len(y) or not base:
                continue
            rate = float(y[mask].mean())
            found.append({"column": profile.name, "segment": label, "leads": rows,
                          "conversion_rate": rate, "ratio": rate / base})  # fmt: skip
    found.sort(key=lambda s: -abs(float(np.log(max(float(s["ratio"]), 1e-3)))))
    for item in found:
        item["insight"] = (f"{item['column']} {item['segment']} converts at {item['ratio']:.1f}×"
                           f" the base rate ({item['conversion_rate']:.0%} of {item['leads']}"
                           f" leads)")  # fmt: skip
    return found[:SEGMENTS_SHOWN]


def _groups(values: pl.Series, profile: ColumnProfile) -> list[tuple[str, NDArray[np.bool_]]]:
    if profile.kind is Kind.NUMBER:
        parsed = numbers(values, profile.decimal_comma)
        low, high = parsed.quantile(0.25), parsed.quantile(0.75)
        if low is None or high is None or low == high:
            return []
        return [(f"≤ {low:,.4g} (bottom quarter)", _mask(parsed <= low)),
                (f"≥ {high:,.4g} (top quarter)", _mask(parsed >= high))]  # fmt: skip
    if profile.kind in (Kind.CATEGORY, Kind.BOOLEAN, Kind.PRESENCE):
        levels = values.drop_nulls().unique().sort().to_list()
        return [*((f"= {level}", _mask(values == level)) for level in levels),
                ("is empty", values.is_null().to_numpy())]  # fmt: skip
    return []


def _mask(condition: pl.Series) -> NDArray[np.bool_]:
    return condition.fill_null(False).to_numpy()
