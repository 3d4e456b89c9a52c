"""Import benchmark: rows/s of ``leadq import leads`` on a generated CRM export (e-mail, names,
company, a title in one of four languages, size, industry, country, source; one row in ten a
person already met earlier in the file), ``classic`` active, against a raw insert of the same
rows' columns into a copy of the ``leads`` table with the same indexes (PostgreSQL: COPY;
SQLite: executemany), in one run. Peak memory of the import is printed too.

    python bench/import.py                         # 20,000 rows, SQLite then PostgreSQL
    python bench/import.py --backend postgresql --rows 100000
    python bench/import.py --rows 20000 --events 200000   # then an events file of its people

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import csv
import random
import resource
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text

from ingest import _database
from leadq.services.intake.imports import import_events, import_leads
from leadq.services.intake.policy import IntakePolicy
from leadq.services.scoring.documents import read_model
from leadq.services.scoring.rescoring import activate, add_model
from leadq.store.db import Database

COLUMNS = ["email", "first_name", "last_name", "company", "job_title", "company_size",
           "industry", "country", "source"]  # fmt: skip
TITLES = ["CEO", "Head of Sales", "Marketing Manager", "Dyrektor Sprzedaży", "Kierownik IT",
          "Director de vânzări", "Inginer software", "Директор по маркетингу", "Менеджер",
          "VP Engineering", "Analyst", "Intern"]  # fmt: skip
EVENT_TYPES = ["page_view", "email_open", "email_click", "form_submit", "pricing_page_view",
               "webinar_attended", "demo_requested"]  # fmt: skip
NAMES = [("Anna", "Kowalska"), ("Piotr", "Nowak"), ("Ioana", "Popescu"), ("Mihai", "Ionescu"),
         ("Ольга", "Козлова"), ("Иван", "Попов"), ("Emma", "Smith"), ("John", "Brown")]  # fmt: skip


def _file(path: Path, rows: int) -> list[list[str]]:
    rng = random.Random(7)
    written = []
    for i in range(rows):
        person = rng.randrange(i) if i > 10 and rng.random() < 0.1 else i  # met again
        first, last = rng.choice(NAMES)
        written.append([f"p{person}@firm{person % 5000}.example", first, last,
                        f"Firm {person % 5000}", rng.choice(TITLES),
                        str(rng.choice([5, 40, 250, 1200])),
                        rng.choice(["software", "retail", "logistics"]),
                        rng.choice(["PL", "RO", "RU", "GB"]),
                        rng.choice(["web", "event", "paid_search", "referral"])])  # fmt: skip
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        writer.writerows(written)
    return written


def _events_file(path: Path, leads: list[list[str]], count: int) -> None:
    """Events of the file's people, named by e-mail, from January to November 2026."""
    rng = random.Random(11)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email", "type", "occurred_at", "channel"])
        for _ in range(count):
            day, second = rng.randrange(365), rng.randrange(86_400)
            writer.writerow([rng.choice(leads)[0], rng.choice(EVENT_TYPES),
                             f"2026-{1 + day % 11:02d}-{1 + day % 28:02d}T{second // 3600:02d}:"
                             f"{second // 60 % 60:02d}:{second % 60:02d}Z",
                             rng.choice(["web", "email"])])  # fmt: skip


def _imported(url: str, path: Path, events: Path | None) -> tuple[float, str, float | None]:
    db = Database(url)
    db.upgrade()
    now = datetime.now(UTC)
    with db.unit_of_work() as session:
        _, document = read_model("classic")
        activate(session, add_model(session, document, "classic.yaml", now).name, now)
    start = time.perf_counter()
    summary = import_leads(db, path, {}, IntakePolicy(), now, path.with_suffix(".rejects.csv"))
    seconds = time.perf_counter() - start
    outcome = f"{summary.created} created, {summary.merged} merged"
    events_seconds = None
    if events is not None:
        start = time.perf_counter()
        stored = import_events(db, events, IntakePolicy(), now, events.with_suffix(".rejects.csv"))
        events_seconds = time.perf_counter() - start
        outcome += f"; {stored.accepted} events stored, {stored.rejected} rejected"
    db.dispose()
    return seconds, outcome, events_seconds


def _raw(url: str, rows: list[list[str]]) -> float:
    """Seconds to insert the rows' columns into a copy of ``leads``, with its indexes."""
    engine = create_engine(url)
    now = datetime.now(UTC).replace(tzinfo=None)
    unique = list({r[0]: r for r in rows}.values())  # the e-mail is unique in ``leads``
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("CREATE TABLE leads_raw (LIKE leads INCLUDING ALL)"))
        else:
            schema = conn.execute(text("SELECT sql FROM sqlite_master WHERE name = 'leads'"))
            conn.execute(text(schema.scalar_one().replace("leads", "leads_raw", 1)))
            for (index,) in conn.execute(text(
                    "SELECT sql FROM sqlite_master WHERE tbl_name = 'leads' AND type = 'index'"
                    " AND sql IS NOT NULL")):  # fmt: skip
                conn.execute(text(index.replace(" ON leads ", " ON leads_raw ")
                                  .replace("INDEX ix_", "INDEX raw_ix_")
                                  .replace("INDEX uq_", "INDEX raw_uq_")))  # fmt: skip
    columns = [*COLUMNS, "stage", "channels", "attributes", "pql", "seniority_inferred",
               "created_at", "updated_at"]  # fmt: skip
    values = [[*r[:5], int(r[5]), *r[6:], "iql", "[]", "{}", False, False, now, now]
              for r in unique]  # fmt: skip
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        start = time.perf_counter()
        if engine.dialect.name == "postgresql":
            with cursor.copy(f"COPY leads_raw ({', '.join(columns)}) FROM STDIN") as copy:
                for row in values:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" for _ in columns)
            cursor.executemany(f"INSERT INTO leads_raw ({', '.join(columns)}) VALUES ({marks})",
                               values)  # fmt: skip
        raw.commit()
        return time.perf_counter() - start
    finally:
        raw.close()
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--events", type=int, default=0, help="then import this many events")
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "crm.csv"
        rows = _file(path, args.rows)
        events = Path(folder) / "events.csv" if args.events else None
        if events is not None:
            _events_file(events, rows, args.events)
        for backend in backends:
            with _database(backend) as url:
                seconds, outcome, events_seconds = _imported(url, path, events)
                raw = _raw(url, rows)
            rate = args.rows / seconds
            print(f"{backend:10s} import {args.rows:,} rows in {seconds:6.1f} s: {rate:6.0f} rows/s"
                  f" ({outcome}); raw insert {args.rows / raw:8.0f} rows/s; ratio"
                  f" {raw / seconds:.3f}")  # fmt: skip
            if events_seconds is not None:
                print(f"{'':10s} events {args.events:,} in {events_seconds:6.1f} s:"
                      f" {args.events / events_seconds:6.0f} events/s")  # fmt: skip
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory {peak:.0f} MiB")


if __name__ == "__main__":
    main()
