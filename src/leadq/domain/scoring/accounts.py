"""Account scores: a company (its leads grouped by business domain) scored from its own
attributes and its people, so five warm colleagues read as one warm account, and one busy
intern cannot make an account hot.

The score is fit points (the ``account.fit`` criteria on the account's profile) plus each
person's engagement points capped at ``cap_per_person`` (times ``weight``), plus buying-committee
points: for each seniority named under ``committee.points``, its points once if at least one
person of that seniority is engaged (engagement points ≥ ``engaged_from``). Every point is a
line of the breakdown. Two engines, proven equal by a property test: ``evaluate_account`` per
account, ``score_accounts`` over tables (polars).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from leadq.domain.scoring.evaluate import Line, criterion_line, fit_points, grade_of
from leadq.domain.scoring.model import AccountModel
from leadq.domain.scoring.vectorised import fit_expr, grade_expr

PERSON, COMMITTEE = "person", "committee"


@dataclass(frozen=True)
class Person:
    """What an account needs of one of its leads."""

    lead_id: int
    engagement: float
    seniority: str | None


@dataclass(frozen=True)
class AccountCard:
    score: float
    grade: str
    fit_points: float
    engagement_points: float
    committee_points: float
    engaged: int
    people: int
    breakdown: list[Line]


def evaluate_account(spec: AccountModel, profile: Mapping[str, Any],
                     people: Sequence[Person]) -> AccountCard:  # fmt: skip
    """Score one account from its profile and its people."""
    lines = []
    fit = 0.0
    for criterion in spec.fit:
        value, points = fit_points(criterion, profile)
        fit += points
        lines.append(criterion_line(criterion, value, points))
    engagement = 0.0
    for person in sorted(people, key=lambda p: p.lead_id):
        counted = spec.engagement.weight * min(max(person.engagement, 0.0),
                                               spec.engagement.cap_per_person)  # fmt: skip
        engagement += counted
        lines.append(Line(f"{PERSON}:{person.lead_id}", f"lead {person.lead_id}",
                          person.engagement, counted))  # fmt: skip
    engaged = [p for p in people if p.engagement >= spec.committee.engaged_from]
    committee = 0.0
    for level, points in spec.committee.points.items():
        present = sum(p.seniority == level for p in engaged)
        if present:
            committee += points
            lines.append(Line(f"{COMMITTEE}:{level}", f"engaged {level}", present, points))
    total = fit + engagement + committee
    return AccountCard(total, grade_of(spec.grades, total), fit, engagement, committee,
                       len(engaged), len(people), lines)  # fmt: skip


def score_accounts(spec: AccountModel, accounts: pl.DataFrame,
                   people: pl.DataFrame) -> pl.DataFrame:  # fmt: skip
    """Every account at once: ``accounts`` has ``account_id`` and the profile columns the fit
    criteria read; ``people`` has ``account_id``, ``engagement`` and ``seniority``. Returns
    ``account_id``, ``score``, ``grade``, the three parts, ``engaged`` and ``people``."""
    cap, weight = spec.engagement.cap_per_person, spec.engagement.weight
    engaged = pl.col("engagement") >= spec.committee.engaged_from
    rollup = [
        (weight * pl.col("engagement").clip(0.0, cap)).sum().alias("engagement_points"),
        engaged.sum().cast(pl.Int64).alias("engaged"),
        pl.len().cast(pl.Int64).alias("people"),
        *[(engaged & (pl.col("seniority") == level)).any().alias(f"_c.{level}")
          for level in spec.committee.points],
    ]  # fmt: skip
    rolled = people.group_by("account_id").agg(rollup)
    schema = accounts.schema
    fit = pl.sum_horizontal([fit_expr(c, schema) for c in spec.fit]) if spec.fit else pl.lit(0.0)
    committee = pl.sum_horizontal(
        [pl.when(pl.col(f"_c.{level}").fill_null(False)).then(points).otherwise(0.0)
         for level, points in spec.committee.points.items()] or [pl.lit(0.0)]
    )  # fmt: skip
    scored = accounts.with_columns(fit.cast(pl.Float64).alias("fit_points")).join(
        rolled, on="account_id", how="left"
    )
    scored = scored.with_columns(
        pl.col("engagement_points").fill_null(0.0),
        pl.col("engaged").fill_null(0),
        pl.col("people").fill_null(0),
        committee.cast(pl.Float64).alias("committee_points"),
    )
    total = pl.col("fit_points") + pl.col("engagement_points") + pl.col("committee_points")
    return scored.with_columns(total.alias("score")).with_columns(
        grade_expr(spec.grades, pl.col("score"), best_first=False).alias("grade")
    ).select("account_id", "score", "grade", "fit_points", "engagement_points",
             "committee_points", "engaged", "people")  # fmt: skip
