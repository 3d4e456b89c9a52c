"""Starting Spark: check that PySpark and Java are there, and say what to do when they are not."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from leadq.services.errors import LeadqError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

JAVA_MAJOR = 17
SETTINGS = {
    # Timestamps without a zone are UTC, as in the polars engine, whatever the cluster's zone.
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
}


class SparkUnavailable(LeadqError):
    """PySpark or Java is missing: the Spark engine cannot start here."""


def _java() -> str | None:
    home = os.environ.get("JAVA_HOME")
    if home:
        candidate = os.path.join(home, "bin", "java")
        return candidate if os.access(candidate, os.X_OK) else None
    return shutil.which("java")


def java_major(version_text: str) -> int | None:
    """``openjdk version "17.0.15"`` → 17; ``"1.8.0_402"`` → 8."""
    found = re.search(r'version "(\d+)(?:\.(\d+))?', version_text)
    if found is None:
        return None
    major = int(found.group(1))
    return int(found.group(2) or 0) if major == 1 else major


def check() -> None:
    """Raise ``SparkUnavailable`` with the fix when PySpark or Java 17+ is missing."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise SparkUnavailable(
            "the Spark engine needs PySpark: pip install 'leadq[spark]' (and Java 17 or newer)"
        ) from None
    java = _java()
    where = "JAVA_HOME" if os.environ.get("JAVA_HOME") else "PATH"
    if java is None:
        raise SparkUnavailable(
            f"the Spark engine needs Java {JAVA_MAJOR} or newer, and there is no java on {where}:"
            " install a JDK (e.g. apt install openjdk-17-jre-headless) or set JAVA_HOME"
        )
    shown = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=60)
    major = java_major(shown.stderr + shown.stdout)
    if major is None or major < JAVA_MAJOR:
        raise SparkUnavailable(
            f"the Spark engine needs Java {JAVA_MAJOR} or newer; {java} is "
            f"{'of an unknown version' if major is None else f'Java {major}'}:"
            " install a newer JDK or point JAVA_HOME at one"
        )


def error_line(exc: Exception) -> str:
    """A Spark or JVM error in one line a person can read (they run to pages)."""
    text = str(exc).strip()
    line = text.splitlines()[0] if text else type(exc).__name__
    return line if len(line) <= 300 else line[:299] + "…"


def condition(exc: Exception) -> str | None:
    """Spark's error condition (``PATH_NOT_FOUND``…), where it names one."""
    named = getattr(exc, "getCondition", None)
    return named() if callable(named) else None


def start(master: str | None = None, settings: Mapping[str, str] | None = None) -> SparkSession:
    """The running session, or a new one. Without ``master`` Spark decides: ``local[*]`` for a
    plain process, the cluster's master under ``spark-submit``."""
    check()
    from py4j.protocol import Py4JError
    from pyspark.errors import PySparkException
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("leadq")
    if master is not None:
        builder = builder.master(master)
    wanted = {**SETTINGS, **(settings or {})}
    submitted = "PYSPARK_GATEWAY_PORT" in os.environ  # spark-submit started this process
    local = not submitted and (master is None or master.startswith("local"))
    if local:  # Python workers need leadq, as this interpreter has it; logs say only errors
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        logging = Path(__file__).with_name("log4j2.properties").as_uri()
        wanted.setdefault("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile={logging}")
    for key, value in wanted.items():
        builder = builder.config(key, value)
    try:
        spark = builder.getOrCreate()
    except (PySparkException, Py4JError) as exc:
        raise SparkUnavailable(f"cannot start Spark (master {master or 'default'}):"
                               f" {error_line(exc)}") from None  # fmt: skip
    for key, value in SETTINGS.items():  # a session that was already running gets them too
        spark.conf.set(key, value)
    return spark
