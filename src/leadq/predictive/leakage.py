"""The leakage guard: columns that would not be known when a new lead has to be scored.

A CRM export is taken long after its leads arrived, so it mixes what was known at the first
contact with what the sales team wrote down during and after the conversation (a status, a
quality rating, tags, a loss reason). A model trained on the latter scores brilliantly on history
and is useless on a new lead. No data set's column names are listed here: a column is suspect
when the evidence below adds up.

- It predicts the outcome almost perfectly on its own.
- Its name speaks the CRM's post-conversation vocabulary (status, stage, quality, tags, …) and it
  carries any signal at all.
- It predicts the outcome strongly both by its values and by whether it is filled in at all.
- It is filled in on exactly the same rows as a column already found suspect.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import polars as pl
from numpy.typing import NDArray
from sklearn.metrics import roc_auc_score

from leadq.predictive.columns import ColumnProfile, Kind, dates, numbers, words

AFTER_CONTACT = frozenset({
    "status", "stage", "quality", "rating", "rated", "rank", "ranking", "grade", "graded",
    "score", "scored", "scoring", "index", "tag", "tags", "reason", "reasons", "outcome", "result",
    "won", "lost", "closed", "close", "converted", "conversion", "disposition", "last", "latest",
    "notable", "profile", "modified", "updated", "qualified", "disqualified", "opportunity", "deal",
})  # fmt: skip
SENSITIVE = frozenset({
    "age", "gender", "sex", "birth", "birthday", "born", "dob", "ethnicity", "ethnic", "race",
    "religion", "marital", "nationality", "disability", "pregnant", "pregnancy",
})  # fmt: skip
TITLES_OF_ADDRESS = frozenset({
    "mr", "mrs", "ms", "miss", "mx", "sir", "madam", "madame", "mme", "mlle", "monsieur",
    "mademoiselle", "herr", "frau", "sr", "sra", "srta", "senor", "senora", "signor", "signora",
    "pan", "pani", "panna", "domnul", "doamna", "domnisoara", "dl", "dna", "gospodin", "gospozha",
    "господин", "госпожа", "г-н", "г-жа",
})  # fmt: skip
"""Titles of address in the languages leadq's users write: most say a person's gender, so a
column of them stands in for gender even when no column is called that."""
GIVEN_NAME = ({"first", "name"}, {"given", "name"}, {"forename"}, {"firstname"})
"""Name tokens of a first-name column: first names stand in for gender."""
TITLES_SHARE = 0.8
NEAR_PERFECT = 0.90
ANY_SIGNAL = 0.53
STRONG = 0.75
FILLING_SIGNAL = 0.62
SAME_ROWS = 0.98
FOLDS = 5
BINS = 10
PRIOR_ROWS = 20.0


@dataclass(frozen=True)
class Suspect:
    """A column the guard would leave out, with the evidence in words."""

    column: str
    reasons: tuple[str, ...]
    power: float
    filling_power: float


def name_hints(column: str, vocabulary: frozenset[str] = AFTER_CONTACT) -> list[str]:
    return [word for word in words(column) if word in vocabulary]


def sensitive(column: str) -> bool:
    return bool(name_hints(column, SENSITIVE))


def proxy_of(column: str, values: pl.Series) -> str | None:
    """What sensitive attribute the column stands in for, if any: a column of titles of
    address (by its values, whatever it is called) or of first names (by its name) says gender;
    a birth date says age (``sensitive`` catches it by name)."""
    filled = values.drop_nulls()
    if len(filled):
        plain = filled.str.to_lowercase().str.strip_chars().str.strip_chars(".")
        titles = int(plain.is_in(sorted(TITLES_OF_ADDRESS)).sum())
        if titles >= TITLES_SHARE * len(filled):
            return "gender (its values are titles of address such as Mr or Ms)"
    tokens = set(words(column))
    if any(group <= tokens for group in GIVEN_NAME):
        return "gender (first names)"
    return None


def _auc(y: NDArray[np.int8], values: NDArray[np.float64]) -> float:
    if len(np.unique(values)) < 2:
        return 0.5
    auc = float(roc_auc_score(y, values))
    return max(auc, 1.0 - auc)


def _levels(values: pl.Series, profile: ColumnProfile) -> NDArray[np.int64]:
    """Each row's level: a category, a yes/no, or a tenth of the numbers; missing is a level."""
    if profile.kind in (Kind.NUMBER, Kind.DATE):
        if profile.kind is Kind.NUMBER:
            parsed = numbers(values, profile.decimal_comma)
        else:
            parsed = dates(values, profile.date_format or "").dt.epoch("s").cast(pl.Float64)
        ranks = parsed.rank("dense") / max(parsed.n_unique(), 1)
        text = (ranks * BINS).floor().cast(pl.Int64).cast(pl.String)
    else:
        text = values.str.to_lowercase()
    raw = text.fill_null("\x00missing").to_numpy()
    return np.unique(raw, return_inverse=True)[1].astype(np.int64)


def power(levels: NDArray[np.int64], y: NDArray[np.int8], seed: int = 0) -> float:
    """ROC AUC of the column alone: out-of-fold conversion rate of each row's level."""
    folds = np.random.default_rng(seed).permutation(len(y)) % FOLDS
    encoded = np.empty(len(y))
    base = float(y.mean())
    for fold in range(FOLDS):
        train, held = folds != fold, folds == fold
        seen = np.bincount(levels[train], minlength=levels.max() + 1).astype(float)
        won = np.bincount(levels[train], weights=y[train], minlength=levels.max() + 1)
        rates = (won + base * PRIOR_ROWS) / (seen + PRIOR_ROWS)
        encoded[held] = rates[levels[held]]
    return _auc(y, encoded)


def screen(frame: pl.DataFrame, profiles: Iterable[ColumnProfile],
           y: NDArray[np.int8]) -> list[Suspect]:  # fmt: skip
    """The usable columns of a cleaned export that look filled in after the sales conversation."""
    evidence: dict[str, tuple[list[str], float, float, NDArray[np.bool_]]] = {}
    for profile in profiles:
        if not profile.usable:
            continue
        values = frame[profile.name]
        missing = values.is_null().to_numpy()
        single = power(_levels(values, profile), y)
        filling = _auc(y, missing.astype(float))
        evidence[profile.name] = (_reasons(profile.name, single, filling), single, filling, missing)
    _same_rows(evidence)
    return [Suspect(name, tuple(reasons), single, filling)
            for name, (reasons, single, filling, _) in evidence.items() if reasons]  # fmt: skip


def _reasons(column: str, single: float, filling: float) -> list[str]:
    reasons = []
    if single >= NEAR_PERFECT:
        reasons.append(f"predicts the outcome almost perfectly on its own (ROC AUC {single:.2f})")
    hints = name_hints(column)
    if hints and max(single, filling) >= ANY_SIGNAL:
        reasons.append(f"its name says it is written during or after the sales conversation"
                       f" ({', '.join(hints)}) and it predicts the outcome (ROC AUC"
                       f" {max(single, filling):.2f})")  # fmt: skip
    if single >= STRONG and filling >= FILLING_SIGNAL:
        reasons.append(f"both its values (ROC AUC {single:.2f}) and whether it is filled in at all"
                       f" ({filling:.2f}) predict the outcome")  # fmt: skip
    return reasons


def _same_rows(evidence: dict[str, tuple[list[str], float, float, NDArray[np.bool_]]]) -> None:
    """Columns filled in on the same rows as a suspect one were filled in by the same hand."""
    suspects = [(name, item[3]) for name, item in evidence.items() if item[0]]
    for reasons, _, _, missing in evidence.values():
        share = missing.mean()
        if reasons or not 0.02 <= share <= 0.98:
            continue
        for other, other_missing in suspects:
            both = np.logical_and(missing, other_missing).sum()
            either = np.logical_or(missing, other_missing).sum()
            if either and both / either >= SAME_ROWS:
                reasons.append(f"it is filled in on the same rows as {other!r}, a suspect column")
                break
