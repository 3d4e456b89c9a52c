"""A CSV import killed half-way (SIGKILL) and run again imports every row exactly once."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from leadq.domain.scoring.evaluate import EventFact, evaluate
from leadq.services.scoring.documents import read_model
from leadq.services.scoring.rescoring import activate, add_model, lead_facts, model_of
from leadq.store.db import Database
from leadq.store.tables import (
    AuditEntry,
    Company,
    DomainEvent,
    Event,
    Lead,
    ScoringModelVersion,
    StageChange,
)

LEADS = 1_500  # three chunks of leads, two of events: a few seconds each
DOMAINS = 700
EVENTS_PER_LEAD = 16  # 24,000 events: a chunk of 20,000, then 4,000
TITLES = ["CEO", "VP Marketing", "Head of Sales", "IT Manager", "Analyst", "Director of Ops"]
KINDS = [
    ("content_download", "whitepaper", ""),
    ("webinar_attended", "", ""),
    ("page_view", "", "/pricing"),
    ("page_view", "", "/blog/a"),
    ("email_opened", "", ""),
]


def _email(i: int) -> str:
    return f"person{i}@firm{i % DOMAINS}.example"


def _leads_file(path: Path) -> None:
    rows = ["E-mail,first_name,company,job_title,company_size,city,Favourite colour"]
    rows += [f"{_email(i)},P{i},Firm {i % DOMAINS},{TITLES[i % len(TITLES)]},{(i * 37) % 900},"
             f"City {i % 40},c{i % 9}" for i in range(LEADS)]  # fmt: skip
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


def _events_file(path: Path, start: datetime) -> int:
    """Events named by e-mail, without an idempotency key column; every row a distinct event."""
    rows = ["email,type,occurred_at,asset_type,path"]
    for i in range(LEADS):
        for j in range(EVENTS_PER_LEAD):
            kind, asset, page = KINDS[(i + j) % len(KINDS)]
            at = (start + timedelta(minutes=i + j)).isoformat()
            rows.append(f"{_email(i)},{kind},{at},{asset},{page}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return len(rows) - 1


EVENT_CHUNK = 20_000
"""The events import's chunk here, so a file of 24,000 events commits one chunk before the
kill and another after (the chunk's size does not change what a rerun must do)."""


def _import(kind: str, *args: str) -> list[str]:
    chunked = f"from leadq.services.intake import imports; imports.EVENT_CHUNK_ROWS = {EVENT_CHUNK}"
    return [sys.executable, "-c", f"{chunked}; from leadq.cli import main; main()", "import",
            kind, *args]  # fmt: skip


def _env(db: Database) -> dict[str, str]:
    return {**os.environ, "LEADQ_DATABASE_URL": db.url, "COLUMNS": "200"}


def _kill_half_way(db: Database, cwd: Path, command: list[str],
                   stored: Callable[[], int], total: int) -> int:  # fmt: skip
    """Run the import and SIGKILL it once some rows, not all, are committed; returns how many
    were committed when it died."""
    process = subprocess.Popen(command, cwd=cwd, env=_env(db), stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)  # fmt: skip
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and process.poll() is None:
            if stored() > total // 10:
                break
            time.sleep(0.05)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL, "the import ended before it was killed"
    done = stored()
    assert 0 < done < total, done
    return done


def test_killed_imports_rerun_to_exactly_once(db: Database, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    with db.unit_of_work() as session:
        activate(session, add_model(session, read_model("classic")[1], "classic", now).name, now)

    def count(model: type[Lead] | type[Event]) -> Callable[[], int]:
        def stored() -> int:
            with db.reading() as session:
                return session.scalar(select(func.count()).select_from(model)) or 0

        return stored

    leads_csv, events_csv = tmp_path / "leads.csv", tmp_path / "events.csv"
    _leads_file(leads_csv)
    total_events = _events_file(events_csv, now - timedelta(days=30))
    leads_command = _import("leads", str(leads_csv), "--map", "E-mail=email")
    events_command = _import("events", str(events_csv))

    _kill_half_way(db, tmp_path, leads_command, count(Lead), LEADS)
    again = subprocess.run(leads_command, cwd=tmp_path, env=_env(db), capture_output=True,
                           text=True, timeout=600)  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert ", 0 merged, " in again.stdout and " 0 rejected" in again.stdout, again.stdout

    done = _kill_half_way(db, tmp_path, events_command, count(Event), total_events)
    again = subprocess.run(events_command, cwd=tmp_path, env=_env(db), capture_output=True,
                           text=True, timeout=600)  # fmt: skip
    assert again.returncode == 0, again.stderr
    reported = re.search(r"(\d+) stored, (\d+) already stored, 0 rejected", again.stdout)
    assert reported, again.stdout
    assert (int(reported[1]), int(reported[2])) == (total_events - done, done)

    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Lead)) == LEADS
        assert session.scalar(select(func.count(func.distinct(Lead.email)))) == LEADS
        created = [
            session.scalar(select(func.count()).select_from(table).where(column == value))
            for table, column, value in (
                (StageChange, StageChange.reason, "lead created"),
                (AuditEntry, AuditEntry.action, "lead.created"),
                (DomainEvent, DomainEvent.type, "lead.created"),
            )
        ]
        assert created == [LEADS] * 3  # each lead's arrival recorded once
        assert session.scalar(select(func.count()).select_from(Company)) == DOMAINS
        per_lead = session.execute(select(Event.lead_id, func.count()).group_by(Event.lead_id))
        assert {n for _, n in per_lead} == {EVENTS_PER_LEAD}
        assert session.scalar(select(func.count()).select_from(Event)) == total_events
        model = model_of(
            session.scalars(select(ScoringModelVersion).where(ScoringModelVersion.active)).one()
        )
        leads = session.scalars(select(Lead).order_by(Lead.id).limit(300)).all()
        for lead in leads:  # the scores written chunk by chunk equal fresh ones
            events = session.scalars(select(Event).where(Event.lead_id == lead.id)).all()
            facts = [EventFact(e.type, e.occurred_at, e.properties, e.channel) for e in events]
            assert lead.scored_at is not None
            card = evaluate(model, lead_facts(lead), facts, lead.scored_at)
            assert (lead.score, lead.grade) == (card.score, card.grade), lead.id
