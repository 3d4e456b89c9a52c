"""Property: the vectorised engine gives exactly the per-lead evaluator's results."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings

from leadq.domain.scoring.evaluate import DECAY_ID, FLOOR_ID, EventFact, evaluate
from leadq.domain.scoring.model import ScoringModel
from leadq.domain.scoring.vectorised import score_frame
from tests.scoring_strategies import (
    AS_OF,
    EVENT_SCHEMA,
    any_model,
    awkward_model,
    awkward_profiles,
    event_rows,
    events,
    facts_of,
    lead_frame,
    leads,
)


def per_lead(
    model: ScoringModel, profile: dict[str, Any], facts: list[EventFact]
) -> dict[str, Any]:
    lead = {k: v for k, v in profile.items() if not k.startswith("attributes.")}
    lead["attributes"] = {k.removeprefix("attributes."): v for k, v in profile.items()
                          if k.startswith("attributes.")}  # fmt: skip
    card = evaluate(model, lead, facts, AS_OF)
    row: dict[str, Any] = {"score": card.score, "grade": card.grade}
    if model.matrix is not None:
        row.update(fit_grade=card.fit_grade, engagement_grade=card.engagement_grade)
    row.update({f"points.{line.criterion}": line.points for line in card.breakdown})
    if model.floor is not None:
        row.setdefault(f"points.{FLOOR_ID}", 0.0)
    return row


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(any_model, leads, events)
def test_vectorised_engine_equals_evaluator(
    model: ScoringModel, profiles: list[dict[str, Any]], raw_events: list[dict[str, Any]]
) -> None:
    rows = event_rows(raw_events)
    frame = score_frame(
        model, lead_frame(profiles).lazy(), pl.LazyFrame(rows, schema=EVENT_SCHEMA), AS_OF
    ).collect()
    by_id = {row["id"]: row for row in frame.to_dicts()}
    for i, profile in enumerate(profiles):
        facts = facts_of(rows, i)
        expected = per_lead(model, profile, facts)
        got = {k: by_id[i][k] for k in expected}
        assert got == expected, (model.model_dump(exclude_none=True), profile, facts)


def test_decay_is_named_in_both_engines() -> None:
    assert DECAY_ID == "inactivity_decay"


@pytest.mark.parametrize("once", [False, True])
def test_half_life_agrees_within_rounding(once: bool) -> None:
    model = ScoringModel.model_validate({
        "name": "fading", "grades": {"cold": 0, "hot": 10},
        "engagement": [{"id": "views", "event": "page_view", "points": 4, "once": once,
                        "half_life_days": 7}],
    })  # fmt: skip
    minutes = [0, 60, 1440 * 3, 1440 * 10, 1440 * 40]
    rows: list[dict[str, Any]] = [
                  {"lead_id": 0, "type": "page_view", "occurred_at": AS_OF - timedelta(minutes=m),
                   "channel": None, "path": None, "asset_type": None, "seconds": None}
                  for m in minutes]  # fmt: skip
    frame = score_frame(model, pl.LazyFrame([{"id": 0}], schema={"id": pl.Int64}),
                        pl.LazyFrame(rows, schema=EVENT_SCHEMA), AS_OF).collect()  # fmt: skip
    facts = [EventFact("page_view", e["occurred_at"]) for e in rows]
    card = evaluate(model, {}, facts, AS_OF)
    assert frame["score"][0] == pytest.approx(card.score, rel=1e-12)
    assert card.score == pytest.approx(
        4 if once else 4 * sum(0.5 ** (m / 1440 / 7) for m in minutes)
    )


def test_text_numbers_nan_and_infinity_read_alike() -> None:
    model, profiles = awkward_model(), awkward_profiles()
    frame = score_frame(model, lead_frame(profiles).lazy(), None, AS_OF).collect()
    for i, profile in enumerate(profiles):
        expected = per_lead(model, profile, [])
        assert {k: frame.row(i, named=True)[k] for k in expected} == expected, profile
    assert frame["score"].n_unique() > 5  # the values do take different paths


def test_event_times_in_any_zone_count_as_the_same_instants() -> None:
    model = ScoringModel.model_validate({
        "name": "hour", "grades": {"cold": 0, "hot": 1},
        "engagement": [{"id": "recent", "event": "page_view", "within_days": 0.05,
                        "level": "count"}],
    })  # fmt: skip
    times = [AS_OF - timedelta(minutes=m) for m in (30, 90)]  # 0.05 days is 72 minutes
    in_utc = pl.LazyFrame({"lead_id": [0, 0], "type": ["page_view"] * 2, "occurred_at": times})
    in_warsaw = in_utc.with_columns(pl.col("occurred_at").dt.convert_time_zone("Europe/Warsaw"))
    leads = pl.LazyFrame({"id": [0]})
    scores = [score_frame(model, leads, events, AS_OF).collect()["score"][0]
              for events in (in_utc, in_warsaw)]  # fmt: skip
    assert scores == [1.0, 1.0]
