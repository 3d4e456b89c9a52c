"""One local SparkSession for every Spark test: starting the JVM is the slow part."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import polars as pl
import pytest

from leadq.spark.session import SparkUnavailable, check, start

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

TEST_SETTINGS = {
    "spark.sql.shuffle.partitions": "2",
    "spark.default.parallelism": "2",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
}


def spark_missing() -> str | None:
    try:
        check()
    except SparkUnavailable as exc:
        return str(exc)
    return None


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    if reason := spark_missing():
        pytest.skip(reason)
    session = start("local[2]", TEST_SETTINGS)
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def to_spark(spark: SparkSession, frame: pl.DataFrame) -> DataFrame:
    """The very same rows and types on Spark, through Arrow."""
    return spark.createDataFrame(frame.to_arrow())
