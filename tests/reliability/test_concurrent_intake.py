"""Eight client processes post events for the same fifty leads to a two-worker server on
PostgreSQL, whose two drainers rescore the queued leads while events keep arriving: every
distinct event is stored once, and every stored score equals a fresh one."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from leadq.domain.leads import LeadInput
from leadq.domain.scoring.evaluate import EventFact, evaluate
from leadq.services.intake.leads import upsert_lead
from leadq.services.intake.policy import IntakePolicy
from leadq.services.people.apikeys import create_key
from leadq.services.scoring import queue
from leadq.services.scoring.documents import read_model
from leadq.services.scoring.rescoring import (
    activate,
    add_model,
    breakdown_json,
    lead_facts,
    model_of,
)
from leadq.store.db import Database
from leadq.store.tables import Event, Lead, ScoreChange, ScoringModelVersion
from tests.conftest import fresh_database
from tests.e2e.serving import free_port, wait_until_up
from tests.reliability.traffic import plan, send

PROCESSES = 8
LEADS = 50
TITLES = ["CEO", "VP Sales", "Head of Growth", "Marketing Manager", "Analyst", None]
SIZES = [5, 12, 60, 300, None]


def _model() -> str:
    """The classic model (capped criteria, which real-time rescoring reuses once settled) plus
    points for every opened e-mail and blog view, so that any event a rescore missed shows."""
    document = yaml.safe_load(read_model("classic")[1])
    document["name"] = "load"
    document["engagement"] += [
        {"id": "opens", "event": "email_opened", "points": 1},
        {"id": "reading", "event": "page_view", "where": {"path": {"starts_with": "/blog"}},
         "points": 0.5},
    ]  # fmt: skip
    document["grades"] = {"cold": 0, "warm": 30, "hot": 45}
    return str(yaml.safe_dump(document, sort_keys=False))


MODEL = _model()


@pytest.fixture
def pg(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    database = fresh_database("postgresql", request, tmp_path)  # skips without PostgreSQL
    yield database
    database.dispose()


@pytest.fixture
def server(pg: Database, tmp_path: Path) -> Iterator[str]:
    """``leadq serve --workers 2`` on the test database, as an operator runs it."""
    port = free_port()
    env = {**os.environ, "LEADQ_DATABASE_URL": pg.url}
    log = (tmp_path / "serve.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "leadq", "serve", "--port", str(port), "--workers", "2"],
        cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, log=tmp_path / "serve.log")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
    server_log = (tmp_path / "serve.log").read_text()
    assert "Traceback" not in server_log, server_log


def _workspace(db: Database, now: datetime) -> tuple[str, list[int]]:
    policy = IntakePolicy()
    with db.unit_of_work() as session:
        token, _ = create_key(session, "load", now)
        activate(session, add_model(session, MODEL, "load.yaml", now).name, now)
        ids = [
            upsert_lead(session, LeadInput(email=f"lead{i}@acme.com",
                                           job_title=TITLES[i % len(TITLES)],
                                           company_size=SIZES[i % len(SIZES)]),
                        "tests", now, policy).lead.id
            for i in range(LEADS)
        ]  # fmt: skip
    return token, ids


def _expected(lead_ids: list[int], base: datetime) -> tuple[Counter[int], set[str]]:
    """Distinct events per lead over every process's plan: a key counts once."""
    per_lead: Counter[int] = Counter()
    keys: set[str] = set()
    for process in range(PROCESSES):
        for _, events in plan(process, lead_ids, base):
            for event in events:
                key = event.get("idempotency_key")
                if key in keys:
                    continue
                if key:
                    keys.add(key)
                per_lead[event["lead_id"]] += 1
    return per_lead, keys


def _waiting(db: Database) -> int:
    with db.reading() as session:
        return queue.waiting(session)


def test_eight_processes_store_each_event_once_and_leave_true_scores(
    pg: Database, server: str
) -> None:
    now = datetime.now(UTC)
    token, lead_ids = _workspace(pg, now)
    base = now - timedelta(minutes=1)
    context = multiprocessing.get_context("spawn")
    with context.Pool(PROCESSES) as pool:
        accepted = pool.starmap(send, [(server, token, lead_ids, base, p)
                                       for p in range(PROCESSES)])  # fmt: skip

    per_lead, keys = _expected(lead_ids, base)
    assert sum(accepted) == sum(per_lead.values())  # each new event reported new exactly once
    deadline = time.monotonic() + 60  # the server's drainers rescore what intake queued
    while _waiting(pg) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _waiting(pg)
    with pg.reading() as session:
        stored = Counter(dict(session.execute(
            select(Event.lead_id, func.count()).group_by(Event.lead_id)
        ).all()))  # fmt: skip
        stored_keys = set(session.scalars(select(Event.idempotency_key)).all()) - {None}
        assert stored == per_lead
        assert stored_keys == keys
        model = model_of(
            session.scalars(select(ScoringModelVersion).where(ScoringModelVersion.active)).one()
        )
        scores: set[float] = set()
        for lead in session.scalars(select(Lead).order_by(Lead.id)):
            events = session.scalars(select(Event).where(Event.lead_id == lead.id)).all()
            facts = [EventFact(e.type, e.occurred_at, e.properties, e.channel) for e in events]
            assert lead.scored_at is not None
            card = evaluate(model, lead_facts(lead), facts, lead.scored_at)
            stored_card = (lead.score, lead.grade, lead.fit_grade, lead.engagement_grade,
                           lead.scoring_model, lead.score_breakdown)  # fmt: skip
            fresh = (card.score, card.grade, card.fit_grade, card.engagement_grade, card.model,
                     breakdown_json(card))  # fmt: skip
            assert stored_card == fresh, lead.id
            newest = session.scalars(select(ScoreChange).where(ScoreChange.lead_id == lead.id)
                                     .order_by(ScoreChange.id.desc())).first()  # fmt: skip
            assert newest is not None
            assert (newest.score, newest.grade, newest.model) == (card.score, card.grade,
                                                                  card.model)  # fmt: skip
            scores.add(card.score)
    assert len(scores) > 5  # the scores spread out: a lost event would show
