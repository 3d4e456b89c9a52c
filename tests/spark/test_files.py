"""Parquet in, Parquet out on Spark: bad tables are refused with the reason and lose nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
import pytest

from leadq.domain.scoring.model import ScoringModel
from leadq.services.scoring.batch import FileError
from tests.scoring_strategies import shipped

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

pytest.importorskip("pyspark")
from leadq.spark import batch

AS_OF = datetime(2026, 6, 1, tzinfo=UTC)
LEADS = pl.DataFrame({
    "id": [1, 2, 3], "job_title": ["Chief Executive Officer", "Dyrektor IT", None],
    "seniority": [None, None, "manager"], "company_size": [300, 60, 5],
})  # fmt: skip
EVENTS = pl.DataFrame({
    "lead_id": [1, 1, 2], "type": ["webinar_attended", "page_view", "page_view"],
    "occurred_at": [datetime(2026, 5, 30, tzinfo=UTC)] * 3,
    "path": [None, "/pricing", "/blog"],
})  # fmt: skip


def files(folder: Path, leads: pl.DataFrame = LEADS, events: pl.DataFrame = EVENTS,
          ) -> tuple[str, str]:  # fmt: skip
    leads.write_parquet(folder / "leads.parquet")
    events.write_parquet(folder / "events.parquet")
    return str(folder / "leads.parquet"), str(folder / "events.parquet")


def score(spark: SparkSession, leads: str, events: str | None, out: str) -> int:
    scores, _ = batch.plan(spark, shipped("classic"), leads, events, AS_OF)
    return batch.write(spark, scores, out)


def test_scores_and_inferred_seniority_as_the_polars_engine(
    spark: SparkSession, tmp_path: Path
) -> None:
    from leadq.services.scoring import batch as polars_batch

    leads, events = files(tmp_path)
    assert score(spark, leads, events, str(tmp_path / "out")) == 3
    got = pl.read_parquet(tmp_path / "out" / "*.parquet").sort("id")
    plan, _ = polars_batch.plan(shipped("classic"), Path(leads), Path(events),
                                tmp_path / "p.parquet", AS_OF)  # fmt: skip
    assert got.equals(plan.collect().sort("id"))
    # seniority inferred from the title (c_level, director) or stated (manager)
    assert got["points.decision_maker"].to_list() == [9.0, 6.0, 3.0]
    assert got["score"].to_list() == [9 + 6 + 2 + 3, 6 + 4, 3]


def test_a_folder_of_part_files_reads_as_one_table(spark: SparkSession, tmp_path: Path) -> None:
    (tmp_path / "leads").mkdir()
    LEADS.head(2).write_parquet(tmp_path / "leads" / "part-0.parquet")
    LEADS.tail(1).write_parquet(tmp_path / "leads" / "part-1.parquet")
    _, events = files(tmp_path)
    assert score(spark, str(tmp_path / "leads"), events, str(tmp_path / "out")) == 3
    parts = pl.read_parquet(tmp_path / "out" / "*.parquet").sort("id")
    score(spark, str(tmp_path / "leads.parquet"), events, str(tmp_path / "whole"))
    assert parts.equals(pl.read_parquet(tmp_path / "whole" / "*.parquet").sort("id"))


def refused(spark: SparkSession, leads: str, events: str | None, out: str, reason: str) -> None:
    with pytest.raises(FileError, match=reason):
        score(spark, leads, events, out)


@pytest.mark.parametrize(
    ("leads", "events", "reason"),
    [
        (LEADS.drop("id"), EVENTS, "the leads need an 'id' column"),
        (LEADS, EVENTS.drop("type", "lead_id"), r"the events need column\(s\) lead_id, type"),
        (LEADS, EVENTS.with_columns(pl.lit(5).alias("occurred_at")),
         "occurred_at is int; use a timestamp or ISO-8601 text"),
        (LEADS, EVENTS.with_columns(pl.col("lead_id").cast(pl.String)),
         "lead_id is string but the leads' id is bigint"),
        (LEADS, EVENTS.with_columns(pl.lit("last tuesday").alias("occurred_at")),
         "cannot score these tables"),
    ],
)  # fmt: skip
def test_malformed_tables_are_refused_with_the_reason(
    spark: SparkSession, tmp_path: Path, leads: pl.DataFrame, events: pl.DataFrame, reason: str
) -> None:
    leads_path, events_path = files(tmp_path, leads, events)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    refused(spark, leads_path, events_path, str(tmp_path / "out"), reason)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # and no half output


def test_missing_foreign_and_damaged_files_are_refused(spark: SparkSession, tmp_path: Path) -> None:
    leads, events = files(tmp_path)
    out = str(tmp_path / "out")
    refused(spark, str(tmp_path / "nowhere.parquet"), events, out, "no such file or folder")
    refused(spark, str(tmp_path / "leads.csv"), events, out, "the Spark engine reads and writes")
    refused(spark, leads, events, str(tmp_path / "out.csv"), "the Spark engine reads and writes")
    (tmp_path / "damaged.parquet").write_bytes(b"PAR1" + b"\x00\xff" * 500)
    refused(spark, str(tmp_path / "damaged.parquet"), events, out, "cannot read it as Parquet")
    assert not (tmp_path / "out").exists()


def test_an_existing_output_is_never_overwritten(spark: SparkSession, tmp_path: Path) -> None:
    leads, events = files(tmp_path)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("precious")
    refused(spark, leads, events, str(tmp_path / "out"), "already exists; choose a new --out")
    assert (tmp_path / "out" / "keep.txt").read_text() == "precious"
    refused(spark, leads, events, leads, "already exists")  # not even the input itself
    assert pl.read_parquet(leads).equals(LEADS)


def test_hostile_names_and_values_are_data(spark: SparkSession, tmp_path: Path) -> None:
    odd: dict[str, Any] = {"id": ["a`b", "'; DROP TABLE leads; --", "<script>"],
                           "attributes.we`ird col`": ["x", "y", "`"],
                           "job_title": ["\x00", "é" * 5000, ""],
                           "company_size": [None, 10**12, -1]}  # fmt: skip
    leads, events = files(tmp_path, pl.DataFrame(odd),
                          EVENTS.with_columns(pl.lit("<script>").alias("lead_id")))  # fmt: skip
    model = ScoringModel.model_validate({
        "name": "odd", "grades": {"cold": 0, "hot": 10},
        "fit": [{"id": "weird", "points": 5,
                 "when": {"attributes.we`ird col`": {"in": ["y", "`"]}}},
                {"id": "size", "points": 1, "when": {"company_size": {"gte": 10**11}}}],
        "engagement": [{"id": "pricing", "event": "page_view", "level": "count",
                        "where": {"path": {"regex": "(?P<p>pric)"}}}],
    })  # fmt: skip
    scores, _ = batch.plan(spark, model, leads, events, AS_OF)
    assert batch.write(spark, scores, str(tmp_path / "out")) == 3
    got = pl.read_parquet(tmp_path / "out" / "*.parquet").sort("id")
    assert got["id"].to_list() == sorted(odd["id"])
    assert dict(zip(got["id"], got["score"], strict=True)) == {
        "'; DROP TABLE leads; --": 5 + 1,
        "<script>": 5 + 1,
        "a`b": 0,
    }


def test_reserved_and_taken_column_names_are_refused(spark: SparkSession, tmp_path: Path) -> None:
    leads, events = files(tmp_path, LEADS.with_columns(pl.lit(1).alias("__last")))
    refused(spark, leads, events, str(tmp_path / "out"), "names starting with __ are leadq's own")
