"""Killing ``leadq worker`` while it drains the rescoring queue loses no event and scores none
twice: after a second worker finishes, every stored score equals a fresh one, each lead's first
and last activity are its events', the score history has no repeated entry, each grade crossing
was recorded once and its automation ran once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from leadq.domain.events import EventInput
from leadq.domain.leads import LeadInput
from leadq.domain.scoring.evaluate import EventFact, evaluate
from leadq.services.intake.events import record_events
from leadq.services.intake.leads import upsert_lead
from leadq.services.intake.policy import IntakePolicy
from leadq.services.scoring import queue
from leadq.services.scoring.rescoring import activate, add_model, breakdown_json, lead_facts
from leadq.services.scoring.rescoring import active_model as model_in_force
from leadq.store.db import Database
from leadq.store.tables import DomainEvent, Event, FollowUpTask, Lead, ScoreChange
from tests.automation.documents import put_in_force
from tests.conftest import fresh_database
from tests.reliability.test_concurrent_intake import MODEL, SIZES, TITLES

CRASH_MODEL = yaml.safe_dump(sort_keys=False, data={**yaml.safe_load(MODEL), "name": "crash",
                              "grades": {"cold": 0, "warm": 14, "hot": 24}})  # fmt: skip
"""The load test's model with lower lines, so that a good share of these leads turn hot."""
LEADS = 400
PER_CLAIM = 25
AUTOMATION = """
rules:
  - id: call_hot
    trigger: grade_changed
    when: {to: [hot]}
    do: [{task: {kind: first_touch, due_minutes: 60}}]
"""


def _queued_workspace(db: Database, now: datetime) -> None:
    """Leads without scores, then a model, then their events through the queue."""
    with db.unit_of_work() as session:
        ids = [upsert_lead(session, LeadInput(email=f"p{i}@firm.example",
                                              job_title=TITLES[i % len(TITLES)],
                                              company_size=SIZES[i % len(SIZES)]),
                           "tests", now, IntakePolicy()).lead.id
               for i in range(LEADS)]  # fmt: skip
        activate(session, add_model(session, CRASH_MODEL, "crash.yaml", now).name, now)
    events = [
        EventInput(lead_id=lead_id, type=kind, occurred_at=now - timedelta(minutes=k),
                   properties={"path": "/pricing"})
        for i, lead_id in enumerate(ids)
        for k, kind in enumerate(["email_opened", "page_view", "webinar_attended"][: 1 + i % 3]
                                 * (1 + i % 7))
    ]  # fmt: skip
    with db.unit_of_work() as session:
        record_events(session, events, now, timedelta(minutes=5), queued=True)


def _waiting(db: Database) -> int:
    with db.reading() as session:
        return queue.waiting(session)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_worker_killed_mid_claim_loses_nothing_and_scores_nothing_twice(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    db = fresh_database(backend, request, tmp_path)
    path = put_in_force(monkeypatch, tmp_path, AUTOMATION)
    now = datetime.now(UTC) - timedelta(seconds=1)
    _queued_workspace(db, now)
    queued = _waiting(db)
    assert queued == LEADS
    env = {**os.environ, "LEADQ_DATABASE_URL": db.url, "LEADQ_AUTOMATION_FILE": str(path)}
    command = [sys.executable, "-m", "leadq", "worker", "--leads-per-claim", str(PER_CLAIM)]
    worker = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)  # fmt: skip
    deadline = time.monotonic() + 120
    while _waiting(db) > queued - 3 * PER_CLAIM and time.monotonic() < deadline:
        time.sleep(0.01)
    worker.send_signal(signal.SIGKILL)  # a claim is being worked on: rescored, not committed
    worker.wait(timeout=10)
    left = _waiting(db)
    assert 0 < left < queued, "the worker was to be killed with part of the queue drained"
    again = subprocess.run([*command, "--once"], env=env, cwd=tmp_path, capture_output=True,
                           text=True, timeout=300)  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert f"rescored {left} queued" in again.stdout
    assert _waiting(db) == 0
    _assert_scored_once(db)
    db.dispose()


def _assert_scored_once(db: Database) -> None:
    with db.reading() as session:
        model = model_in_force(session)
        assert model is not None
        events: dict[int, list[EventFact]] = defaultdict(list)
        for row in session.scalars(select(Event)):
            events[row.lead_id].append(EventFact(row.type, row.occurred_at, row.properties,
                                                 row.channel))  # fmt: skip
        history: dict[int, list[ScoreChange]] = defaultdict(list)
        for change in session.scalars(select(ScoreChange).order_by(ScoreChange.id)):
            history[change.lead_id].append(change)
        crossed = select(DomainEvent.lead_id).where(DomainEvent.type == "lead.grade_changed")
        crossings = Counter(session.scalars(crossed))
        tasks = Counter(session.scalars(select(FollowUpTask.lead_id)))
        hot = 0
        for lead in session.scalars(select(Lead)):
            assert lead.scored_at is not None, lead.id
            times = [fact.occurred_at for fact in events[lead.id]]
            assert (lead.first_event_at, lead.last_activity_at) == (min(times), max(times))
            card = evaluate(model, lead_facts(lead), events[lead.id], lead.scored_at)
            assert (lead.score, lead.grade, lead.score_breakdown) == (
                card.score, card.grade, breakdown_json(card)), lead.id  # fmt: skip
            changes = [(c.score, c.grade) for c in history[lead.id]]
            assert changes[-1] == (card.score, card.grade)
            assert all(a != b for a, b in pairwise(changes)), changes
            grades = [grade for _, grade in changes]
            moved = 1 + sum(a != b for a, b in pairwise(grades))
            assert crossings[lead.id] == moved, lead.id
            assert tasks[lead.id] == grades.count("hot"), lead.id
            hot += lead.grade == "hot"
        assert 0 < hot < LEADS  # the automation had work, and not on every lead
        assert session.scalar(select(func.count()).select_from(Lead)) == LEADS
