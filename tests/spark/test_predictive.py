"""Predictive models on Spark give exactly what ``leadq predict`` gives on one machine."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
import pytest

from leadq.predictive.training import TrainingPlan
from leadq.services.predictive import files as predictive
from tests.predictive.exports import export_rows, write
from tests.spark.conftest import to_spark

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

pytest.importorskip("pyspark")
from leadq.spark.predictive import predict


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> predictive.PredictiveModel:
    where = tmp_path_factory.mktemp("spark-model")
    header, body = export_rows(600)
    write(where / "history.csv", header, body)
    plan = TrainingPlan("Bought?", id_column="Lead ID")
    predictive.train_file(where / "history.csv", plan, where / "model")
    return predictive.load(where / "model")


def new_leads(rows: int = 300) -> pl.DataFrame:
    header, body = export_rows(rows, seed=7)
    return pl.DataFrame(body, schema=header, orient="row").drop("Lead Status", "Bought?")


def on_spark(spark: SparkSession, model: predictive.PredictiveModel,
             leads: pl.DataFrame) -> pl.DataFrame:  # fmt: skip
    # more than one Arrow batch per partition, so batches are seen to be independent
    spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", "64")
    rows = pl.DataFrame(predict(model, to_spark(spark, leads).repartition(3)).toArrow())
    return rows.sort("Lead ID")


def expected(model: predictive.PredictiveModel, leads: pl.DataFrame) -> pl.DataFrame:
    made = predictive.predict_frame(model, leads).frame.rename({"score": "predictive_score"})
    return made.sort("Lead ID")


def test_spark_predictions_equal_leadq_predict(
    spark: SparkSession, model: predictive.PredictiveModel
) -> None:
    leads = new_leads()
    got = on_spark(spark, model, leads)
    assert got.columns == [*leads.columns, *predictive.SCORED_COLUMNS]
    assert got.equals(expected(model, leads))
    assert got["probability"].n_unique() > 50
    assert got["reason_1"].null_count() < len(got)


def test_typed_columns_are_read_as_the_polars_engine_reads_them(
    spark: SparkSession, model: predictive.PredictiveModel
) -> None:
    """A warehouse table has numbers, not text: both engines turn them into the same text."""
    leads = new_leads().with_columns(
        pl.col("Company size (employees)").cast(pl.Int64, strict=False)
    )
    got = on_spark(spark, model, leads)
    assert got.equals(expected(model, leads))


def test_missing_columns_count_as_empty_and_none_at_all_is_refused(
    spark: SparkSession, model: predictive.PredictiveModel
) -> None:
    leads = new_leads(50).drop("Źródło leada")
    assert on_spark(spark, model, leads).equals(expected(model, leads))
    with pytest.raises(predictive.PredictiveError, match="none of the model's columns"):
        predict(model, to_spark(spark, pl.DataFrame({"Lead ID": ["x"], "other": ["y"]})))


def test_hostile_text_is_data(spark: SparkSession, model: predictive.PredictiveModel,
                              tmp_path: Path) -> None:  # fmt: skip
    leads = new_leads(5).with_columns(
        pl.Series(
            "Źródło leada",
            ["=cmd|' /C calc'!A0", "<script>x</script>", "'; DROP TABLE", "\x00nul", "é" * 5000],
        )
    )
    got = on_spark(spark, model, leads)
    assert got.equals(expected(model, leads))


def test_leads_that_already_have_a_prediction_column_are_refused(
    spark: SparkSession, model: predictive.PredictiveModel, tmp_path: Path
) -> None:
    from leadq.services.scoring import batch as polars_batch
    from leadq.services.scoring.batch import FileError
    from leadq.spark import batch as spark_batch
    from tests.scoring_strategies import AS_OF, shipped

    leads = new_leads(5).with_columns(
        pl.col("Lead ID").alias("id"), pl.lit(0.5).alias("probability")
    )
    leads.write_parquet(tmp_path / "leads.parquet")
    with pytest.raises(FileError, match="already have a 'probability' column"):
        spark_batch.plan(spark, shipped("classic"), str(tmp_path / "leads.parquet"), None, AS_OF,
                         model)  # fmt: skip
    with pytest.raises(FileError, match="already have a 'probability' column"):
        polars_batch.plan(shipped("classic"), tmp_path / "leads.parquet", None,
                          tmp_path / "out.parquet", AS_OF, model)  # fmt: skip
    assert pl.read_parquet(tmp_path / "leads.parquet").equals(leads)
