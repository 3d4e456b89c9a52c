"""``leadq score --engine spark`` as a user runs it: a subprocess starting its own Spark."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from leadq.predictive.training import TrainingPlan
from leadq.services.predictive import files as predictive
from leadq.spark.session import java_major
from tests.e2e.test_cli import refused_in_one_line, run
from tests.predictive.exports import export_rows, write
from tests.spark.conftest import spark_missing

AS_OF = "2026-06-01T00:00:00+00:00"
needs_spark = pytest.mark.skipif(bool(spark_missing()), reason=spark_missing() or "")


def tables(folder: Path) -> None:
    """Leads as a CRM holds them (export columns plus profile fields) and their events."""
    header, body = export_rows(200, seed=3)
    leads = pl.DataFrame(body, schema=header, orient="row").drop("Lead Status", "Bought?")
    leads = leads.with_columns(
        pl.col("Lead ID").alias("id"),
        pl.col("Company size (employees)").cast(pl.Int64, strict=False).alias("company_size"),
        pl.Series("job_title", ["CEO", "Kierownik sprzedaży", None, "Engineer"] * 50),
    )
    leads.write_parquet(folder / "leads.parquet")
    events = pl.DataFrame({
        "lead_id": leads["id"].gather([i % 200 for i in range(0, 2000, 3)]),
        "type": ["page_view", "webinar_attended", "content_download"] * 222 + ["page_view"],
        "occurred_at": [f"2026-05-2{i % 10}T10:00:00Z" for i in range(667)],
        "path": ["/pricing", "/blog"] * 333 + [None],
        "asset_type": ["whitepaper"] * 667,
    })  # fmt: skip
    events.write_parquet(folder / "events.parquet")
    write(folder / "history.csv", *export_rows(400))
    predictive.train_file(folder / "history.csv", TrainingPlan("Bought?", id_column="Lead ID"),
                          folder / "model")  # fmt: skip


@needs_spark
def test_spark_submit_runs_leadq_score_on_spark_as_the_polars_engine(tmp_path: Path) -> None:
    """As on a cluster: spark-submit starts the driver and gives the master; the job file runs
    ``leadq score --engine spark`` (one JVM for both: starting one is the slow part)."""
    tables(tmp_path)
    job = subprocess.run([sys.executable, "-m", "leadq.cli.spark_job"], capture_output=True,
                         text=True, check=True).stdout.strip()  # fmt: skip
    submit = Path(sys.executable).parent / "spark-submit"
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable, "PYSPARK_DRIVER_PYTHON": sys.executable}
    common = ["--leads", "leads.parquet", "--events", "events.parquet", "--model", "dynamic",
              "--as-of", AS_OF, "--predictive", "model"]  # fmt: skip
    result = subprocess.run(
        [str(submit), "--master", "local[1]", "--conf", "spark.ui.enabled=false", job, *common,
         "--out", "submitted"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Scored 200 leads with dynamic" in result.stdout
    run(tmp_path, "score", *common, "--out", "polars.parquet")
    on_spark = pl.read_parquet(tmp_path / "submitted" / "*.parquet").sort("id")
    assert on_spark.equals(pl.read_parquet(tmp_path / "polars.parquet").sort("id"))
    assert on_spark.height == 200 and on_spark["score"].n_unique() > 1
    assert on_spark["probability"].n_unique() > 20


def test_without_pyspark_the_message_says_what_to_install(tmp_path: Path) -> None:
    code = ("import sys; sys.modules['pyspark'] = None; from leadq.cli import main; "
            "sys.argv = ['leadq', *sys.argv[1:]]; main()")  # fmt: skip
    args = ["score", "--engine", "spark", "--leads", "l.parquet", "--out", "o"]
    result = subprocess.run([sys.executable, "-c", code, *args], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)  # fmt: skip
    refused_in_one_line(result, args)
    assert "needs PySpark: pip install 'leadq[spark]'" in result.stderr


def test_without_java_the_message_says_what_to_install(tmp_path: Path) -> None:
    args = ["score", "--engine", "spark", "--leads", "l.parquet", "--out", "o"]
    env = {**os.environ, "JAVA_HOME": str(tmp_path / "no-jdk")}
    result = subprocess.run([sys.executable, "-m", "leadq", *args], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=120)  # fmt: skip
    refused_in_one_line(result, args)
    assert "needs Java 17 or newer, and there is no java on JAVA_HOME" in result.stderr
    old = tmp_path / "old-jdk" / "bin"
    old.mkdir(parents=True)
    (old / "java").write_text("#!/bin/sh\necho 'java version \"1.8.0_402\"' >&2\n")
    (old / "java").chmod(0o755)
    env["JAVA_HOME"] = str(old.parent)
    result = subprocess.run([sys.executable, "-m", "leadq", *args], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=120)  # fmt: skip
    refused_in_one_line(result, args)
    assert "is Java 8: install a newer JDK" in result.stderr


@pytest.mark.parametrize(
    ("text", "major"),
    [('openjdk version "17.0.15" 2025-04-15', 17), ('java version "1.8.0_402"', 8),
     ('openjdk version "21" 2023-09-19', 21), ("no version here", None)],
)  # fmt: skip
def test_java_versions_are_read(text: str, major: int | None) -> None:
    assert java_major(text) == major


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["--master", "local[2]"], "--master is for --engine spark"),
        (["--engine", "flink"], "Invalid value for '--engine'"),
    ],
)
def test_engine_options_are_checked(tmp_path: Path, args: list[str], reason: str) -> None:
    result = run(tmp_path, "score", "--leads", "l.csv", "--out", "o.csv", *args, ok=False)
    assert result.returncode == 2 and reason in result.stderr


@needs_spark
def test_a_bad_master_is_one_line_at_the_end(tmp_path: Path) -> None:
    result = run(tmp_path, "score", "--engine", "spark", "--master", "bogus://nowhere",
                 "--leads", "l.parquet", "--out", "o", ok=False, process=True)  # fmt: skip
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("leadq: cannot start Spark")


def test_spark_tests_share_one_worker(request: pytest.FixtureRequest) -> None:
    """Every Spark test carries the group pytest-xdist gives one worker; under pytest 9 the
    group was silently dropped and each worker started a JVM of its own."""
    if not hasattr(request.config, "workerinput"):
        pytest.skip("runs in one process: no workers to share")
    assert request.node.nodeid.endswith("@spark")
