"""A workspace whose rules model went live 60 days ago, with a steady flow of leads before and
after, and a shift planted in the last two weeks (or in the matured outcomes) when asked."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from leadq.services.scoring import rescoring as scoring
from leadq.store.db import Database
from leadq.store.tables import Event, Lead

MODEL = """\
name: watched
fit:
  - id: size
    weight: 2
    levels:
      - {level: 3, when: {company_size: {gte: 250}}}
      - {level: 2, when: {company_size: {gte: 50}}}
      - {level: 1, when: {company_size: {gte: 10}}}
  - id: industry
    weight: 3
    levels:
      - {level: 2, when: {industry: {in: [software, finance]}}}
      - {level: 1, when: {industry: retail}}
engagement:
  - {id: visits, weight: 1, event: page_view, level: count, cap: 6}
grades: {cold: 0, warm: 8, hot: 14}
"""
LIVE_DAYS, DAYS, PER_DAY, RECENT_DAYS = 60, 95, 12, 14
INDUSTRIES = ["software", "finance", "retail", "education", "health"]
CODES = {"software": "62.01", "finance": "64.19", "retail": "47.11", "education": "85.59",
         "health": "86.10"}  # fmt: skip


def build(db: Database, now: datetime, shift: str = "none", seed: int = 11) -> str:
    """``shift``: ``none``; ``flood`` (a new source adds many small, off-profile companies);
    ``meaning`` (industry arrives as codes, not names); ``calibration`` (hot leads of the
    matured month stopped buying). Returns the active model's reference."""
    rng = random.Random(seed)
    with db.unit_of_work() as session:
        row = scoring.add_model(session, MODEL, "tests", now - timedelta(days=LIVE_DAYS + 40))
        scoring.activate(session, f"{row.name}@{row.version}", now - timedelta(days=LIVE_DAYS))
    with db.unit_of_work() as session:
        for day in range(DAYS):
            recent = day >= DAYS - RECENT_DAYS
            for n in range(PER_DAY + (30 if shift == "flood" and recent else 0)):
                flooded = shift == "flood" and recent and n >= PER_DAY
                arrived = now - timedelta(days=DAYS - day - rng.random())
                _lead(session, rng, f"{day}-{n}", arrived, flooded, shift, recent, now)
    return "watched@1"


def _lead(session: Session, rng: random.Random, key: str, arrived: datetime, flooded: bool,
          shift: str, recent: bool, now: datetime) -> None:  # fmt: skip
    size = 3 if flooded else rng.choice([5, 30, 120, 600])
    industry = "education" if flooded else rng.choice(INDUSTRIES)
    visits = rng.randint(0, 1) if flooded else rng.randint(0, 6)
    score = {5: 0, 30: 2, 120: 4, 600: 6}.get(size, 0) + visits
    score += 3 * {"software": 2, "finance": 2, "retail": 1}.get(industry, 0)
    matured = now - timedelta(days=58) <= arrived < now - timedelta(days=30)
    chance = 0.03 + score / 40
    if shift == "calibration" and matured and score >= 14:
        chance = 0.02
    stored = CODES[industry] if shift == "meaning" and recent else industry
    lead = Lead(email=f"w{key}@firm{key}.example", first_name="W", company_size=size,
                industry=stored, source="partner-x" if flooded else "website",
                created_at=arrived, updated_at=arrived)  # fmt: skip
    session.add(lead)
    session.flush()
    events = [("form_submitted", 0.0)] + [("page_view", rng.uniform(0, 0.9))] * visits
    if rng.random() < chance:
        events.append(("purchase", rng.uniform(3, 25)))
    session.add_all(
        Event(lead_id=lead.id, type=kind, occurred_at=arrived + timedelta(days=d),
              received_at=arrived + timedelta(days=d), properties={})
        for kind, d in events if arrived + timedelta(days=d) <= now
    )  # fmt: skip
