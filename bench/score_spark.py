"""Spark benchmark: ``leadq score --engine spark`` beside the polars engine on the very same
Parquet files of 1,000,000 leads and 10,000,000 events (wall time and their ratio), and whether
both engines wrote the same scores.

    python bench/score_spark.py [--leads 1000000] [--events 10000000] [--master local[2]]
                                [--repeat 1]

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

from score import AS_OF, generate  # bench/score.py; the script's folder is on sys.path

MODEL = "classic"
TOLERANCE = 1e-9  # relative, for float columns that are not bit-for-bit equal


def run_cli(folder: Path, out: Path, engine: list[str]) -> tuple[float, float]:
    """Wall seconds and peak memory (GiB) of one ``leadq score`` child process; the memory is
    the child's own (plus the descendants it waited for)."""
    command = [sys.executable, "-m", "leadq", "score", "--leads", str(folder / "leads.parquet"),
               "--events", str(folder / "events.parquet"), "--model", MODEL,
               "--as-of", AS_OF.isoformat(), "--out", str(out), *engine]  # fmt: skip
    log = folder / "stderr.log"
    with log.open("wb") as stderr:
        start = time.perf_counter()
        child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
    child.returncode = code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.stderr.write(log.read_text("utf-8", errors="replace")[-4000:])
        raise SystemExit(f"{' '.join(command)} failed with exit code {code}")
    return wall, usage.ru_maxrss / 1024 / 1024


def compare(polars_out: Path, spark_out: Path) -> str:
    """Both outputs joined on ``id``: whether every column (score, grade, points.*) agrees."""
    mine = pl.read_parquet(polars_out)
    theirs = pl.read_parquet(spark_out / "*.parquet")
    notes = []
    only_polars = [c for c in mine.columns if c not in theirs.columns]
    only_spark = [c for c in theirs.columns if c not in mine.columns]
    if only_polars or only_spark:
        notes.append(f"columns only in polars {only_polars}, only in spark {only_spark}")
    shared = [c for c in mine.columns if c in theirs.columns and c != "id"]
    theirs = theirs.select(
        pl.col("id").cast(mine.schema["id"], strict=False),
        *(pl.col(c).cast(mine.schema[c], strict=False) for c in shared),
    )  # fmt: skip
    joined = mine.sort("id").join(theirs.sort("id"), on="id", how="full", suffix="__spark",
                                  coalesce=False)  # fmt: skip
    present = pl.col("id").is_not_null() & pl.col("id__spark").is_not_null()
    exact = [pl.col(c).eq_missing(pl.col(f"{c}__spark")) for c in shared]
    close = [
        (pl.col(c) - pl.col(f"{c}__spark")).abs()
        .le(TOLERANCE * pl.max_horizontal(pl.lit(1.0), pl.col(c).abs()))
        .fill_null(pl.col(c).is_null() & pl.col(f"{c}__spark").is_null())
        if mine.schema[c].is_float() else pl.col(c).eq_missing(pl.col(f"{c}__spark"))
        for c in shared
    ]  # fmt: skip
    counts = joined.select(
        rows=pl.len(),
        missing=(~present).sum(),
        inexact=(~(present & pl.all_horizontal(exact))).sum(),
        differ=(~(present & pl.all_horizontal(close))).sum(),
    ).row(0, named=True)  # fmt: skip
    duplicated = theirs.get_column("id").is_duplicated().sum()
    if duplicated:
        notes.append(f"{duplicated:,} spark rows share an id with another")
    if counts["missing"]:
        notes.append(f"{counts['missing']:,} ids in only one output "
                     f"(polars {mine.height:,} rows, spark {theirs.height:,})")  # fmt: skip
    if counts["differ"]:
        bad = [c for c, test in zip(shared, close, strict=True)
               if not joined.filter(present).select(test.all()).item()]  # fmt: skip
        verdict = f"no: {counts['differ']:,} of {counts['rows']:,} rows differ (in {bad})"
    elif counts["inexact"]:
        verdict = (f"yes within {TOLERANCE:g} ({counts['rows']:,} rows; "
                   f"{counts['inexact']:,} differ only in the last float bits)")  # fmt: skip
    else:
        verdict = f"yes ({counts['rows']:,} rows)"
    if only_polars or only_spark:
        verdict = verdict.replace("yes", "yes on the shared columns", 1)
    return "; ".join([verdict, *notes])


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--repeat", type=int, default=1, help="runs per engine; the best counts")
    args = parser.parse_args()
    repeat = max(1, args.repeat)
    start = time.perf_counter()
    leads, events = generate(args.leads, args.events)
    print(f"generated {args.leads:,} leads and {args.events:,} events in "
          f"{time.perf_counter() - start:.1f} s", flush=True)  # fmt: skip
    print(f"leads {args.leads:,} · events {args.events:,} · model {MODEL}", flush=True)
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        leads.write_parquet(folder / "leads.parquet")
        events.write_parquet(folder / "events.parquet")
        del leads, events
        polars_out = folder / "polars.parquet"
        polars_runs = [run_cli(folder, polars_out, []) for _ in range(repeat)]
        polars_wall = min(wall for wall, _ in polars_runs)
        polars_peak = max(peak for _, peak in polars_runs)
        best = f" (best of {repeat})" if repeat > 1 else ""
        print(f"polars engine: {polars_wall:.1f} s{best}, {polars_peak:.2f} GiB peak", flush=True)
        spark_walls = []
        for run in range(repeat):
            spark_out = folder / f"spark-{run}.parquet"  # a directory of part files, new each run
            wall, _ = run_cli(folder, spark_out, ["--engine", "spark", "--master", args.master])
            spark_walls.append(wall)
        spark_wall = min(spark_walls)
        print(f"spark engine ({args.master}): {spark_wall:.1f} s{best}  "
              f"(ratio spark/polars {spark_wall / polars_wall:.1f}×; memory is the JVM's, "
              "not measured here)", flush=True)  # fmt: skip
        print(f"outputs equal: {compare(polars_out, spark_out)}")


if __name__ == "__main__":
    main()
