"""Scoring Parquet tables on Spark: the Spark twin of ``services.batch``.

Paths are anything Spark reads (a file, a folder of part files, ``s3a://``, ``abfss://``,
``gs://``, ``hdfs://``…). The output is a Parquet folder that must not exist yet: a data lake
path is never overwritten by mistake.
"""

from __future__ import annotations

from datetime import datetime

from py4j.protocol import Py4JJavaError
from pyspark.errors import PySparkException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from leadq.domain.scoring.model import ScoringModel
from leadq.domain.seniority import infer_seniority
from leadq.services.predictive.model import (
    SCORED_COLUMNS,
    PredictiveModel,
    missing_columns,
    missing_note,
)
from leadq.services.scoring.batch import FileError, check_free
from leadq.spark import predictive as spark_predictive
from leadq.spark.rules import column, score_frame
from leadq.spark.session import condition, error_line

PARQUET_ONLY = "the Spark engine reads and writes Parquet (a file, a folder or a URI)"


def read(spark: SparkSession, uri: str) -> DataFrame:
    if uri.lower().endswith(".csv"):
        raise FileError(f"{uri}: {PARQUET_ONLY}")
    try:
        return spark.read.parquet(uri)
    except (PySparkException, Py4JJavaError) as exc:
        if condition(exc) == "PATH_NOT_FOUND":
            raise FileError(f"{uri}: no such file or folder") from None
        raise FileError(f"{uri}: cannot read it as Parquet ({error_line(exc)})") from None


def prepare_leads(spark: SparkSession, leads: DataFrame, uri: str,
                  wanted: set[str]) -> DataFrame:  # fmt: skip
    """Check the id column; infer seniority from job_title where a row has none (as intake
    does), once per distinct title, when a model looks at seniority (``wanted`` fields)."""
    if "id" not in leads.columns:
        raise FileError(f"{uri}: the leads need an 'id' column")
    if reserved := [c for c in leads.columns if c.startswith("__")]:
        raise FileError(f"{uri}: column names starting with __ are leadq's own: {reserved[0]!r}")
    if "seniority" not in wanted or "job_title" not in leads.columns:
        return leads
    if not isinstance(leads.schema["job_title"].dataType, T.StringType):
        return leads
    stated = F.col("seniority").cast("string") if "seniority" in leads.columns else F.lit(None)
    unknown = leads.filter(stated.isNull() & F.col("job_title").isNotNull())
    titles = [row[0] for row in unknown.select("job_title").distinct().collect()]
    found = [(t, s.value) for t in titles if (s := infer_seniority(t))]
    schema = "__title string, __seniority string"
    inferred = F.broadcast(spark.createDataFrame(found, schema))
    joined = leads.join(inferred, F.col("job_title") == F.col("__title"), "left")
    return joined.withColumn("seniority", F.coalesce(stated, F.col("__seniority"))).drop(
        "__title", "__seniority"
    )


def prepare_events(events: DataFrame, uri: str, leads: DataFrame) -> DataFrame:
    """``lead_id``, ``type``, ``occurred_at`` (a timestamp, or ISO-8601 text)."""
    missing = [c for c in ("lead_id", "type", "occurred_at") if c not in events.columns]
    if missing:
        raise FileError(f"{uri}: the events need column(s) {', '.join(missing)}")
    when = events.schema["occurred_at"].dataType
    if not isinstance(when, T.TimestampType | T.TimestampNTZType | T.StringType):
        raise FileError(f"{uri}: occurred_at is {when.simpleString()}; use a timestamp"
                        " or ISO-8601 text")  # fmt: skip
    ids, lead_ids = leads.schema["id"].dataType, events.schema["lead_id"].dataType
    if isinstance(ids, T.StringType) != isinstance(lead_ids, T.StringType):
        raise FileError(f"{uri}: lead_id is {lead_ids.simpleString()} but the leads' id is "
                        f"{ids.simpleString()}")  # fmt: skip
    return events


def plan(spark: SparkSession, model: ScoringModel, leads_uri: str, events_uri: str | None,
         as_of: datetime, predictive: PredictiveModel | None = None,
         ) -> tuple[DataFrame, list[str]]:  # fmt: skip
    """Check the tables and build the scoring query; nothing is computed yet. Returns the query
    and notes for the user."""
    wanted = model.profile_fields() | set(predictive.columns if predictive else ())
    leads = prepare_leads(spark, read(spark, leads_uri), leads_uri, wanted)
    events = None
    if events_uri is not None:
        events = prepare_events(read(spark, events_uri), events_uri, leads)
    notes: list[str] = []
    carry: tuple[str, ...] = ()
    if predictive is not None:
        check_free(leads.columns, leads_uri)
        notes = missing_note(missing_columns(predictive, leads.columns))
        leads = spark_predictive.predict(predictive, leads)
        carry = SCORED_COLUMNS
    try:
        scored = score_frame(model, leads, events, as_of, carry)
        keep = ["id", "score", "grade", *(c for c in scored.columns if c.startswith("points.")),
                *carry]  # fmt: skip
        return scored.select(*(column(name) for name in keep)), notes
    except (PySparkException, Py4JJavaError) as exc:
        raise FileError(f"cannot score these tables: {error_line(exc)}") from None


def write(spark: SparkSession, scores: DataFrame, out: str) -> int:
    """Run the query and write ``id, score, grade, points.<criterion>…``; returns rows."""
    if out.lower().endswith(".csv"):
        raise FileError(f"{out}: {PARQUET_ONLY}")
    try:
        scores.write.mode("errorifexists").parquet(out)
    except (PySparkException, Py4JJavaError) as exc:
        if condition(exc) == "PATH_ALREADY_EXISTS":
            raise FileError(f"{out}: already exists; choose a new --out") from None
        raise FileError(f"cannot score these tables: {error_line(exc)}") from None
    return spark.read.parquet(out).count()
