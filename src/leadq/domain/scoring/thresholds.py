"""Grade lines set from what sales can handle, not by feel.

Given each past lead's score *as of its decision moment* (a replay: today's scores know what
happened later), when it arrived and whether it converted, the hot line is the score above which
about the team's capacity of leads arrived each week, and the warm line the one above which the
leads held the asked share of all conversions. Pure: the replay is the caller's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

WEEK = timedelta(days=7)
MIN_LEADS = 100
MIN_CONVERSIONS = 10
MIN_WEEKS = 4.0
_PACE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:/\s*(day|week|month)\s*)?(?:/\s*(rep)\s*)?$")
_PER_WEEK = {"day": 7.0, "week": 1.0, "month": 7 / (365.25 / 12)}


class ThresholdError(ValueError):
    """A suggestion that cannot be made: a capacity it cannot read, or history too thin."""


@dataclass(frozen=True)
class Pace:
    """How many new leads sales can take, as leads per week."""

    per_week: float
    text: str

    @classmethod
    def parse(cls, text: str, reps: int | None = None) -> Pace:
        """``40/week``, ``8/day``, ``150/month``, ``40`` (a week) or ``10/week/rep`` (times the
        reps of the automation teams)."""
        found = _PACE.match(text.lower())
        if found is None or float(found[1]) <= 0 or float(found[1]) > 1e9:
            raise ThresholdError(f"capacity {text!r}: give leads per period, e.g. 40/week,"
                                 " 8/day, 150/month or 10/week/rep")  # fmt: skip
        per_week = float(found[1]) * _PER_WEEK[found[2] or "week"]
        if found[3]:
            if not reps:
                raise ThresholdError(f"capacity {text!r}: per rep needs the sales teams of"
                                     " the automation file, and none has members")  # fmt: skip
            per_week *= reps
        return cls(per_week, text.strip())


@dataclass(frozen=True)
class Replay:
    """Past leads as the model would have scored them when each decision was made."""

    scores: Sequence[float]
    arrivals: Sequence[datetime]
    outcomes: Sequence[int]


@dataclass(frozen=True)
class GradeFigures:
    """What one grade would have held over the replayed weeks."""

    grade: str
    line: float | None
    leads: int
    per_week: float
    conversions: int
    conversion_rate: float
    share_of_conversions: float


@dataclass(frozen=True)
class Suggestion:
    model: str
    pace: Pace
    warm_share: float
    weeks: float
    leads: int
    conversions: int
    grades: dict[str, float]
    proposed: list[GradeFigures]
    current: list[GradeFigures]
    curve: list[tuple[float, float]]

    def sentences(self) -> list[str]:
        """The proposal in words, best grade first."""
        hot = self.proposed[0]
        said = [f"Replayed {self.leads} past leads over {self.weeks:.1f} weeks, each scored"
                f" by {self.model} as when its decision was made: {self.conversions}"
                " converted."]  # fmt: skip
        said.append(f"{hot.grade.capitalize()} from {_number(hot.line)}: {hot.per_week:.1f} leads"
                    f" a week (asked: {self.pace.per_week:.1f}), {hot.conversion_rate:.0%} of"
                    f" them converted, holding {hot.share_of_conversions:.0%} of all"
                    " conversions.")  # fmt: skip
        if len(self.proposed) > 2:
            warm = self.proposed[1]
            above = hot.share_of_conversions + warm.share_of_conversions
            said.append(f"{warm.grade.capitalize()} from {_number(warm.line)}: {warm.per_week:.1f}"
                        f" leads a week, {warm.conversion_rate:.0%} converted; with"
                        f" {hot.grade} it holds {above:.0%} of conversions (asked:"
                        f" {self.warm_share:.0%}).")  # fmt: skip
        now = self.current[0]
        said.append(f"Today's lines would have sent {now.per_week:.1f} leads a week to"
                    f" {now.grade}, {now.conversion_rate:.0%} of them converting.")  # fmt: skip
        return said


def suggest(model: str, grades: Mapping[str, float], replay: Replay, pace: Pace,
            warm_share: float = 0.8) -> Suggestion:  # fmt: skip
    """New lines for ``grades`` (lowest first): the top one from ``pace``, the next from
    ``warm_share`` of conversions, those below kept where they still fit."""
    scores = np.asarray(replay.scores, dtype=np.float64)
    won = np.asarray(replay.outcomes, dtype=np.int64)
    weeks = _weeks(replay.arrivals)
    _enough(len(scores), int(won.sum()), weeks)
    hot = _line_for_pace(scores, pace.per_week * weeks)
    names = list(grades)
    lines = {names[-1]: hot}
    if len(names) > 2:
        lines[names[-2]] = _line_for_share(scores, won, hot, warm_share)
    proposed = _kept_below(grades, lines)
    return Suggestion(model, pace, warm_share, weeks, len(scores), int(won.sum()), proposed,
                      figures(proposed, scores, won, weeks), figures(grades, scores, won, weeks),
                      capacity_curve(scores, weeks))  # fmt: skip


def figures(grades: Mapping[str, float], scores: np.ndarray, won: np.ndarray,
            weeks: float) -> list[GradeFigures]:  # fmt: skip
    """Each grade's leads and conversions under these lines, best grade first."""
    names = list(grades)
    total = max(int(won.sum()), 1)
    rows = []
    upper = np.inf
    for index in range(len(names) - 1, -1, -1):
        line = grades[names[index]] if index else -np.inf
        mask = (scores >= line) & (scores < upper)
        leads, conversions = int(mask.sum()), int(won[mask].sum())
        rows.append(GradeFigures(names[index], None if index == 0 else line, leads,
                                 leads / weeks, conversions, conversions / leads if leads else 0.0,
                                 conversions / total))  # fmt: skip
        upper = line
    return rows


def capacity_curve(scores: np.ndarray, weeks: float,
                   points: int = 60) -> list[tuple[float, float]]:  # fmt: skip
    """Leads a week at or above each replayed score, lowest score first, thinned to ``points``."""
    values = np.unique(scores)
    above = (len(scores) - np.searchsorted(np.sort(scores), values, side="left")) / weeks
    keep = np.unique(np.linspace(0, len(values) - 1, min(points, len(values))).round().astype(int))
    return [(float(values[i]), float(above[i])) for i in keep]


def _weeks(arrivals: Sequence[datetime]) -> float:
    if not arrivals:
        return 0.0
    return (max(arrivals) - min(arrivals)) / WEEK


def _enough(leads: int, conversions: int, weeks: float) -> None:
    if leads < MIN_LEADS:
        raise ThresholdError(f"only {leads} past leads have a known outcome: a suggestion needs"
                             f" at least {MIN_LEADS}")  # fmt: skip
    if conversions < MIN_CONVERSIONS:
        raise ThresholdError(f"only {conversions} of {leads} past leads converted: a suggestion"
                             f" needs at least {MIN_CONVERSIONS} conversions")  # fmt: skip
    if weeks < MIN_WEEKS:
        raise ThresholdError(f"the past leads arrived over {weeks * 7:.0f} days: counting leads"
                             f" per week needs at least {MIN_WEEKS:.0f} weeks")  # fmt: skip


def _line_for_pace(scores: np.ndarray, wanted: float) -> float:
    """The score line whose leads at or above it come nearest ``wanted``; on a tie the higher
    line, so sales is not sent more than it can take."""
    values = np.unique(scores)[::-1]  # highest first
    if len(values) < 2:
        raise ThresholdError("every past lead has the same replayed score: no line separates"
                             " them")  # fmt: skip
    if wanted >= len(scores):
        raise ThresholdError(f"capacity for {wanted:.0f} leads over the replay, but only"
                             f" {len(scores)} arrived: every lead would be in the top"
                             " grade")  # fmt: skip
    above = len(scores) - np.searchsorted(np.sort(scores), values, side="left")
    best = int(np.argmin(np.abs(above - wanted)))  # argmin takes the first: the higher line
    return float(values[min(best, len(values) - 2)])  # the lowest would take every lead


def _line_for_share(scores: np.ndarray, won: np.ndarray, hot: float, share: float) -> float:
    """The highest line below ``hot`` whose leads hold ``share`` of all conversions."""
    below = np.unique(scores[scores < hot])[::-1]
    if not len(below):
        raise ThresholdError(f"no past lead scored below {_number(hot)}: no room for a line"
                             " under the top grade")  # fmt: skip
    needed = share * won.sum()
    for value in below:
        if won[scores >= value].sum() >= needed:
            return float(value)
    return float(below[-1])


def _kept_below(grades: Mapping[str, float], lines: Mapping[str, float]) -> dict[str, float]:
    """The new lines, and every lower grade's line kept where it stays below the next one
    (else spaced evenly under it), so thresholds still rise strictly."""
    names = list(grades)
    fixed = [name for name in names if name in lines]
    lowest_fixed = lines[fixed[0]]
    free = [name for name in names if name not in lines]
    kept = [grades[name] for name in free]
    if any(a >= b for a, b in zip(kept, [*kept[1:], lowest_fixed], strict=True)):
        start = min(kept[0], lowest_fixed - len(free))
        step = (lowest_fixed - start) / len(free)
        kept = [start + step * i for i in range(len(free))]
    return {**dict(zip(free, kept, strict=True)), **{name: lines[name] for name in fixed}}


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:g}"
