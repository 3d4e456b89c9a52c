"""A generated past whose replayed scores the test knows: leads over whole weeks, each with a
profile and events before its decision moment, many more events after it, and some purchases."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from leadq.services.scoring import rescoring as scoring
from leadq.store.db import Database
from leadq.store.tables import Event, Lead

MODEL = """\
name: tuned
fit:
  - id: size
    weight: 2
    levels:
      - {level: 3, when: {company_size: {gte: 250}}}
      - {level: 2, when: {company_size: {gte: 50}}}
      - {level: 1, when: {company_size: {gte: 10}}}
engagement:
  - {id: visits, weight: 1, event: page_view, level: count, cap: 20}
  - {id: webinars, weight: 3, event: webinar_attended, level: count, cap: 5}
grades: {cold: 0, warm: 10, hot: 20}
"""
HORIZON = timedelta(days=7)


@dataclass(frozen=True)
class PastLead:
    lead_id: int
    arrived: datetime
    score_then: float
    converted: bool


def add_model(db: Database, now: datetime, text: str = MODEL) -> str:
    with db.unit_of_work() as session:
        row = scoring.add_model(session, text, "tests", now)
        scoring.activate(session, f"{row.name}@{row.version}", now)
        return f"{row.name}@{row.version}"


def build(db: Database, now: datetime, weeks: int = 12, per_week: int = 40,
          seed: int = 7) -> list[PastLead]:  # fmt: skip
    """``weeks`` of leads ending a month before ``now`` (so every decision moment has passed);
    after its moment each lead piles up visits and webinars that a replay must not see."""
    rng = random.Random(seed)
    start = now - timedelta(days=30 + 7 * weeks)
    past = []
    with db.unit_of_work() as session:
        for i in range(weeks * per_week):
            arrived = start + timedelta(days=rng.uniform(0, 7 * weeks))
            size = rng.choice([3, 20, 80, 400])
            visits, webinars = rng.randint(0, 20), rng.choice([0, 0, 0, 1, 2, 3])
            score = {3: 0, 20: 2, 80: 4, 400: 6}[size] + visits + 3 * webinars
            converted = rng.random() < min(0.9, 0.02 + score / 60)
            lead = Lead(email=f"p{i}@firm{i}.example", first_name=f"P{i}", company_size=size,
                        created_at=arrived, updated_at=arrived, score=99, grade="hot")  # fmt: skip
            session.add(lead)
            session.flush()
            _events(session, lead.id, arrived, visits, webinars, converted, rng)
            past.append(PastLead(lead.id, arrived, float(score), converted))
    return past


def _events(session: Session, lead_id: int, arrived: datetime, visits: int, webinars: int,
            converted: bool, rng: random.Random) -> None:  # fmt: skip
    before = [("page_view", rng.uniform(0, 6.9)) for _ in range(visits)]
    before += [("webinar_attended", rng.uniform(0, 6.9)) for _ in range(webinars)]
    after = [("page_view", rng.uniform(7.5, 25)) for _ in range(rng.randint(0, 10))]
    after += [("webinar_attended", rng.uniform(7.5, 25)) for _ in range(rng.randint(0, 3))]
    if converted:
        after.append(("purchase", rng.uniform(10, 28)))
    session.add_all(Event(lead_id=lead_id, type=kind, occurred_at=arrived + timedelta(days=day),
                          received_at=arrived + timedelta(days=day), properties={})
                    for kind, day in [("form_submitted", 0.0), *before, *after])  # fmt: skip


def per_week_at_or_above(past: list[PastLead], line: float, weeks: int) -> float:
    return sum(lead.score_then >= line for lead in past) / weeks
