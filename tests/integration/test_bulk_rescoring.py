"""Rescoring everyone on the vectorised engine stores what the per-lead evaluator would: the
same scores, grades, breakdowns, stages, score history and happenings, on a 5,000-lead
workspace built to trip it (custom fields and event properties of mixed types, overrides
active and expired, framework answers, windows, caps, decay, a floor, events after the
moment, erased leads, leads already scored by this and by another model)."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from leadq.services.scoring import bulk
from leadq.services.scoring.rescoring import activate, active_model, add_model, locked, rescore
from leadq.store.db import Database
from leadq.store.tables import (
    AuditEntry,
    DomainEvent,
    Event,
    FrameworkAnswer,
    Lead,
    ScoreChange,
    StageChange,
)

AS_OF = datetime(2026, 6, 1, 12, tzinfo=UTC)
LEADS = 3_000
"""Thousands of leads, each database's write path whole: every rule and grade line has leads
on both sides (a chunk holds 20,000, so more leads add time, not paths)."""

MODEL = """
name: trip
fit:
  - id: rank
    weight: 2
    levels:
      - {level: 3, when: {seniority: {in: [c_level, vp]}}}
      - {level: 1, when: {seniority: manager}}
  - id: size
    levels:
      - {level: 4, when: {company_size: {gte: 250}}}
      - {level: 2, when: {company_size: {range: [20, 249]}}}
  - id: seats
    points: 3
    when: {attributes.seats: {gte: 10}, country: {in: [PL, RO]}}
  - id: plan
    points: 2
    when: {attributes.plan: {eq: pro}}
  - id: qualified
    points: 5
    when: {framework.bant.verdict: qualified}
engagement:
  - id: pricing
    event: page_view
    where: {path: {starts_with: /pricing}}
    level: count
    cap: 3
    weight: 3
  - id: papers
    event: content_download
    where: {asset_type: whitepaper}
    points: 2
    within_days: 30
  - id: webinar
    event: webinar_attended
    points: 4
    once: true
  - id: opens
    event: email_open
    where: {channel: email, pages: {gt: 1}}
    points: 1
    cap: 5
    within_days: 14
decay: {points: -2, every_days: 7}
floor: 0
grades: {cold: 0, warm: 8, hot: 16}
matrix:
  fit: {A: 10, B: 6, C: 3, D: 0}
  engagement: {"1": 10, "2": 6, "3": 3, "4": 0}
"""

STAGES = ["iql", "iql", "iql", "mql", "nurture", "sal", "sql", "unqualified", "recycled"]


def _mixed(rng: random.Random, number: float) -> Any:
    """Mostly numbers, sometimes the same as text, a flag, a list or nothing."""
    return rng.choices([number, str(number), True, [number], None], [70, 12, 3, 2, 13])[0]


def _lead(rng: random.Random, i: int) -> dict[str, Any]:
    created = AS_OF - timedelta(days=rng.uniform(1, 200))
    stage = rng.choice(STAGES)
    lead: dict[str, Any] = {
        "id": i + 1, "email": f"p{i}@example.org", "created_at": created, "updated_at": created,
        "seniority": rng.choice(["c_level", "vp", "manager", "staff", None]),
        "company_size": rng.choice([None, 5, 20, 249, 250, 1000]),
        "country": rng.choice(["PL", "RO", "RU", "GB", None]),
        "attributes": {"seats": _mixed(rng, rng.choice([2, 10, 40])),
                       "plan": rng.choice(["pro", "free", 1, None])},
        "stage": stage, "stage_changed_at": created + timedelta(days=rng.uniform(0, 1)),
        "accepted_at": created if stage in ("sal", "sql") else None,
        "pql": rng.random() < 0.05, "channels": [],
        "last_activity_at": AS_OF - timedelta(days=rng.uniform(0, 60)),
        "erased_at": AS_OF - timedelta(days=1) if rng.random() < 0.01 else None,
    }  # fmt: skip
    if rng.random() < 0.6:  # scored before: by this model (version 1) or an older one
        lead.update(score=float(rng.randint(0, 20)), grade=rng.choice(["cold", "warm", "hot"]),
                    scoring_model=rng.choice(["trip@1", "trip@1", "old@3"]),
                    scored_at=AS_OF - timedelta(days=rng.uniform(0.1, 30)))  # fmt: skip
    if rng.random() < 0.01:
        lead["scored_at"] = AS_OF + timedelta(hours=1)  # scored after the moment
    if rng.random() < 0.04:
        lead["overrides"] = [_override(rng, i)]
    return lead


def _override(rng: random.Random, i: int) -> dict[str, Any]:
    kind = rng.choice(["points", "grade", "stage"])
    expires = rng.choice([None, AS_OF - timedelta(days=1), AS_OF + timedelta(days=1)])
    return {"id": i, "kind": kind, "reason": "checked", "actor": "rep",
            "created_at": (AS_OF - timedelta(days=3)).isoformat(),
            "points": 5.0 if kind == "points" else None,
            "grade": "hot" if kind == "grade" else None,
            "stage": "mql" if kind == "stage" else None,
            "expires_at": expires.isoformat() if expires else None}  # fmt: skip


def _events(rng: random.Random, lead_id: int) -> list[dict[str, Any]]:
    rows = []
    for _ in range(rng.choice([0, 1, 3, 6, 12])):
        kind = rng.choice(["page_view", "content_download", "webinar_attended", "email_open",
                           "product_used", "form_submitted"])  # fmt: skip
        properties = {
            "page_view": {"path": rng.choice(["/pricing", "/pricing/pro", "/blog", 7])},
            "content_download": {"asset_type": rng.choice(["whitepaper", "ebook", None])},
            "email_open": {"pages": _mixed(rng, rng.choice([1, 2, 5]))},
        }.get(kind, {})
        at = AS_OF - timedelta(days=rng.uniform(-3, 90))  # a few after the moment
        channel = rng.choice(["email", "web", None])
        rows.append({"lead_id": lead_id, "type": kind, "occurred_at": at, "received_at": at,
                     "properties": properties, "channel": channel})  # fmt: skip
    return rows


def _workspace(db: Database) -> int:
    rng = random.Random(20)
    leads = [_lead(rng, i) for i in range(LEADS)]
    events = [e for lead in leads for e in _events(rng, lead["id"])]
    answers = [
        {"lead_id": lead["id"], "framework": "bant", "question": q, "value": v, "actor": "rep",
         "at": AS_OF - timedelta(days=2)}
        for lead in leads[::97]
        for q, v in (("budget", True), ("authority", True), ("need", "high"), ("timing", 2))
    ]  # fmt: skip
    with db.unit_of_work() as session:
        for column in {key for lead in leads for key in lead}:
            for lead in leads:
                lead.setdefault(column, None)
        session.execute(insert(Lead), leads)
        session.execute(insert(Event), events)
        session.execute(insert(FrameworkAnswer), answers)
        activate(session, add_model(session, MODEL, "trip.yaml", AS_OF).name, AS_OF)
    return len(leads)


def _leads(session: Session) -> dict[int, tuple[Any, ...]]:
    query = select(Lead.id, Lead.score, Lead.grade, Lead.fit_grade, Lead.engagement_grade,
                   Lead.scoring_model, Lead.stage, Lead.pql, Lead.engagement_points,
                   Lead.pql_at, Lead.stage_changed_at, Lead.accepted_at, Lead.furthest_stage,
                   Lead.converted_at)  # fmt: skip
    return {row[0]: tuple(row[1:]) for row in session.execute(query)}


def _breakdowns(session: Session, ids: set[int]) -> dict[int, Any]:
    query = select(Lead.id, Lead.scored_at, Lead.score_breakdown).where(Lead.id.in_(ids))
    return {row[0]: (row[1], row[2]) for row in session.execute(query)}


def _facts(session: Session, after: dict[str, int]) -> dict[str, Counter[Any]]:
    """What rescoring added to the history tables (rows past the ids of ``after``)."""
    scores = select(ScoreChange.lead_id, ScoreChange.model, ScoreChange.score, ScoreChange.grade,
                    ScoreChange.at).where(ScoreChange.id > after["scores"])  # fmt: skip
    stages = select(StageChange.lead_id, StageChange.from_stage, StageChange.to_stage,
                    StageChange.actor).where(StageChange.id > after["stages"])  # fmt: skip
    happenings = select(DomainEvent.lead_id, DomainEvent.type, DomainEvent.payload).where(
        DomainEvent.id > after["events"]
    )
    flags = select(AuditEntry.entity_id, AuditEntry.action, AuditEntry.actor).where(
        AuditEntry.id > after["audit"]
    )
    return {
        "audit": Counter(tuple(r) for r in session.execute(flags)),
        "scores": Counter(tuple(r) for r in session.execute(scores)),
        "stages": Counter(tuple(r) for r in session.execute(stages)),
        "happenings": Counter((r[0], r[1], repr(sorted(r[2].items())))
                              for r in session.execute(happenings)),
    }  # fmt: skip


def _last_ids(session: Session) -> dict[str, int]:
    def top(column: Any) -> int:
        return session.scalar(select(func.coalesce(func.max(column), 0))) or 0

    return {"scores": top(ScoreChange.id), "stages": top(StageChange.id),
            "events": top(DomainEvent.id), "audit": top(AuditEntry.id)}  # fmt: skip


def test_bulk_rescoring_equals_the_per_lead_evaluator(db: Database) -> None:
    size = _workspace(db)
    with db.unit_of_work() as session:
        before, last = _leads(session), _last_ids(session)
    # what the evaluator would store, one lead at a time, in a transaction rolled back
    with Session(db.engine) as session:
        live = select(Lead.id).where(Lead.erased_at.is_(None))
        leads = session.scalars(locked(list(session.scalars(live))))
        model = active_model(session)
        expected_changed = rescore(session, leads, model, AS_OF, "nightly")
        session.flush()
        expected, expected_facts = _leads(session), _facts(session, last)
        changed_ids = {i for i in expected if expected[i][:5] != before[i][:5]}
        expected_cards = _breakdowns(session, changed_ids)
        session.rollback()
    total, changed = bulk.rescore_everyone(db, AS_OF, "nightly")
    with db.reading() as session:
        got, got_facts = _leads(session), _facts(session, last)
        got_cards = _breakdowns(session, changed_ids)
    assert total == len(before) - _erased(db)
    assert changed == expected_changed > size // 10
    assert got == expected
    assert got_cards == expected_cards
    assert got_facts == expected_facts
    assert sum(expected_facts["stages"].values()) > size // 100  # the lifecycle rules had work
    assert sum(expected_facts["audit"].values()) >= size // 2000  # PQL flags among it


def _erased(db: Database) -> int:
    with db.reading() as session:
        return (
            session.scalar(
                select(func.count()).select_from(Lead).where(Lead.erased_at.is_not(None))
            )
            or 0
        )
