"""Per-lead reasons in words: the columns that moved this lead's score most, with their sign."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from numpy.typing import NDArray

from leadq.predictive.columns import clean

LONGEST_VALUE = 40
NEGLIGIBLE = 0.005

Matrix = NDArray[np.float64]


@dataclass(frozen=True)
class Explanation:
    """Raw output = base + the sum of each row's contributions, one per export column."""

    base: Matrix
    contributions: Matrix
    columns: list[str]

    @property
    def raw(self) -> Matrix:
        return np.asarray(self.base + self.contributions.sum(axis=1), dtype=np.float64)


@dataclass(frozen=True)
class Reason:
    """One column's value and how far it moved the raw output (log-odds)."""

    column: str
    value: str | None
    contribution: float

    @property
    def text(self) -> str:
        if self.value is None:
            return f"{self.column} is empty"
        shown = self.value if len(self.value) <= LONGEST_VALUE else self.value[:39] + "…"
        return f"{self.column} = {shown}"

    @property
    def phrase(self) -> str:
        """``Lead Source = Reference (+1.21)``."""
        return f"{self.text} ({self.contribution:+.2f})"


def reasons(explanation: Explanation, frame: pl.DataFrame, top: int = 3) -> list[list[Reason]]:
    """For each row, its ``top`` largest contributions, largest first."""
    values = clean(frame.select(explanation.columns))
    found = []
    for row, contributions in enumerate(explanation.contributions):
        order = np.argsort(-np.abs(contributions), kind="stable")[:top]
        found.append([Reason(explanation.columns[i], values[row, int(i)], float(contributions[i]))
                      for i in order if abs(contributions[i]) >= NEGLIGIBLE])  # fmt: skip
    return found
