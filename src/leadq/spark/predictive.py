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

from leadq.services.predictive import (
    REASONS,
    SCORED_COLUMNS,
    PredictiveModel,
    missing_columns,
    predicted,
)
from leadq.spark.rules import column

PREDICTED = "__predicted"
SCHEMA = "probability double, predictive_score bigint, " + ", ".join(
    f"{name} string" for name in SCORED_COLUMNS[2:]
)


def _batch_scorer(model: PredictiveModel, names: list[str]) -> Callable[..., pa.Array]:
    def score_batch(*arrays: pa.Array) -> pa.Array:
        frame = pl.DataFrame(
            [pl.Series(n, pl.from_arrow(a)) for n, a in zip(names, arrays, strict=True)]
        )
        added = predicted(model, frame)
        values = [
            pa.array(added["probability"], pa.float64()),
            pa.array(added["score"], pa.int64()),
            *(pa.array(added[f"reason_{i + 1}"], pa.string()) for i in range(REASONS)),
        ]
        return pa.StructArray.from_arrays(values, names=list(SCORED_COLUMNS))

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
