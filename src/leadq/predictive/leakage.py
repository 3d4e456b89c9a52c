"""The leakage guard: columns that would not be known when a new lead has to be scored.

A CRM export is taken long after its leads arrived, so it mixes what was known at the first
contact with what the sales team wrote down during and after the conversation (a status, a
quality rating, tags, a loss reason). A model trained on the latter scores brilliantly on history
and is useless on a new lead.

A column is **left out** only on evidence in its values, never for its name:

- it predicts the outcome almost perfectly on its own;
- whether it is filled in predicts the outcome, and so do its values (where it is filled);
- it is filled in on the same rows as a column left out, or only where one is filled;
- it is a date that falls after the record's creation date in the same row, or the latest date
  of every row (when the record last changed). The creation date is the column named with
  ``--time-column``, else one whose name says so (``created``, ``signup``); a date filled on
  every row is not taken for it by its values alone, since a "first seen" date precedes it too.

A column is **kept for review** (``--strict`` leaves it out) when its name speaks the CRM's
post-conversation vocabulary and it carries some signal, when its values say the outcome in
words ("Closed - Converted" beside an outcome called converted), or when it is filled in on the
same rows as a column kept for review. Strength alone is no evidence: a good column is strong.
Names are read as whole words of the column's own tokens: a last name is a surname, a previous
outcome was known before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import polars as pl
from numpy.typing import NDArray
from sklearn.metrics import roc_auc_score

from leadq.predictive.columns import ColumnProfile, Kind, date_format_of, dates, numbers, words

POST_CONVERSATION = frozenset({
    "stage", "quality", "rated", "grade", "graded", "score", "scored", "scoring", "tag",
    "reason", "reasons", "outcome", "result", "disposition", "won", "lost", "closed",
    "conversion", "qualified", "disqualified", "modified", "updated", "last", "latest",
    "opportunity", "deal",
})  # fmt: skip
"""CRM words for what the sales team writes during or after the conversation: a name holding
one raises the column to review, never out. No column name of an export we test on is one of
them: a list that named those would be tuned to them."""
EARLIER = frozenset({"previous", "prior", "past", "former", "pre", "initial", "original"})
"""A word before a post-conversation word that moves it before this record: ``prior outcome``,
``previous deal stage``."""
NAME_WORDS = frozenset({"name", "names", "initial", "initials"})
"""A word after a post-conversation word that makes it a personal name: ``last name``."""
SENSITIVE = frozenset({
    "age", "gender", "sex", "born", "dob", "ethnicity", "ethnic", "race", "religion", "marital",
    "nationality", "disability", "pregnant", "pregnancy",
})  # fmt: skip
BIRTH = "birth"
"""Any name word that starts so (``birth``, ``birthday``, ``DateOfBirth``) is a birth date:
age."""
TITLES_OF_ADDRESS = frozenset({
    "mr", "mrs", "ms", "miss", "mx", "sir", "madam", "madame", "mme", "mlle", "monsieur",
    "mademoiselle", "herr", "frau", "sr", "sra", "srta", "senor", "senora", "signor", "signora",
    "pan", "pani", "panna", "domnul", "doamna", "domnisoara", "dl", "dna", "gospodin", "gospozha",
    "господин", "госпожа", "г-н", "г-жа",
})  # fmt: skip
"""Titles of address in the languages leadq's users write: most say a person's gender, so a
column of them stands in for gender even when no column is called that."""
NEUTRAL_TITLES = frozenset({"dr", "prof", "rev", "fr", "hon", "ing", "inz", "inż", "mgr", "д-р"})
"""Academic and professional titles that share a salutation column without saying gender."""
GIVEN_NAME = ({"first", "name"}, {"given", "name"}, {"forename"}, {"firstname"})
"""Name tokens of a first-name column: first names stand in for gender."""
TITLES_SHARE = 0.8
NEAR_PERFECT = 0.90
ANY_SIGNAL = 0.53
STRONG = 0.75
WHERE_FILLED = 0.70
FILLING_SIGNAL = 0.62
SAME_ROWS = 0.98
INSIDE = 0.97
FEW_FILLED = 30
"""Below this many filled rows, lying inside another column's rows can be chance."""
SPARSER = 0.85
LATER = 0.10
EARLIER_AT_MOST = 0.05
CREATION_FILLED = 0.99
CREATION = frozenset({"created", "creation", "create", "signup", "registered", "registration"})
"""Name words of the record's creation date, the one date known when a lead arrives."""
FOLDS = 5
BINS = 10
PRIOR_ROWS = 20.0


@dataclass
class Verdict:
    """What the guard found about one column: reasons to leave it out, reasons to check it."""

    column: str
    power: float
    filling_power: float
    missing: NDArray[np.bool_]
    evidence: list[str] = field(default_factory=list)
    review: list[str] = field(default_factory=list)

    @property
    def left_out(self) -> bool:
        return bool(self.evidence)


def name_hints(column: str) -> list[str]:
    """The post-conversation words of a column name, read in context."""
    tokens = words(column)
    hints = []
    for index, word in enumerate(tokens):
        earlier = bool(EARLIER & set(tokens[:index]))
        after = tokens[index + 1] if index + 1 < len(tokens) else ""
        if word in POST_CONVERSATION and not earlier and after not in NAME_WORDS:
            hints.append(word)
    return hints


def sensitive(column: str) -> bool:
    tokens = words(column)
    return bool(set(tokens) & SENSITIVE) or any(t.startswith(BIRTH) for t in tokens)


def proxy_of(column: str, values: pl.Series) -> str | None:
    """What sensitive attribute the column stands in for, if any: a column of titles of
    address (by its values, whatever it is called) or of first names (by its name) says gender;
    a birth date says age (``sensitive`` catches it by name)."""
    filled = values.drop_nulls()
    if len(filled):
        plain = filled.str.to_lowercase().str.strip_chars().str.strip_chars(".")
        gendered = int(plain.is_in(sorted(TITLES_OF_ADDRESS)).sum())
        neutral = int(plain.is_in(sorted(NEUTRAL_TITLES)).sum())
        if gendered + neutral >= TITLES_SHARE * len(filled) and gendered >= neutral:
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


def screen(frame: pl.DataFrame, profiles: Iterable[ColumnProfile], y: NDArray[np.int8],
           created: pl.Series | None = None, outcome: str = "") -> list[Verdict]:  # fmt: skip
    """Every usable column of a cleaned export that is left out or kept for review, and why;
    ``created`` is the creation date column when the user named it (it is not a feature),
    ``outcome`` the converted label or, for a yes/no outcome, the outcome column's name."""
    profiles = list(profiles)
    verdicts = {p.name: _weigh(frame[p.name], p, y) for p in profiles if p.usable}
    _written_later(frame, profiles, verdicts, created)
    _filled_with(verdicts, lambda v: v.left_out, out=True)
    said = {word for word in words(outcome) if len(word) > 2}
    for profile in profiles:
        verdict = verdicts.get(profile.name)
        if verdict is not None and not verdict.left_out:
            verdict.review += _review(verdict)
            verdict.review += _names_the_outcome(frame[profile.name], profile, verdict, said)
    _filled_with(verdicts, lambda v: bool(v.review) and not v.left_out, out=False)
    return [v for v in verdicts.values() if v.evidence or v.review]


def _weigh(values: pl.Series, profile: ColumnProfile, y: NDArray[np.int8]) -> Verdict:
    missing = values.is_null().to_numpy()
    single = power(_levels(values, profile), y)
    verdict = Verdict(profile.name, single, _auc(y, missing.astype(float)), missing)
    if single >= NEAR_PERFECT:
        verdict.evidence.append(f"predicts the outcome almost perfectly on its own (ROC AUC"
                                f" {single:.2f})")  # fmt: skip
    if verdict.filling_power < FILLING_SIGNAL or missing.all():
        return verdict
    filled = ~missing
    where_filled = power(_levels(values.filter(pl.Series(filled)), profile), y[filled])
    filling = f"whether it is filled in predicts the outcome (ROC AUC {verdict.filling_power:.2f})"
    if where_filled >= WHERE_FILLED:
        verdict.evidence.append(f"{filling} and so do its values where it is filled"
                                f" ({where_filled:.2f})")  # fmt: skip
    elif single >= STRONG:
        verdict.evidence.append(f"{filling} and so do its values ({single:.2f})")
    return verdict


def _review(verdict: Verdict) -> list[str]:
    reasons = []
    strength = max(verdict.power, verdict.filling_power)
    hints = name_hints(verdict.column)
    if hints and strength >= ANY_SIGNAL:
        reasons.append(f"its name speaks of what the sales team writes down"
                       f" ({', '.join(hints)}) and it predicts the outcome (ROC AUC"
                       f" {strength:.2f}): check it was known at the first contact")  # fmt: skip
    return reasons


def _names_the_outcome(values: pl.Series, profile: ColumnProfile, verdict: Verdict,
                       said: set[str]) -> list[str]:  # fmt: skip
    """A category whose values say the outcome in words ("Closed - Converted") records it."""
    if profile.kind is not Kind.CATEGORY or not said or verdict.power < ANY_SIGNAL:
        return []
    telling = [v for v in values.drop_nulls().unique().sort().to_list() if said & set(words(v))]
    if not telling:
        return []
    shown = ", ".join(repr(v) for v in telling[:3])
    return [f"its values speak of the outcome ({shown}) and it predicts it (ROC AUC"
            f" {verdict.power:.2f}): check it was known at the first contact"]  # fmt: skip


def _filled_with(verdicts: dict[str, Verdict], marked: Callable[[Verdict], bool],
                 out: bool) -> None:  # fmt: skip
    """Columns filled in on the same rows as a marked one were filled in by the same hand;
    so, when it leaves the column out, was one filled in only where a left-out column is."""
    changed = True
    while changed:
        changed = False
        sources = [v for v in verdicts.values() if marked(v)]
        for verdict in verdicts.values():
            if verdict.left_out or (not out and verdict.review):
                continue
            reason = _shared_rows(verdict, sources, inside=out)
            if reason:
                (verdict.evidence if out else verdict.review).append(reason)
                changed = True


def _shared_rows(verdict: Verdict, sources: list[Verdict], inside: bool) -> str | None:
    filled = ~verdict.missing
    if not 0.02 <= filled.mean() <= 0.98:
        return None
    for other in sources:
        other_filled = ~other.missing
        both = np.logical_and(filled, other_filled).sum()
        either = np.logical_or(filled, other_filled).sum()
        if either and both / either >= SAME_ROWS:
            kind = "a column left out" if other.left_out else "a column kept for review"
            return f"it is filled in on the same rows as {other.column!r}, {kind}"
        inside_rows = inside and filled.sum() >= FEW_FILLED and other_filled.mean() <= SPARSER
        if inside_rows and both / filled.sum() >= INSIDE:
            return (f"it is filled in only where {other.column!r}, a column left out, is filled"
                    f" ({both / filled.sum():.0%} of its rows)")  # fmt: skip
    return None


# -- dates written after the record was created ---------------------------------------------


def _written_later(frame: pl.DataFrame, profiles: list[ColumnProfile],
                   verdicts: dict[str, Verdict], created: pl.Series | None) -> None:  # fmt: skip
    """Dates that fall after the record's creation date were not known when it was created."""
    stamps = _date_columns(frame, profiles)
    fmt = date_format_of(created.drop_nulls()) if created is not None else None
    if created is not None and fmt is not None:
        stamps[created.name] = dates(created, fmt)
    anchor = created.name if created is not None and fmt else _creation(stamps)
    for name, when in stamps.items():
        if name == anchor or name not in verdicts:
            continue
        if anchor is not None:
            reason = _after(when, stamps[anchor], anchor)
        else:
            reason = _latest_of_row(name, stamps)
        if reason:
            verdicts[name].evidence.append(reason)


def _date_columns(frame: pl.DataFrame, profiles: list[ColumnProfile]) -> dict[str, pl.Series]:
    """Every column of dates, including one that holds a single date (a bulk-loaded export's
    creation date)."""
    found = {}
    for profile in profiles:
        if profile.kind is Kind.DATE:
            found[profile.name] = dates(frame[profile.name], profile.date_format or "")
        elif profile.kind in (Kind.CONSTANT, Kind.PRESENCE):
            fmt = date_format_of(frame[profile.name].drop_nulls())
            if fmt is not None:
                found[profile.name] = dates(frame[profile.name], fmt)
    return found


def _creation(stamps: dict[str, pl.Series]) -> str | None:
    """The creation date by its name, when it is filled on (nearly) every row."""
    for name, when in stamps.items():
        filled = when.is_not_null().mean() >= CREATION_FILLED  # type: ignore[operator]
        if filled and set(words(name)) & CREATION:
            return name
    return None


def _order(values: pl.Series, reference: pl.Series) -> tuple[float, float]:
    """Where both are filled: the share of rows on which ``values`` is later, and earlier."""
    a, b = _comparable(values, reference)
    both = a.is_not_null() & b.is_not_null()
    count = int(both.sum())
    if not count:
        return 0.0, 0.0
    later = int(((a > b) & both).sum()) / count
    earlier = int(((a < b) & both).sum()) / count
    return later, earlier


def _comparable(values: pl.Series, reference: pl.Series) -> tuple[pl.Series, pl.Series]:
    if _has_times(values) and _has_times(reference):
        return values, reference
    return values.dt.date(), reference.dt.date()


def _has_times(values: pl.Series) -> bool:
    return bool((values.dt.hour() + values.dt.minute() + values.dt.second() > 0).any())


def _after(when: pl.Series, created: pl.Series, created_name: str) -> str | None:
    later, earlier = _order(when, created)
    if later >= LATER and earlier <= EARLIER_AT_MOST:
        return (f"it falls after the record's creation date ({created_name!r}) on {later:.0%} of"
                " the rows where both are filled: it was written later")  # fmt: skip
    return None


def _latest_of_row(name: str, stamps: dict[str, pl.Series]) -> str | None:
    """Without a creation date, a timestamp that is the latest date of the row against two or
    more other date columns is when the record last changed."""
    when = stamps[name]
    if when.is_not_null().mean() < CREATION_FILLED or not _has_times(when):  # type: ignore[operator]
        return None
    compared = 0
    for other_name, other in stamps.items():
        if other_name == name:
            continue
        later, earlier = _order(when, other)
        if earlier > EARLIER_AT_MOST:
            return None
        compared += later > 0
    if compared < 2:
        return None
    return ("it is the latest date of the row against every other date column: it records when"
            " the row last changed")  # fmt: skip
