"""Scoring benchmark: ``leadq score`` on 1,000,000 leads and 10,000,000 events (wall time and
peak memory), and the vectorised engine against the per-lead evaluator on 100,000 leads.

    python bench/score.py [--leads 1000000] [--events 10000000] [--sample 100000]

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import numpy as np
import polars as pl

from leadq.domain.scoring.evaluate import EventFact, evaluate
from leadq.domain.scoring.model import parse_model
from leadq.domain.scoring.vectorised import score_frame

AS_OF = datetime(2026, 6, 1, tzinfo=UTC)
SENIORITY = ["c_level", "owner", "vp", "director", "head", "manager", "individual", None]
TYPES = ["page_view", "page_view", "page_view", "email_opened", "content_download",
         "webinar_attended", "email_clicked", "form_submitted"]  # fmt: skip
ASSETS = ["whitepaper", "ebook", "guide", None]
PATHS = ["/", "/pricing", "/pricing/enterprise", "/blog/post", "/product", None]


def generate(leads: int, events: int, seed: int = 1) -> tuple[pl.DataFrame, pl.DataFrame]:
    rng = np.random.default_rng(seed)
    lead_frame = pl.DataFrame({
        "id": np.arange(1, leads + 1),
        "seniority": pl.Series(SENIORITY).gather(rng.integers(0, len(SENIORITY), leads)),
        "company_size": rng.integers(1, 2000, leads),
    })  # fmt: skip
    seconds = rng.integers(0, 180 * 86_400, events)
    event_frame = pl.DataFrame({
        "lead_id": rng.integers(1, leads + 1, events),
        "type": pl.Series(TYPES).gather(rng.integers(0, len(TYPES), events)),
        "occurred_at": pl.Series([AS_OF]).gather(np.zeros(events, dtype=np.int64))
        - pl.Series(seconds).cast(pl.Duration("us")) * 1_000_000,
        "asset_type": pl.Series(ASSETS).gather(rng.integers(0, len(ASSETS), events)),
        "path": pl.Series(PATHS).gather(rng.integers(0, len(PATHS), events)),
    })  # fmt: skip
    return lead_frame, event_frame


def run_cli(folder: Path) -> tuple[float, float]:
    """Wall seconds and peak memory (GiB) of ``leadq score`` in a child process."""
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "leadq", "score", "--leads", str(folder / "leads.parquet"),
         "--events", str(folder / "events.parquet"), "--model", "classic",
         "--as-of", AS_OF.isoformat(), "--out", str(folder / "scores.parquet")],
        check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    wall = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return wall, peak_kib / 1024 / 1024


def in_process(folder: Path) -> float:
    """Seconds of the same job in this process, already started: the engine's own share."""
    from leadq.services.scoring import batch, documents

    model, _ = documents.read_model("classic")
    start = time.perf_counter()
    scores, _ = batch.plan(model, folder / "leads.parquet", folder / "events.parquet",
                           folder / "again.parquet", AS_OF, None)  # fmt: skip
    batch.write(scores, folder / "again.parquet")
    return time.perf_counter() - start


def ratio(leads: pl.DataFrame, events: pl.DataFrame, sample: int) -> tuple[float, float]:
    """Seconds of the vectorised engine and of the per-lead evaluator on the same leads."""
    text = (resources.files("leadq.models") / "classic.yaml").read_text("utf-8")
    model = parse_model(text, "classic.yaml")
    leads = leads.head(sample)
    events = events.filter(pl.col("lead_id") <= sample)
    start = time.perf_counter()
    score_frame(model, leads.lazy(), events.lazy(), AS_OF).collect()
    vectorised = time.perf_counter() - start
    grouped: dict[int, list[EventFact]] = defaultdict(list)
    for row in events.iter_rows(named=True):
        properties = {k: row[k] for k in ("asset_type", "path") if row[k] is not None}
        grouped[row["lead_id"]].append(EventFact(row["type"], row["occurred_at"], properties))
    profiles = leads.to_dicts()
    start = time.perf_counter()
    for profile in profiles:
        evaluate(model, profile, grouped.get(profile["id"], []), AS_OF)
    per_lead = time.perf_counter() - start
    return vectorised, per_lead


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--sample", type=int, default=100_000)
    args = parser.parse_args()
    start = time.perf_counter()
    leads, events = generate(args.leads, args.events)
    print(f"generated {args.leads:,} leads and {args.events:,} events in "
          f"{time.perf_counter() - start:.1f} s", flush=True)  # fmt: skip
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        leads.write_parquet(folder / "leads.parquet")
        events.write_parquet(folder / "events.parquet")
        wall, peak = run_cli(folder)
        engine = in_process(folder)
    print(f"leadq score (classic, Parquet in and out): {wall:.1f} s wall, {peak:.2f} GiB peak;"
          f" the same job in a started process {engine:.1f} s (start-up and exit"
          f" {wall - engine:.1f} s)", flush=True)  # fmt: skip
    vectorised, per_lead = ratio(leads, events, args.sample)
    print(f"{args.sample:,} leads: vectorised {vectorised:.2f} s, per-lead evaluator "
          f"{per_lead:.2f} s → {per_lead / vectorised:.0f}× faster")  # fmt: skip


if __name__ == "__main__":
    main()
