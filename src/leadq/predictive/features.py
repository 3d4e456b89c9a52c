"""Turn an export's columns into numbers a model can learn from, remembering where each came from.

Categories become codes (rare ones share an ``other`` code, missing stays missing), yes/no
becomes 1/0, a column with one value where filled says whether it is filled (1/0), and a date
becomes its month, weekday, hour (when it has times) and age in days,
counted back from the newest date seen in training so that scoring the same row twice gives the
same answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Self

import numpy as np
import polars as pl
from numpy.typing import NDArray
from sklearn.base import BaseEstimator, TransformerMixin

from leadq.predictive.columns import TRUE, ColumnProfile, Kind, clean, dates, numbers

OTHER = "other"


@dataclass(frozen=True)
class Feature:
    """One model input: its name, the export column it comes from, and whether it is a code."""

    name: str
    column: str
    categorical: bool


class LeadFeatures(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """A scikit-learn transformer from a frame of export text to a float matrix (NaN = missing)."""

    def __init__(self, profiles: tuple[ColumnProfile, ...] = (), min_category_rows: int = 10):
        self.profiles = profiles
        self.min_category_rows = min_category_rows

    def fit(self, X: pl.DataFrame, y: Any = None) -> Self:
        frame = clean(X.select(p.name for p in self.profiles))
        self.categories_: dict[str, list[str]] = {}
        self.reference_: datetime | None = None
        self.timed_: set[str] = set()
        for profile in self.profiles:
            values = frame[profile.name]
            if profile.kind is Kind.CATEGORY:
                self.categories_[profile.name] = self._frequent(values)
            elif profile.kind is Kind.DATE:
                parsed = dates(values, profile.date_format or "")
                newest = parsed.max()
                if isinstance(newest, datetime):
                    newest = newest.replace(tzinfo=UTC)
                    self.reference_ = max(self.reference_ or newest, newest)
                if bool((parsed.dt.hour() + parsed.dt.minute() > 0).any()):
                    self.timed_.add(profile.name)
        self.features_ = [f for profile in self.profiles for f in self._features(profile)]
        return self

    def _frequent(self, values: pl.Series) -> list[str]:
        counts = values.drop_nulls().value_counts(sort=True)
        kept = counts.filter(pl.col("count") >= self.min_category_rows)
        return [str(v) for v in kept[values.name].to_list()] + [OTHER]

    def _features(self, profile: ColumnProfile) -> list[Feature]:
        name = profile.name
        if profile.kind is Kind.DATE:
            parts = ["month", "weekday", "age in days"]
            parts += ["hour"] if name in self.timed_ else []
            return [Feature(f"{name}: {part}", name, False) for part in parts]
        return [Feature(name, name, profile.kind is Kind.CATEGORY)]

    def transform(self, X: pl.DataFrame) -> NDArray[np.float64]:
        frame = clean(X.select(p.name for p in self.profiles))
        blocks = [self._column(profile, frame[profile.name]) for profile in self.profiles]
        if not blocks:
            return np.empty((len(X), 0))
        return np.column_stack([b for block in blocks for b in block]).astype(np.float64)

    def _column(self, profile: ColumnProfile, values: pl.Series) -> list[NDArray[np.float64]]:
        if profile.kind is Kind.NUMBER:
            return [numbers(values, profile.decimal_comma).to_numpy().astype(np.float64)]
        if profile.kind is Kind.BOOLEAN:
            return [_flags(values)]
        if profile.kind is Kind.PRESENCE:
            return [values.is_not_null().cast(pl.Float64).to_numpy()]
        if profile.kind is Kind.DATE:
            return self._date_parts(profile, values)
        return [self._codes(profile.name, values)]

    def _codes(self, name: str, values: pl.Series) -> NDArray[np.float64]:
        levels = self.categories_[name]
        index = {level: float(code) for code, level in enumerate(levels)}
        other = index[OTHER]
        return np.array([np.nan if v is None else index.get(v, other) for v in values.to_list()])

    def _date_parts(self, profile: ColumnProfile, values: pl.Series) -> list[NDArray[np.float64]]:
        parsed = dates(values, profile.date_format or "")
        reference = (self.reference_ or datetime(1970, 1, 1, tzinfo=UTC)).timestamp()
        seconds = parsed.dt.replace_time_zone("UTC").dt.epoch("s").cast(pl.Float64)
        parts = [parsed.dt.month(), parsed.dt.weekday(), (reference - seconds) / 86400.0]
        if profile.name in self.timed_:
            parts.append(parsed.dt.hour())
        return [part.cast(pl.Float64).to_numpy() for part in parts]

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.features_]

    @property
    def categorical(self) -> list[int]:
        return [i for i, f in enumerate(self.features_) if f.categorical]


def _flags(values: pl.Series) -> NDArray[np.float64]:
    """Yes/no text as 1.0 / 0.0, missing as NaN."""
    flag = (
        pl.when(pl.col("v").is_null())
        .then(None)
        .otherwise(pl.col("v").str.to_lowercase().is_in(TRUE))
    )
    return pl.DataFrame({"v": values}).select(flag.cast(pl.Float64)).to_series().to_numpy()
