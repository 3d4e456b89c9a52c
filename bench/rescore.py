"""Rescoring everyone at workspace size: activate a shipped model (every score changes), rescore
the next day (decay moves some), and activate the first model again, each on the vectorised
engine (``services.scoring.bulk``); prints wall time, leads per second and peak memory.

    python bench/rescore.py --url postgresql+psycopg://postgres@127.0.0.1:5432/big \
        [--model dynamic]

Run it on a workspace ``bench/populate.py`` filled (``classic`` active); it leaves ``classic``
active again, with every score as of a day after the run (a lead scored after a moment is
rescored as of its own scoring: run it once per populated workspace).
"""

from __future__ import annotations

import argparse
import resource
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from leadq.services.scoring.bulk import rescore_everyone
from leadq.services.scoring.documents import read_model
from leadq.services.scoring.rescoring import activate, add_model
from leadq.store.db import Database
from leadq.store.tables import ScoringModelVersion


def _activate(db: Database, name: str, now: datetime) -> None:
    with db.unit_of_work() as session:
        stored = select(ScoringModelVersion).where(ScoringModelVersion.name == name)
        if session.scalars(stored).first() is None:
            add_model(session, read_model(name)[1], name, now)
        activate(session, name, now, "bench")


def _run(db: Database, title: str, as_of: datetime) -> None:
    started, done = time.perf_counter(), [0]

    def progress(n: int) -> None:
        done[0] += n
        if done[0] % 200_000 < n:
            print(f"  {done[0]:>9,} leads  {time.perf_counter() - started:6.1f} s", flush=True)

    total, changed = rescore_everyone(db, as_of, title, progress)
    wall = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{title}: {total:,} leads, {changed:,} scores changed, {wall:.1f} s "
          f"({total / wall:,.0f} leads/s), peak memory so far {peak:,.0f} MiB")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--model", default="dynamic")
    args = parser.parse_args()
    db = Database(args.url)
    now = datetime.now(UTC)
    _activate(db, args.model, now)
    _run(db, f"activate {args.model}", now)
    _run(db, f"rescore {args.model} a day later", now + timedelta(days=1))
    _activate(db, "classic", now + timedelta(days=1))
    _run(db, "activate classic again", now + timedelta(days=1))


if __name__ == "__main__":
    main()
