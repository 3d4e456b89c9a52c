"""A workspace with a past: leads that arrived over months, did things, and some bought."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from leadq.domain.events import EventInput
from leadq.domain.leads import LeadInput
from leadq.services.intake.events import record_events
from leadq.services.intake.leads import upsert_lead
from leadq.services.intake.policy import IntakePolicy
from leadq.services.predictive import files as predictive
from leadq.services.predictive import registry
from leadq.store.db import Database

INDUSTRIES = {"software": 1.6, "finance": 0.6, "retail": -0.6, "education": -1.4}
TITLES = ["CEO", "VP of Sales", "Head of Marketing", "Sales Manager", "Analyst", "Student"]


@dataclass(frozen=True)
class Past:
    leads: int
    converted: int
    converted_early: int
    young: int


def build_history(db: Database, now: datetime, leads: int = 400, seed: int = 4) -> Past:
    """Leads whose first week predicts a purchase 10–40 days later; converters also request a
    quote on day 9, after the decision moment of a 7-day horizon (a leak a model must not see)."""
    rng = random.Random(seed)
    policy = IntakePolicy()
    converted = early = young = 0
    with db.unit_of_work() as session:
        for i in range(leads):
            industry = rng.choice(list(INDUSTRIES))
            size = int(rng.lognormvariate(4, 1.3))
            lead = upsert_lead(session, LeadInput.model_validate({
                "email": f"person{i}@company{i % 97}.example", "first_name": f"P{i}",
                "company": f"Company {i % 97}", "job_title": rng.choice(TITLES),
                "industry": industry, "company_size": size,
                "source": rng.choice(["website", "referral", "paid_search"]),
            }), "history", now, policy).lead  # fmt: skip
            arrived = now - timedelta(days=rng.uniform(2, 160))
            is_young = arrived > now - timedelta(days=7)
            young += is_young
            webinars = int(rng.random() < 0.35)
            visits = rng.randint(0, 6)
            logit = INDUSTRIES[industry] + 0.7 * webinars + 0.25 * visits - 1.2
            buys = rng.random() < 1 / (1 + 2.718**-logit)
            plan = [("form_submitted", 0.0)]
            plan += [("page_view", rng.uniform(0, 6.5)) for _ in range(visits)]
            plan += [("webinar_attended", rng.uniform(0.5, 6.5))] * webinars
            if buys and rng.random() < 0.1:
                plan.append(("purchase", rng.uniform(1, 5)))  # bought within the first week
                early += not is_young
            elif buys:
                bought = rng.uniform(10, 40)
                plan += [("quote_requested", 9.0), ("purchase", bought)]
                converted += arrived + timedelta(days=bought) <= now
            happened = [(k, arrived + timedelta(days=d)) for k, d in plan]
            events = [EventInput(lead_id=lead.id, type=kind, occurred_at=at,
                                 properties={"path": "/pricing"} if kind == "page_view" else {},
                                 idempotency_key=f"h{i}:{j}")
                      for j, (kind, at) in enumerate(happened) if at <= now]  # fmt: skip
            record_events(session, events, now, policy.clock_skew)
    return Past(leads, converted, early, young)


def activate_trained(db: Database, now: datetime, folder: Path, leads: int) -> None:
    """A history of ``leads`` leads, a model trained on it, stored and active as ``buyers@1``."""
    build_history(db, now, leads=leads)
    predictive.train_workspace(db, timedelta(days=7), folder, now)
    with db.unit_of_work() as session:
        registry.add(session, predictive.load(folder), "buyers", "tests", now)
        registry.activate(session, "buyers@1", "tests", now)
