"""One local SparkSession for every Spark test: starting the JVM is the slow part."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import polars as pl
import pytest

from leadq.spark.session import SparkUnavailable, check

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

TEST_SETTINGS = {
    "spark.sql.shuffle.partitions": "2",
    "spark.default.parallelism": "2",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
}


def _missing() -> str | None:
    try:
        check()
    except SparkUnavailable as exc:
        return str(exc)
    return None


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    if reason := _missing():
        pytest.skip(reason)
    from pyspark.sql import SparkSession

    builder: Any = SparkSession.builder.master("local[2]").appName("leadq-tests")
    for key, value in TEST_SETTINGS.items():
        builder = builder.config(key, value)
    session: SparkSession = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    from leadq.spark.session import start

    yield start()  # the same session, with leadq's settings applied
    session.stop()


def to_spark(spark: SparkSession, frame: pl.DataFrame) -> DataFrame:
    """The very same rows and types on Spark, through Arrow."""
    return spark.createDataFrame(frame.to_arrow())
