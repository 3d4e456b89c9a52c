"""The lead card shows the consent per purpose and the Do Not Email / Call badges, and records
a consent given or withdrawn, or the flags, for a lead the person may see."""

from __future__ import annotations

from datetime import datetime

from fastapi.testclient import TestClient
from sqlalchemy import select

from leadq.api.app import create_app
from leadq.config import Settings
from leadq.domain.leads import LeadInput
from leadq.services.intake.leads import upsert_lead
from leadq.services.intake.policy import IntakePolicy
from leadq.services.people.users import add_user
from leadq.store.db import Database
from leadq.store.tables import Consent, Lead
from tests.web.conftest import PASSWORD, Browser


def lead_of(db: Database, now: datetime, email: str, owner: str | None = None) -> int:
    data = LeadInput.model_validate({"email": email, "first_name": "Ewa", "owner": owner})
    with db.unit_of_work() as session:
        return upsert_lead(session, data, "tests", now, IntakePolicy()).lead.id


def signed_in(db: Database, now: datetime, username: str, role: str) -> Browser:
    with db.unit_of_work() as session:
        add_user(session, username, PASSWORD, role, "tests", now)
    person = Browser(TestClient(create_app(Settings(database_url=db.url), db)))
    person.sign_in(username)
    return person


def test_the_card_shows_and_records_consent(db: Database, now: datetime) -> None:
    lead_id = lead_of(db, now, "ewa@hurtownia.example")
    mia = signed_in(db, now, "mia", "manager")
    card = mia.get(f"/leads/{lead_id}")
    assert "not recorded" in card and "Do Not Email</span>" not in card
    assert "Marketing e-mail not allowed" in card

    after = mia.post(f"/leads/{lead_id}/consents", purpose="marketing_email", granted="yes",
                     source="phone call", wording_version="script-4")  # fmt: skip
    assert "Consent marketing e-mail given" in after and "Marketing e-mail allowed" in after
    after = mia.post(f"/leads/{lead_id}/consents", purpose="profiling", granted="no",
                     source="phone call")  # fmt: skip
    assert "withdrawn" in after and "Profiling consent withdrawn" in after
    after = mia.post(f"/leads/{lead_id}/contact-flags", do_not_email="on")
    assert '<span class="badge dne">Do Not Email</span>' in after
    assert "Do Not Call</span>" not in after and "Marketing e-mail not allowed" in after

    refused = mia.post(f"/leads/{lead_id}/consents", purpose="spam", granted="yes", source="x")
    assert "purpose" in refused and "Input should be" in refused
    refused = mia.post(f"/leads/{lead_id}/consents", purpose="profiling", granted="yes",
                       source="s" * 101)  # fmt: skip
    assert "at most 100 characters" in refused
    with db.reading() as session:
        rows = list(session.scalars(select(Consent).order_by(Consent.id)))
        lead = session.get(Lead, lead_id)
        assert lead is not None and lead.do_not_email and not lead.do_not_call
    assert [(r.purpose, r.granted, r.source, r.wording_version, r.actor) for r in rows] == [
        ("marketing_email", True, "phone call", "script-4", "mia"),
        ("profiling", False, "phone call", None, "mia")]  # fmt: skip


def test_a_rep_cannot_touch_another_reps_lead(db: Database, now: datetime) -> None:
    others = lead_of(db, now, "olek@acme.example", owner="olek")
    rita = signed_in(db, now, "rita", "rep")
    rita.post(f"/leads/{others}/consents", purpose="profiling", granted="no", source="call")
    rita.post(f"/leads/{others}/contact-flags", do_not_call="on")
    with db.reading() as session:
        assert session.scalars(select(Consent)).all() == []
        assert session.get(Lead, others).do_not_call is False  # type: ignore[union-attr]
