"""An events file imported stores what the same events sent one at a time through the API's
queued path store once the per-lead drainer has rescored their leads: the same events, and
each lead's first event, last activity, score, grade, stage and histories. The import rescores
on the vectorised engine and moves each lead's activity in the same write as its score; a lead
with an override takes the per-lead path inside it."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadq.domain.events import EventInput
from leadq.domain.leads import LeadInput
from leadq.services.intake import imports
from leadq.services.intake.event_files import derived_key
from leadq.services.intake.events import record_events
from leadq.services.intake.imports import import_events
from leadq.services.intake.leads import upsert_lead
from leadq.services.intake.policy import IntakePolicy
from leadq.services.qualification.decisions import OverrideRequest, add_override
from leadq.services.qualification.rules import current_rules
from leadq.services.scoring import queue
from leadq.services.scoring.documents import read_model
from leadq.services.scoring.rescoring import activate, add_model
from leadq.store.db import Database
from leadq.store.tables import Event, Lead, ScoreChange, StageChange
from tests.conftest import fresh_database

NOW = datetime(2026, 11, 20, 10, tzinfo=UTC)
POLICY = IntakePolicy()
PEOPLE = [
    LeadInput(email="ceo@firma.example", job_title="CEO", company_size=250, source="web"),
    LeadInput(email="analyst@firma.example", job_title="Analyst", company_size=12),
    LeadInput(email="vp@big.example", job_title="VP Sales", company_size=1200, industry="software"),
    LeadInput(email="pinned@big.example", job_title="Intern"),
    LeadInput(email="quiet@small.example"),
]
PINNED = "pinned@big.example"
TYPES = ["page_view", "email_opened", "email_clicked", "content_download", "webinar_attended",
         "pricing_requested", "demo_requested", "form_submitted"]  # fmt: skip

events = st.lists(
    st.tuples(
        st.sampled_from([p.email for p in PEOPLE]), st.sampled_from(TYPES), st.integers(0, 200 * 24)
    ),
    min_size=1,
    max_size=40,
)


def _workspace(db: Database) -> None:
    """The people, one with an event of before (its activity moves from there) and one whose
    score a person adjusted (the engine leaves that lead to the per-lead path)."""
    then = NOW - timedelta(days=40)
    override = OverrideRequest("points", "met them at a fair", points=15)
    with db.unit_of_work() as session:
        _, text = read_model("classic")
        activate(session, add_model(session, text, "classic.yaml", then).name, then)
        ids = {p.email: upsert_lead(session, p, "api", then, POLICY).lead.id for p in PEOPLE}
        before = EventInput(lead_id=ids["ceo@firma.example"], type="page_view",
                            occurred_at=then - timedelta(days=1))  # fmt: skip
        record_events(session, [before], then, POLICY.clock_skew)
        add_override(session, current_rules(), ids[PINNED], override, "anna", then)


def _moment(hours: int) -> datetime:
    return NOW - timedelta(hours=hours)


def _one_at_a_time(db: Database, generated: list[tuple[str, str, int]]) -> None:
    """Each row as an API event of its own, keyed as the import keys it, then the drainer."""
    with db.reading() as session:
        ids = {email: lead_id for email, lead_id in session.execute(select(Lead.email, Lead.id))}
    for email, kind, hours in generated:
        at, lead_id = _moment(hours), ids[email]
        key = derived_key(lead_id, kind, at, {})
        event = EventInput(lead_id=lead_id, type=kind, occurred_at=at, idempotency_key=key)

        def work(session: Session, event: EventInput = event) -> None:
            record_events(session, [event], NOW, POLICY.clock_skew, queued=True)

        db.run(work)
    queue.drain(db, lambda: NOW)


def _imported(db: Database, generated: list[tuple[str, str, int]], folder: Path) -> None:
    path = folder / "events.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email", "type", "occurred_at"])
        writer.writerows((e, k, _moment(h).isoformat()) for e, k, h in generated)
    summary = import_events(db, path, POLICY, NOW, folder / "rejects.csv")
    assert summary.rejected == 0


STORED: dict[str, list[Any]] = {
    "events": [Event.lead_id, Event.type, Event.occurred_at, Event.properties, Event.channel,
               Event.idempotency_key],
    "leads": [Lead.id, Lead.first_event_at, Lead.last_activity_at, Lead.score, Lead.grade,
              Lead.fit_grade, Lead.engagement_grade, Lead.engagement_points, Lead.stage,
              Lead.stage_changed_at, Lead.pql, Lead.scored_at, Lead.score_breakdown],
    "score_history": [ScoreChange.lead_id, ScoreChange.score, ScoreChange.grade,
                      ScoreChange.reason, ScoreChange.at],
    "stage_history": [StageChange.lead_id, StageChange.from_stage, StageChange.to_stage,
                      StageChange.reason, StageChange.at],
}  # fmt: skip


def _stored(db: Database) -> dict[str, Counter[str]]:
    with db.reading() as session:
        return {name: Counter(repr(tuple(row)) for row in session.execute(select(*wanted)))
                for name, wanted in STORED.items()}  # fmt: skip


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
@settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(generated=events, chunk=st.sampled_from([1, 3, 20_000]))
def test_an_events_import_stores_what_queued_intake_stores(
    backend: str, generated: list[tuple[str, str, int]], chunk: int,
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    folder = tmp_path_factory.mktemp("events")
    found = []
    for way in ("intake", "import"):
        (folder / way).mkdir()
        db = fresh_database(backend, request, folder / way)
        try:
            _workspace(db)
            if way == "intake":
                _one_at_a_time(db, generated)
            else:
                monkeypatch.setattr(imports, "EVENT_CHUNK_ROWS", chunk)  # a request per chunk
                _imported(db, generated, folder)
            found.append(_stored(db))
        finally:
            db.dispose()
    expected, got = found
    for table in expected:
        extra, missing = sorted(got[table] - expected[table]), sorted(expected[table] - got[table])
        assert got[table] == expected[table], (table, extra, missing)
