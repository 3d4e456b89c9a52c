"""Per-lead reasons in words: the columns that moved this lead's score most, with their sign."""

from __future__ import annotations

import numpy as np
import polars as pl

from leadq.predictive.columns import clean
from leadq.predictive.scorer import Explanation

LONGEST_VALUE = 40


def _value(value: str | None) -> str:
    if value is None:
        return "is empty"
    shown = value if len(value) <= LONGEST_VALUE else value[: LONGEST_VALUE - 1] + "…"
    return f"= {shown}"


def _phrase(column: str, value: str | None, contribution: float) -> str:
    return f"{column} {_value(value)} ({contribution:+.2f})"


def reasons(explanation: Explanation, frame: pl.DataFrame, top: int = 3) -> list[list[str]]:
    """For each row, up to ``top`` phrases such as ``Lead Source = Reference (+1.21)``."""
    values = clean(frame.select(explanation.columns))
    phrases = []
    for row, contributions in enumerate(explanation.contributions):
        order = np.argsort(-np.abs(contributions), kind="stable")[:top]
        phrases.append([_phrase(explanation.columns[i], values[row, int(i)], contributions[i])
                        for i in order if abs(contributions[i]) >= 0.005])  # fmt: skip
    return phrases
