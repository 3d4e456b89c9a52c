"""Recording consents on a real database: the history is appended, the newest record per
purpose is the lead's current state, late records never undo newer ones, and the effects of a
withdrawal (predictive fields, nurture track) apply at once."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from leadq.domain.consent import ConsentInput, Purpose
from leadq.domain.leads import LeadInput
from leadq.services.automation import reactions as automation
from leadq.services.errors import Conflict, InvalidInput, NotFound
from leadq.services.intake.leads import update_lead, upsert_lead
from leadq.services.intake.policy import IntakePolicy
from leadq.services.privacy import audit, consents
from leadq.store.db import Database
from leadq.store.tables import AuditEntry, Consent, Lead, SavedSegment, SegmentMember

PERSON = {"email": "ewa.kowalska@hurtownia.example", "first_name": "Ewa",
          "last_name": "Kowalska", "phone": "+48601234567"}  # fmt: skip


def new_lead(db: Database, now: datetime, **more: object) -> int:
    data = LeadInput.model_validate({**PERSON, **more})
    with db.unit_of_work() as session:
        return upsert_lead(session, data, "tests", now, IntakePolicy()).lead.id


def given(purpose: Purpose, granted: bool, at: datetime, source: str = "call",
          wording: str | None = None) -> ConsentInput:  # fmt: skip
    return ConsentInput(purpose=purpose, granted=granted, at=at, source=source,
                        wording_version=wording)  # fmt: skip


def test_records_are_appended_and_the_newest_is_current(db: Database, now: datetime) -> None:
    lead_id = new_lead(db, now)
    day = timedelta(days=1)
    with db.unit_of_work() as session:
        consents.record_consent(session, lead_id, given(Purpose.marketing_email, True,
                                                         now - 3 * day, "webform:site", "nl-1"),
                                "tests", now)  # fmt: skip
        consents.record_consent(session, lead_id, given(Purpose.marketing_email, False,
                                                         now - day, "unsubscribe"),
                                "tests", now)  # fmt: skip
        # an import of an old opt-in arrives late: history, not the current state
        consents.record_consent(session, lead_id, given(Purpose.marketing_email, True,
                                                         now - 10 * day, "crm import", "old"),
                                "tests", now)  # fmt: skip
    with db.reading() as session:
        found = consents.consents_of(session, lead_id)
        current = found.lead.consents
        assert [(c.granted, c.source) for c in found.history] == [
            (False, "unsubscribe"), (True, "webform:site"), (True, "crm import")]  # fmt: skip
        assert all(c.actor == "tests" and c.recorded_at == now for c in found.history)
    assert current == {
        "marketing_email": {
            "granted": False,
            "at": (now - day).isoformat(),
            "source": "unsubscribe",
            "wording_version": None,
        }
    }
    with db.unit_of_work() as session:  # given again, later: current again
        consents.record_consent(session, lead_id, given(Purpose.marketing_email, True, now),
                                "tests", now)  # fmt: skip
        consents.record_consent(session, lead_id, given(Purpose.sales_contact, False, now),
                                "tests", now)  # fmt: skip
    with db.reading() as session:
        cache = session.get(Lead, lead_id).consents or {}  # type: ignore[union-attr]
    assert cache["marketing_email"]["granted"] is True
    assert cache["sales_contact"]["granted"] is False and "profiling" not in cache


def test_audit_names_purpose_and_digests_of_source_and_wording(db: Database,
                                                             now: datetime) -> None:  # fmt: skip
    lead_id = new_lead(db, now)
    with db.unit_of_work() as session:
        consents.record_consent(session, lead_id, given(Purpose.profiling, False, now, "call",
                                                         "v3"), "api:crm", now)  # fmt: skip
        consents.record_consent(session, lead_id, given(Purpose.profiling, True,
                                                         now - timedelta(days=1)),
                                "api:crm", now)  # fmt: skip
        consents.set_flags(session, lead_id, "api:crm", now, do_not_email=True)
        consents.set_flags(session, lead_id, "api:crm", now, do_not_email=True)  # no change
    with db.reading() as session:
        entries = list(session.scalars(select(AuditEntry).where(
            AuditEntry.action.startswith("consent.")).order_by(AuditEntry.id)))  # fmt: skip
    assert [(e.action, e.entity, e.entity_id, e.actor) for e in entries] == [
        ("consent.recorded", "lead", str(lead_id), "api:crm"),
        ("consent.recorded", "lead", str(lead_id), "api:crm"),
        ("consent.flags_set", "lead", str(lead_id), "api:crm")]  # fmt: skip
    first, late, flags = (e.details for e in entries)
    assert {k: first[k] for k in ("purpose", "granted", "source", "wording_version", "current")} \
        == {"purpose": "profiling", "granted": False, "source": audit.digest("call"),
            "wording_version": audit.digest("v3"), "current": True}  # fmt: skip
    assert late["current"] is False
    assert flags == {"do_not_email": {"before": False, "after": True}}
    text = json.dumps([e.details for e in entries]).lower()
    for value in ("ewa", "kowalska", "hurtownia", "601234567"):
        assert value not in text


def test_withdrawing_profiling_empties_the_predictive_fields_at_once(
    db: Database, now: datetime
) -> None:
    lead_id = new_lead(db, now)
    with db.unit_of_work() as session:
        lead = session.get(Lead, lead_id)
        assert lead is not None
        lead.probability, lead.predictive_score, lead.predictive_model = 0.42, 42, "buyers@1"
        lead.predictive_reasons = [{"column": "industry", "reason": "x", "contribution": 0.3}]
    with db.unit_of_work() as session:  # a late, older withdrawal changes nothing
        consents.record_consent(session, lead_id, given(Purpose.profiling, True, now), "t", now)
        older = given(Purpose.profiling, False, now - timedelta(hours=1))
        consents.record_consent(session, lead_id, older, "t", now)
    with db.reading() as session:
        assert session.get(Lead, lead_id).predictive_score == 42  # type: ignore[union-attr]
    with db.unit_of_work() as session:
        consents.record_consent(session, lead_id, given(Purpose.profiling, False, now), "t", now)
    with db.reading() as session:
        lead = session.get(Lead, lead_id)
        assert lead is not None
        assert (lead.probability, lead.predictive_score, lead.predictive_reasons,
                lead.predictive_model) == (None, None, None, None)  # fmt: skip


@pytest.mark.parametrize("how", ["withdrawal", "do_not_email"])
def test_losing_marketing_email_takes_the_lead_off_its_nurture_track(
    db: Database, now: datetime, how: str
) -> None:
    lead_id = new_lead(db, now, consents=[{"purpose": "marketing_email", "granted": True,
                                           "at": now.isoformat(), "source": "form"}])  # fmt: skip
    with db.unit_of_work() as session:
        lead = session.get(Lead, lead_id)
        assert lead is not None
        lead.nurture_track = "warm"
        automation.join(session, "nurture-warm", lead_id, "tests", now)
    with db.unit_of_work() as session:
        if how == "withdrawal":
            consents.record_consent(session, lead_id, given(Purpose.marketing_email, False,
                                                             now), "t", now)  # fmt: skip
        else:
            consents.set_flags(session, lead_id, "t", now, do_not_email=True)
    with db.reading() as session:
        assert session.get(Lead, lead_id).nurture_track is None  # type: ignore[union-attr]
        segment = session.scalars(select(SavedSegment.id)
                                  .where(SavedSegment.name == "nurture-warm")).one()  # fmt: skip
        assert session.get(SegmentMember, (segment, lead_id)) is None
        stopped = session.scalars(select(AuditEntry)
                                  .where(AuditEntry.action == "nurture.stopped")).one()  # fmt: skip
    reason = "marketing_email withdrawn" if how == "withdrawal" else "do_not_email"
    assert stopped.details == {"track": "warm", "reason": reason}


def test_future_records_and_unknown_leads_are_refused(db: Database, now: datetime) -> None:
    lead_id = new_lead(db, now)
    with db.unit_of_work() as session, pytest.raises(InvalidInput, match="in the future"):
        future = given(Purpose.profiling, True, now + timedelta(hours=1))
        consents.record_consent(session, lead_id, future, "t", now)
    with db.unit_of_work() as session, pytest.raises(NotFound):
        consents.record_consent(session, 999_999, given(Purpose.profiling, True, now), "t", now)
    with db.unit_of_work() as session:
        session.get(Lead, lead_id).erased_at = now  # type: ignore[union-attr]
    with db.unit_of_work() as session, pytest.raises(Conflict, match="erased"):
        consents.record_consent(session, lead_id, given(Purpose.profiling, True, now), "t", now)
    with db.reading() as session:
        assert session.scalars(select(Consent)).all() == []


def test_a_persons_edit_records_consents_and_may_clear_flags(db: Database, now: datetime) -> None:
    lead_id = new_lead(db, now, do_not_call=True)
    record = {"purpose": "sales_contact", "granted": True, "at": now.isoformat(),
              "source": "rep"}  # fmt: skip
    with db.unit_of_work() as session:
        update_lead(session, lead_id, {"job_title": "CEO", "consents": [record],
                                       "do_not_call": False}, "mia", now)  # fmt: skip
    with db.reading() as session:
        lead = session.get(Lead, lead_id)
        assert lead is not None and lead.job_title == "CEO" and lead.do_not_call is False
        assert lead.consents is not None and lead.consents["sales_contact"]["granted"] is True
