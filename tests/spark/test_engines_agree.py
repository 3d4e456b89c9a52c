"""Property: the Spark engine gives exactly the polars engine's results."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings

from leadq.domain.scoring.model import ScoringModel
from leadq.domain.scoring.vectorised import score_frame
from tests.scoring_strategies import (
    AS_OF,
    any_model,
    awkward_model,
    awkward_profiles,
    event_frame,
    events,
    lead_frame,
    leads,
    shipped,
)
from tests.spark.conftest import to_spark
from tests.unit.test_scoring_vectors import CLASSIC_VECTORS, DAY0

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

pytest.importorskip("pyspark")
from leadq.spark import rules


def both(spark: SparkSession, model: ScoringModel, lead_rows: pl.DataFrame,
         event_rows: pl.DataFrame | None, as_of: datetime = AS_OF,
         ) -> tuple[dict[Any, dict[str, Any]], dict[Any, dict[str, Any]]]:  # fmt: skip
    """Each engine's rows by lead id."""
    on_spark = rules.score_frame(
        model, to_spark(spark, lead_rows),
        None if event_rows is None else to_spark(spark, event_rows), as_of,
    ).collect()  # fmt: skip
    on_polars = score_frame(
        model, lead_rows.lazy(), None if event_rows is None else event_rows.lazy(), as_of
    ).collect()
    return ({row["id"]: row.asDict() for row in on_spark},
            {row["id"]: row for row in on_polars.to_dicts()})  # fmt: skip


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(model=any_model, profiles=leads, raw_events=events)
def test_spark_engine_equals_polars_engine(
    spark: SparkSession, model: ScoringModel, profiles: list[dict[str, Any]],
    raw_events: list[dict[str, Any]],
) -> None:  # fmt: skip
    spark_rows, polars_rows = both(spark, model, lead_frame(profiles), event_frame(raw_events))
    assert spark_rows == polars_rows, model.model_dump(exclude_none=True)
    first = next(iter(spark_rows.values()))
    assert list(first) == list(polars_rows[0])  # the same columns in the same order


def test_text_numbers_nan_and_infinity_read_alike(spark: SparkSession) -> None:
    spark_rows, polars_rows = both(spark, awkward_model(), lead_frame(awkward_profiles()), None)
    assert spark_rows == polars_rows
    assert len({row["score"] for row in spark_rows.values()}) > 5


def vector_events() -> pl.DataFrame:
    rows = [
        {"lead_id": i, "type": e.type, "occurred_at": e.occurred_at, **e.properties}
        for i, (_, facts, _, _) in enumerate(CLASSIC_VECTORS)
        for e in facts
    ]
    return pl.DataFrame(rows, schema={"lead_id": pl.Int64, "type": pl.String,
                                      "occurred_at": pl.Datetime("us", "UTC"),
                                      "asset_type": pl.String, "path": pl.String})  # fmt: skip


def test_the_shipped_classic_vectors(spark: SparkSession) -> None:
    profiles = pl.DataFrame(
        [{"id": i, **lead} for i, (lead, _, _, _) in enumerate(CLASSIC_VECTORS)],
        schema={"id": pl.Int64, "seniority": pl.String, "company_size": pl.Int64},
    )
    spark_rows, polars_rows = both(spark, shipped("classic"), profiles, vector_events(), DAY0)
    assert spark_rows == polars_rows
    expected = [(score, grade) for _, _, score, grade in CLASSIC_VECTORS]
    assert [(spark_rows[i]["score"], spark_rows[i]["grade"]) for i in range(4)] == expected


@pytest.mark.parametrize(("days", "score"), [(0, 15), (30, 10), (65, 5), (95, 0)])
def test_the_shipped_dynamic_vectors(spark: SparkSession, days: int, score: float) -> None:
    one_each = vector_events().filter(pl.col("lead_id") == 0, pl.col("type") != "page_view")
    one_each = one_each.group_by("type").first()
    spark_rows, polars_rows = both(spark, shipped("dynamic"), pl.DataFrame({"id": [0]}),
                                   one_each, DAY0 + timedelta(days=days))  # fmt: skip
    assert spark_rows == polars_rows
    assert spark_rows[0]["score"] == score


@pytest.mark.parametrize("once", [False, True])
def test_half_life_agrees_within_rounding(spark: SparkSession, once: bool) -> None:
    """Fading uses each engine's own power function and summation order: equal to 1e-12."""
    model = ScoringModel.model_validate({
        "name": "fading", "grades": {"cold": 0, "hot": 10},
        "engagement": [{"id": "views", "event": "page_view", "points": 4, "once": once,
                        "half_life_days": 7}],
    })  # fmt: skip
    minutes = [0, 60, 1440 * 3, 1440 * 10, 1440 * 40, 1440 * 400]
    times = [AS_OF - timedelta(minutes=m) for m in minutes]
    rows = pl.DataFrame({"lead_id": [0] * len(times), "type": ["page_view"] * len(times),
                         "occurred_at": times})  # fmt: skip
    spark_rows, polars_rows = both(spark, model, pl.DataFrame({"id": [0]}), rows)
    assert spark_rows[0]["score"] == pytest.approx(polars_rows[0]["score"], rel=1e-12)
    assert spark_rows[0]["score"] == pytest.approx(
        4 if once else 4 * sum(0.5 ** (m / 1440 / 7) for m in minutes)
    )


def test_event_times_as_text_or_without_zone_are_utc(spark: SparkSession) -> None:
    model = ScoringModel.model_validate({
        "name": "window", "grades": {"cold": 0, "hot": 1},
        "engagement": [{"id": "recent", "event": "page_view", "within_days": 1, "level": "count"}],
        "decay": {"points": -1, "every_days": 1},
    })  # fmt: skip
    as_of = datetime(2026, 6, 1, 12, tzinfo=UTC)
    texts = [
        "2026-06-01T11:00:00+00:00",
        "2026-05-31T12:00:00.000001+00:00",
        "2026-06-01T13:30:00+02:00",
        "2026-05-20T00:00:00+00:00",
        "2026-06-01T12:00:01Z",
    ]
    as_text = pl.DataFrame({"lead_id": [0] * 5, "type": ["page_view"] * 5, "occurred_at": texts})
    naive = as_text.with_columns(
        pl.col("occurred_at").str.to_datetime(time_unit="us", time_zone="UTC")
        .dt.replace_time_zone(None)
    )  # fmt: skip
    text_rows = rules.score_frame(model, to_spark(spark, pl.DataFrame({"id": [0]})),
                                  to_spark(spark, as_text), as_of).collect()  # fmt: skip
    naive_rows, polars_rows = both(spark, model, pl.DataFrame({"id": [0]}), naive, as_of)
    assert text_rows[0].asDict() == naive_rows[0] == polars_rows[0]
    # 11:00, 11:30 UTC and a microsecond short of a day before fall in the last day; the old one
    # does not, and the one after as_of is not counted at all
    assert naive_rows[0]["points.recent"] == 3


def test_a_session_in_another_zone_reads_times_without_zone_as_utc(spark: SparkSession) -> None:
    """A notebook's session may run in local time; a time without a zone is still UTC."""
    from pyspark.sql import functions as F

    model, as_of = shipped("dynamic"), DAY0 + timedelta(days=30)
    events = vector_events().filter(pl.col("lead_id") == 0)
    leads = to_spark(spark, pl.DataFrame({"id": [0]}))
    _, expected = both(spark, model, pl.DataFrame({"id": [0]}), events, as_of)
    naive = to_spark(spark, events).withColumn(
        "occurred_at", F.col("occurred_at").cast("timestamp_ntz")
    )  # as Spark reads a Parquet time without zone
    as_text = to_spark(spark, events.with_columns(pl.col("occurred_at").dt.to_string()))
    spark.conf.set("spark.sql.session.timeZone", "America/Los_Angeles")
    try:
        in_zone = rules.score_frame(model, leads, naive, as_of).collect()
        with pytest.raises(rules.SessionZoneError, match=r"set spark\.sql\.session\.timeZone"):
            rules.score_frame(model, leads, as_text, as_of)
    finally:
        spark.conf.set("spark.sql.session.timeZone", "UTC")
    assert in_zone[0].asDict() == expected[0]
    assert expected[0]["points.inactivity_decay"] == -5.0


def test_a_time_without_zone_in_a_daylight_saving_gap_is_still_utc(spark: SparkSession) -> None:
    """02:30 on 8 March 2026 does not exist in Los Angeles; as UTC it is an ordinary time."""
    from pyspark.sql import functions as F

    model = ScoringModel.model_validate({
        "name": "day", "grades": {"cold": 0, "hot": 1},
        "engagement": [{"id": "recent", "event": "page_view", "within_days": 1, "level": "count"}],
    })  # fmt: skip
    as_of = datetime(2026, 3, 9, 2, 30, 1, tzinfo=UTC)  # a day and a second after the view
    times = [datetime(2026, 3, 8, 2, 30), datetime(2026, 3, 8, 3, 30)]
    events = pl.DataFrame({"lead_id": [0, 0], "type": ["page_view"] * 2, "occurred_at": times})
    leads = to_spark(spark, pl.DataFrame({"id": [0]}))
    naive = to_spark(spark, events.with_columns(pl.col("occurred_at").dt.to_string()))
    naive = naive.withColumn("occurred_at", F.col("occurred_at").cast("timestamp_ntz"))
    spark.conf.set("spark.sql.session.timeZone", "America/Los_Angeles")
    try:
        got = rules.score_frame(model, leads, naive, as_of).collect()[0]
    finally:
        spark.conf.set("spark.sql.session.timeZone", "UTC")
    expected = score_frame(model, pl.LazyFrame({"id": [0]}), events.lazy(), as_of).collect()
    assert got["points.recent"] == expected["points.recent"][0] == 1  # only the 03:30 view
