"""A small workspace for the web tests: the classic model active, leads of every kind."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from leadq.domain.events import EventInput
from leadq.domain.leads import LeadInput
from leadq.services.intake.events import record_events
from leadq.services.intake.leads import upsert_lead
from leadq.services.intake.policy import IntakePolicy
from leadq.services.scoring.documents import read_model
from leadq.services.scoring.rescoring import activate, add_model
from leadq.store.db import Database
from leadq.store.tables import FollowUpTask


@dataclass(frozen=True)
class Leads:
    hot: int
    """Grażyna Wiśniewska, CEO: warm or better, so a MQL."""
    cold: int
    """A student with a free-mail address and no activity."""
    owned: int
    """Owned by the rep ``rob``, with an overdue follow-up task."""


def seed(db: Database, now: datetime) -> Leads:
    policy = IntakePolicy()
    with db.unit_of_work() as session:
        _, text = read_model("classic")
        activate(session, add_model(session, text, "classic", now).name, now)

        def lead(**fields: object) -> int:
            return upsert_lead(
                session, LeadInput.model_validate(fields), "tests", now, policy
            ).lead.id

        hot = lead(
            email="grazyna@acme-logistics.pl",
            first_name="Grażyna",
            last_name="Wiśniewska",
            job_title="CEO",
            company="Acme Logistics",
            company_size=400,
            source="referral",
            campaign="spring-webinar",
        )
        cold = lead(
            email="student@gmail.com", first_name="Sam", last_name="Student", source="social"
        )
        owned = lead(
            email="olaf@nordic-parts.se",
            first_name="Olaf",
            last_name="Berg",
            job_title="Purchasing Manager",
            company="Nordic Parts",
            company_size=60,
            source="website",
            owner="rob",
        )
        pricing = {"path": "/pricing"}
        events = [
            EventInput(
                lead_id=hot,
                type="page_view",
                occurred_at=now - timedelta(hours=h),
                properties=pricing,
            )
            for h in (1, 2, 3)
        ]
        events.append(
            EventInput(lead_id=hot, type="webinar_attended", occurred_at=now - timedelta(hours=4))
        )
        record_events(session, events, now, policy.clock_skew)
        session.add(
            FollowUpTask(
                lead_id=owned,
                kind="call",
                owner="rob",
                rule="tests",
                created_at=now - timedelta(hours=3),
                due_at=now - timedelta(hours=2),
            )
        )
    return Leads(hot, cold, owned)
