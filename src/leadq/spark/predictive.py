"""Predictive models on Spark: a trained model applied through a vectorised Arrow UDF.

Rows reach Python in Arrow batches of the model's columns only, as typed as Spark holds them; each
batch goes through exactly the code ``leadq predict`` runs, so the results are the same.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import polars as pl
import pyarrow as pa
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.pandas.functions import arrow_udf

from leadq.services.predictive.model import (
    REASONS,
    SCORED_COLUMNS,
    PredictiveModel,
    as_scored_columns,
    missing_columns,
    predicted,
)
from leadq.spark.rules import column

PREDICTED = "__predicted"
SPARK_TYPES = ("double", "bigint", *(["string"] * REASONS))
ARROW_TYPES = (pa.float64(), pa.int64(), *([pa.string()] * REASONS))
"""The types of ``SCORED_COLUMNS``, in order."""
SCHEMA = ", ".join(f"{n} {t}" for n, t in zip(SCORED_COLUMNS, SPARK_TYPES, strict=True))


def _batch_scorer(model: PredictiveModel, names: list[str]) -> Callable[..., pa.Array]:
    def score_batch(*arrays: pa.Array) -> pa.Array:
        frame = pl.DataFrame(
            [pl.Series(n, pl.from_arrow(a)) for n, a in zip(names, arrays, strict=True)]
        )
        added = as_scored_columns(predicted(model, frame))
        values = [pa.array(v, t) for v, t in zip(added.values(), ARROW_TYPES, strict=True)]
        return pa.StructArray.from_arrays(values, names=list(added))

    return score_batch


def predict(model: PredictiveModel, leads: DataFrame) -> DataFrame:
    """The leads with ``probability``, ``predictive_score`` (1–100) and ``reason_1`` …
    ``reason_3`` added. A model column the leads lack counts as empty."""
    missing = missing_columns(model, leads.columns)
    present = [c for c in model.columns if c not in missing]
    make: Any = arrow_udf  # its overloads do not cover a struct result
    scorer = make(_batch_scorer(model, present), SCHEMA)
    scored = leads.withColumn(PREDICTED, scorer(*(column(c) for c in present)))
    return scored.select(
        *(column(c) for c in leads.columns),
        *(F.col(f"{PREDICTED}.{name}").alias(name) for name in SCORED_COLUMNS),
    )
