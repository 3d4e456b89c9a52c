"""An import speaks to the database per chunk, not per row: the statements it sends do not grow
with the rows of a chunk (a lookup, insert or rescoring per row would send thousands here).
Statements are counted, not timed: the figures live in ``bench/import.py``."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select, text

from leadq.services.intake import imports
from leadq.services.intake.imports import import_events, import_leads
from leadq.services.intake.policy import IntakePolicy
from leadq.services.scoring.documents import read_model
from leadq.services.scoring.rescoring import activate, add_model
from leadq.store.db import Database
from leadq.store.tables import Event, Lead

NOW = datetime(2026, 11, 20, 10, tzinfo=UTC)
POLICY = IntakePolicy(phone_region="PL")
ROWS = 1_200
TITLES = ["CEO", "Dyrektor Sprzedaży", "Менеджер", "Inginer software", "Analyst"]


@contextmanager
def counted(db: Database) -> Iterator[list[str]]:
    sent: list[str] = []

    def note(*args: Any) -> None:
        sent.append(args[2])

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        yield sent
    finally:
        event.remove(db.engine, "before_cursor_execute", note)


CHUNK = 400
AGAIN = [i for i in range(CHUNK, ROWS) if i % 10 == 9]
"""Rows of a person met in the chunk before (on a row of its own), who now brings a city."""


def _people(path: Path) -> None:
    """People at business and free-mail addresses, a few sharing a company number."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email", "phone", "first_name", "job_title", "company_size", "source",
                         "city"])  # fmt: skip
        for i in range(ROWS):
            person = i - CHUNK - 1 if i in AGAIN else i
            domain = "gmail.com" if person % 7 == 0 else f"firma{person % 40}.example"
            phone = f"+4860100{person % 300:04d}" if person % 3 == 0 else ""
            city = "Kraków" if i in AGAIN else ""
            writer.writerow([f"p{person}@{domain}", phone, "Anna", TITLES[person % 5],
                             str(10 + person % 500), "web", city])  # fmt: skip


def _people_imported(db: Database, tmp_path: Path) -> Path:
    """The people imported; where their events file goes."""
    people = tmp_path / "people.csv"
    _people(people)
    import_leads(db, people, {}, POLICY, NOW, tmp_path / "rejects.csv")
    return tmp_path / "events.csv"


def _written(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def test_statements_per_chunk_do_not_grow_with_its_rows(db: Database, tmp_path: Path,
                                                         monkeypatch: Any) -> None:  # fmt: skip
    with db.unit_of_work() as session:
        _, text = read_model("classic")
        activate(session, add_model(session, text, "classic.yaml", NOW).name, NOW)
    path = tmp_path / "people.csv"
    _people(path)
    monkeypatch.setattr(imports, "CHUNK_ROWS", CHUNK)
    with counted(db) as sent:
        summary = import_leads(db, path, {}, POLICY, NOW, tmp_path / "rejects.csv")
    assert (summary.created, summary.merged, summary.rejected) == (ROWS - len(AGAIN), len(AGAIN), 0)
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Lead)) == summary.created
        assert (
            session.scalar(select(func.count()).where(Lead.score.is_not(None))) == summary.created
        )
    assert len(sent) < 40 * ROWS // CHUNK, len(sent)


def test_an_events_file_resolves_its_leads_per_chunk(db: Database, tmp_path: Path,
                                                      monkeypatch: Any) -> None:  # fmt: skip
    path = _people_imported(db, tmp_path)
    rows = []
    for i in range(ROWS):  # the rows of people met again name people never met
        by_phone = i % 3 == 0 and i not in AGAIN
        email = f"p{i}@{'gmail.com' if i % 7 == 0 else f'firma{i % 40}.example'}"
        phone = f"+4860100{i % 300:04d}" if by_phone else ""
        day = f"2026-10-{1 + i % 28:02d}T10:00:00Z"
        rows.append(["" if by_phone else email, phone, "page_view", day])
    _written(path, ["email", "phone", "type", "occurred_at"], rows)
    monkeypatch.setattr(imports, "EVENT_CHUNK_ROWS", CHUNK)
    with counted(db) as sent:
        summary = import_events(db, path, POLICY, NOW, tmp_path / "events.rejects.csv")
    with db.reading() as session:
        stored = session.scalar(select(func.count()).select_from(Event))
    assert summary.accepted == stored and summary.rejected == len(AGAIN)
    assert len(sent) < 60 * ROWS // CHUNK, len(sent)


def test_the_tables_a_chunk_looks_up_are_analysed_as_they_grow(
    db: Database, tmp_path: Path, monkeypatch: Any
) -> None:
    """PostgreSQL plans a lookup once for every chunk: on a table it has no statistics of, the
    accounts' lookup by domain scanned every account per chunk (3 s of a 40,000-lead import)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite plans without statistics")
    path = tmp_path / "people.csv"
    _people(path)
    monkeypatch.setattr(imports, "CHUNK_ROWS", CHUNK)
    with counted(db) as sent:
        import_leads(db, path, {}, POLICY, NOW, tmp_path / "rejects.csv")
    growing = [s for s in sent if s.startswith("ANALYZE") and "(" in s]
    for table in ("leads", "companies"):  # after chunks 1 and 2; the last refresh is whole
        assert sum(f"ANALYZE {table} (" in s for s in growing) == 2, growing
    with db.reading() as session:
        known = "SELECT count(*) FROM pg_stats WHERE tablename = 'companies' AND attname = 'domain'"
        assert session.scalar(text(known)) == 1


STATS = "SELECT attname FROM pg_stats WHERE tablename = :table"


def test_an_import_ends_with_statistics_of_all_but_the_score_breakdown(
    db: Database, tmp_path: Path
) -> None:
    """The breakdown's JSON was a third of every ``ANALYZE leads``; nothing filters by it. The
    search index's expression and the columns statements compare are all known after."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite plans without statistics")
    with db.unit_of_work() as session:
        _, document = read_model("classic")
        activate(session, add_model(session, document, "classic.yaml", NOW).name, NOW)
    path = tmp_path / "people.csv"
    _people(path)
    import_leads(db, path, {}, POLICY, NOW, tmp_path / "rejects.csv")
    with db.reading() as session:
        known = set(session.scalars(text(STATS), {"table": "leads"}))
        searched = set(session.scalars(text(STATS), {"table": "ix_leads_search"}))
        breakdowns = session.scalar(select(func.count()).where(Lead.score_breakdown.is_not(None)))
    assert breakdowns == ROWS - len(AGAIN), "every lead has a breakdown to sample"
    assert {"email", "score", "stage", "attributes", "created_at"} <= known
    assert "score_breakdown" not in known
    assert searched, "the search index's expression is analysed"


def test_an_events_import_refreshes_what_events_move_and_leaves_the_rest(
    db: Database, tmp_path: Path
) -> None:
    """Events move activity, scores and stages, not what the search index or the JSON hold."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite plans without statistics")
    path = _people_imported(db, tmp_path)
    _written(path, ["email", "type", "occurred_at"],
             [[f"p{i}@firma{i % 40}.example", "page_view", "2026-10-01T10:00:00Z"]
              for i in range(1, ROWS) if i % 7])  # fmt: skip
    with counted(db) as sent:
        import_events(db, path, POLICY, NOW, tmp_path / "events.rejects.csv")
    analysed = [s for s in sent if s.startswith("ANALYZE")]
    leads = [s for s in analysed if s.startswith("ANALYZE leads")]
    assert leads and all("(" in s for s in leads), analysed
    assert "last_activity_at" in leads[-1] and "score_breakdown" not in leads[-1]
    assert "ANALYZE events" in analysed
    with db.reading() as session:
        known = set(session.scalars(text(STATS), {"table": "leads"}))
    assert "last_activity_at" in known
