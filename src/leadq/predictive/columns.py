"""What each column of a CRM export holds: numbers, yes/no, dates, categories or identifiers.

Exports are read as text; placeholders such as ``Select`` (an untouched drop-down), ``N/A`` and
empty cells are missing values, not categories.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

import polars as pl

MISSING = ("", "select", "n/a", "na", "#n/a", "none", "null", "nil", "nan", "-", "--", "?",
           "unknown", "not provided", "not available", "(blank)")  # fmt: skip
TRUE = ("1", "yes", "y", "true", "t")
FALSE = ("0", "no", "n", "false", "f")
DATE_FORMATS = (
    "%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%Y/%m/%d",
    "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y", "%d/%m/%Y %H:%M", "%d/%m/%Y",
    "%m/%d/%Y %H:%M", "%m/%d/%Y", "%d-%m-%Y", "%d %b %Y", "%d %B %Y", "%b %d, %Y", "%B %d, %Y",
)  # fmt: skip
IDENTIFIER_SHARE = 0.95  # distinct values per filled row above which a column names rows
IDENTIFIER_MIN_ROWS = 20


class Kind(StrEnum):
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"
    CATEGORY = "category"
    IDENTIFIER = "identifier"
    PRESENCE = "presence"
    CONSTANT = "constant"
    EMPTY = "empty"


@dataclass(frozen=True)
class ColumnProfile:
    """A column's kind and what reading it needs (decimal comma, date format)."""

    name: str
    kind: Kind
    filled: float
    distinct: int
    decimal_comma: bool = False
    date_format: str | None = None

    @property
    def usable(self) -> bool:
        return self.kind not in (Kind.IDENTIFIER, Kind.CONSTANT, Kind.EMPTY)


def cleaned(column: str) -> pl.Expr:
    """The column as trimmed text, with placeholders turned into nulls."""
    text = pl.col(column).cast(pl.String).str.strip_chars()
    return pl.when(text.str.to_lowercase().is_in(MISSING)).then(None).otherwise(text).alias(column)


def clean(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(cleaned(name) for name in frame.columns)


def words(name: str) -> list[str]:
    """A column name as lower-case words: ``TotalVisits`` → total, visits; ``lead_status`` too."""
    parts = re.split(r"[\W_]+", name)
    split = (re.sub(r"(?<=[a-z])(?=[A-Z])", " ", part).split() for part in parts)
    return [word.lower() for group in split for word in group]


def numbers(values: pl.Series, decimal_comma: bool = False) -> pl.Series:
    text = values.str.replace_all(r"[\s\u00a0]", "")
    if decimal_comma:
        text = text.str.replace(",", ".", literal=True)
    return text.cast(pl.Float64, strict=False)


def dates(values: pl.Series, date_format: str) -> pl.Series:
    zulu = values.str.replace(r"(?i)z$", "+00:00")
    parsed = zulu.str.to_datetime(date_format, strict=False, time_unit="us")
    if isinstance(parsed.dtype, pl.Datetime) and parsed.dtype.time_zone is not None:
        parsed = parsed.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
    return parsed


def _parses_all(parsed: pl.Series, filled: int) -> bool:
    return parsed.null_count() == len(parsed) - filled


def date_format_of(values: pl.Series) -> str | None:
    filled = values.drop_nulls()
    if filled.is_empty() or filled.str.contains(r"\d").not_().any():
        return None
    for candidate in DATE_FORMATS:
        if dates(filled, candidate).null_count() == 0:
            return candidate
    return None


def profile(values: pl.Series) -> ColumnProfile:
    """Guess a cleaned text column's kind from its values."""
    name, rows = values.name, len(values)
    filled_values = values.drop_nulls()
    filled, distinct = len(filled_values), filled_values.n_unique()

    def made(kind: Kind, **extra: object) -> ColumnProfile:
        share = filled / rows if rows else 0.0
        return ColumnProfile(name, kind, share, distinct, **extra)  # type: ignore[arg-type]

    if filled == 0:
        return made(Kind.EMPTY)
    if distinct == 1:
        return made(Kind.PRESENCE if filled < rows else Kind.CONSTANT)
    lowered = set(filled_values.str.to_lowercase().unique().to_list())
    if len(lowered) == 2 and lowered <= set(TRUE + FALSE) and lowered & set(TRUE):
        return made(Kind.BOOLEAN)
    for comma in (False, True):
        parsed = numbers(filled_values, comma)
        if parsed.null_count() == 0:
            integral = bool((parsed == parsed.round(0)).all())
            if integral and _names_rows(filled, distinct):
                return made(Kind.IDENTIFIER)
            return made(Kind.NUMBER, decimal_comma=comma)
    date_format = date_format_of(filled_values)
    if date_format is not None:
        return made(Kind.DATE, date_format=date_format)
    if _names_rows(filled, distinct):
        return made(Kind.IDENTIFIER)
    return made(Kind.CATEGORY)


def _names_rows(filled: int, distinct: int) -> bool:
    return filled >= IDENTIFIER_MIN_ROWS and distinct >= IDENTIFIER_SHARE * filled


class TargetError(ValueError):
    """The outcome column cannot be read as converted / not converted."""


OPEN_WORDS = frozenset({"open", "new", "engaging", "prospecting", "pending", "working",
                        "ongoing", "active", "qualifying", "progress"})  # fmt: skip
"""Words that mark a record not yet decided, in the stage names CRMs ship ("Open", "New",
"In progress", "Prospecting", "Engaging"), read as whole words of the label."""


def looks_open(label: str) -> bool:
    """``In Progress`` and ``Open - Not Contacted`` look undecided; ``Opened`` or ``Reopen
    lost`` are other words."""
    return bool(set(re.findall(r"[^\W\d_]+", label.lower())) & OPEN_WORDS)


def outcomes(values: pl.Series, positive: str | None = None,
             undecided: tuple[str, ...] = ()) -> pl.Series:  # fmt: skip
    """The outcome column as 1 / 0 (null where it is missing, or still open).

    Without ``positive`` the labels must be 1/0, yes/no, true/false or y/n; any other pair of
    labels needs ``positive`` to say which one means converted. ``undecided`` labels (still
    open records) are neither: their rows are left out like missing ones.
    """
    lowered = values.str.to_lowercase()
    labels = sorted(set(lowered.drop_nulls().to_list()))
    open_ = {label.strip().lower() for label in undecided}
    for label in sorted(open_):
        if label not in labels:
            shown = ", ".join(labels[:10]) or "none"
            raise TargetError(f"--open {label!r} is not one of its values (values: {shown})")
    if positive is not None and positive.strip().lower() in open_:
        raise TargetError(f"{positive!r} is both --positive and --open")
    if open_:
        lowered = pl.Series(lowered.name, [None if v in open_ else v for v in lowered],
                            dtype=pl.String)  # fmt: skip
        labels = [label for label in labels if label not in open_]
    if positive is not None:
        wanted = positive.strip().lower()
        if wanted not in labels:
            shown = ", ".join(labels[:10]) or "none"
            raise TargetError(f"--positive {positive!r} is not one of its values (values: {shown})")
        return _flags(lowered, lowered == wanted)
    if not set(labels) <= set(TRUE + FALSE):
        shown = ", ".join(labels[:10])
        raise TargetError(f"labels {shown} are not 1/0, yes/no or true/false: name the converted"
                          " one with --positive")  # fmt: skip
    return _flags(lowered, lowered.is_in(TRUE))


def _flags(labels: pl.Series, converted: pl.Series) -> pl.Series:
    frame = pl.DataFrame({"label": labels, "converted": converted})
    flag = pl.when(pl.col("label").is_null()).then(None).otherwise(pl.col("converted"))
    return frame.select(flag.cast(pl.Int8).alias(labels.name)).to_series()
