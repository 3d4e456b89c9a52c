"""Consents and Do Not Email / Call arriving with a lead: the API, web forms (a checkbox gives
a consent with the form's wording version) and CSV import."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from leadq.api.app import create_app
from leadq.config import Settings
from leadq.services.errors import ConfigError
from leadq.services.intake.imports import import_leads
from leadq.services.intake.policy import IntakePolicy
from leadq.services.intake.webforms import load_forms
from leadq.store.db import Database
from leadq.store.tables import AuditEntry, Consent, Event, Lead
from tests.consent.conftest import record

API = "/api/v1"


def stored(db: Database, table: type) -> int:
    with db.reading() as session:
        return session.scalar(select(func.count()).select_from(table)) or 0


def test_create_and_merge_with_consents(client: TestClient, db: Database, now: datetime) -> None:
    week_ago = now - timedelta(days=7)
    created = client.post(f"{API}/leads", json={
        "email": "ewa@hurtownia.example", "do_not_call": True,
        "consents": [record("marketing_email", True, week_ago, "webinar", wording_version="w1"),
                     record("profiling", True, week_ago)]})  # fmt: skip
    assert created.status_code == 201, created.text
    lead = created.json()
    assert lead["consents"]["marketing_email"]["wording_version"] == "w1"
    assert (lead["do_not_email"], lead["do_not_call"]) == (False, True)

    again = client.post(f"{API}/leads", json={
        "email": "EWA@hurtownia.example", "do_not_call": False, "do_not_email": True,
        "consents": [record("marketing_email", False, now, "unsubscribe link")]})  # fmt: skip
    assert again.status_code == 200, again.text  # same person: merged into the lead
    merged = again.json()
    assert merged["id"] == lead["id"]
    assert merged["consents"]["marketing_email"]["granted"] is False
    assert merged["consents"]["profiling"]["granted"] is True
    # intake raises flags, never clears them: an import's "false" does not undo a request
    assert (merged["do_not_email"], merged["do_not_call"]) == (True, True)
    history = client.get(f"{API}/leads/{lead['id']}/consents").json()["history"]
    assert [(h["purpose"], h["granted"]) for h in history] == [
        ("marketing_email", False), ("profiling", True), ("marketing_email", True)]  # fmt: skip


@pytest.mark.parametrize(("consents", "field", "reason"), [
    ([{"purpose": "marketing_email", "granted": True, "source": "x"}], "consents[0].at",
     "Field required"),
    ([{"purpose": "newsletter", "granted": True, "at": "2026-01-01T00:00:00Z", "source": "x"}],
     "consents[0].purpose", "Input should be"),
    ("marketing_email", "consents", "list"),
    ([{"purpose": "profiling", "granted": True, "at": "2026-01-01T00:00:00Z",
       "source": "x"}] * 21, "consents", "at most 20"),
])  # fmt: skip
def test_bad_consents_at_intake_are_refused(client: TestClient, db: Database, consents: object,
                                            field: str, reason: str) -> None:  # fmt: skip
    answer = client.post(f"{API}/leads", json={"email": "a@acme.example", "consents": consents})
    assert answer.status_code == 422, answer.text
    assert any(e["field"] == field and reason in e["reason"] for e in answer.json()["errors"])
    assert stored(db, Lead) == 0


def test_a_consent_from_the_future_refuses_the_whole_lead(client: TestClient, db: Database,
                                                          now: datetime) -> None:  # fmt: skip
    answer = client.post(
        f"{API}/leads",
        json={
            "email": "a@acme.example",
            "consents": [
                record("profiling", True, now),
                record("profiling", False, now + timedelta(hours=2)),
            ],
        },
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"] == [
        {"field": "consents[1].at", "reason": "is in the future (more than 300 s ahead)"}
    ]
    assert stored(db, Lead) == stored(db, Consent) == 0


FORMS = """
forms:
  Partner Portal:
    fields: {mail: email, imie: first_name}
    consents:
      newsletter: {purpose: marketing_email, wording_version: portal-nl-2}
      calls_ok: {purpose: sales_contact}
"""


@pytest.fixture
def forms_client(db: Database, tmp_path: Path) -> TestClient:
    path = tmp_path / "forms.yaml"
    path.write_text(FORMS, encoding="utf-8")
    return TestClient(create_app(Settings(database_url=db.url, forms_file=path), db))


def test_a_ticked_box_gives_its_consent_an_unticked_one_nothing(forms_client: TestClient,
                                                                db: Database) -> None:  # fmt: skip
    url = f"{API}/forms/partner-portal"
    ticked = forms_client.post(url, data={"mail": "ewa@hurtownia.example", "newsletter": "on",
                                          "message": "hi"})  # fmt: skip
    assert ticked.status_code == 202, ticked.text
    plain = forms_client.post(url, json={"mail": "jan@hurtownia.example", "newsletter": False,
                                         "calls_ok": ""})  # fmt: skip
    assert plain.status_code == 202, plain.text
    with db.reading() as session:
        rows = list(session.scalars(select(Consent)))
        ewa = session.scalars(select(Lead).where(Lead.email == "ewa@hurtownia.example")).one()
        jan = session.scalars(select(Lead).where(Lead.email == "jan@hurtownia.example")).one()
        properties = [e.properties for e in session.scalars(select(Event).order_by(Event.id))]
    assert [(r.lead_id, r.purpose, r.granted, r.source, r.wording_version, r.actor)
            for r in rows] == [(ewa.id, "marketing_email", True, "webform:partner_portal",
                                "portal-nl-2", "webform:partner_portal")]  # fmt: skip
    assert ewa.consents is not None and ewa.consents["marketing_email"]["granted"] is True
    assert jan.consents is None
    assert properties == [
        {"form": "partner_portal", "message": "hi"},
        {"form": "partner_portal"},
    ]  # the boxes are consents, not properties


def test_the_shipped_website_form_has_a_newsletter_box(anonymous: TestClient,
                                                       db: Database) -> None:  # fmt: skip
    sent = anonymous.post(f"{API}/forms/website", data={"email": "k@acme.example",
                                                         "newsletter": "yes"})  # fmt: skip
    assert sent.status_code == 202, sent.text
    with db.reading() as session:
        row = session.scalars(select(Consent)).one()
    assert (row.purpose, row.source, row.wording_version) == (
        "marketing_email", "webform:website", "website-newsletter-1")  # fmt: skip


def test_a_forms_file_with_a_bad_consent_box_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "forms.yaml"
    for text, where in [
        ("forms: {a: {fields: {mail: email}, consents: {nl: {purpose: spam}}}}", "purpose"),
        ("forms: {a: {fields: {mail: email}, consents: {mail: {purpose: profiling}}}}", "a"),
    ]:
        path.write_text(text, encoding="utf-8")
        with pytest.raises(ConfigError, match=where):
            load_forms(path)


CSV = """email,do_not_email,Do Not Call
anna@firma.pl,yes,
piotr@firma.pl,no,1
ola@firma.pl,maybe,
"""


def test_csv_import_sets_do_not_email_and_call(db: Database, now: datetime,
                                               tmp_path: Path) -> None:  # fmt: skip
    path = tmp_path / "leads.csv"
    path.write_text(CSV, encoding="utf-8")
    summary = import_leads(db, path, {}, IntakePolicy(), now, tmp_path / "rejects.csv")
    assert (summary.created, summary.rejected) == (2, 1)
    assert "do_not_email" in (tmp_path / "rejects.csv").read_text(encoding="utf-8")
    path.write_text("email,do_not_email\nanna@firma.pl,false\n", encoding="utf-8")
    import_leads(db, path, {}, IntakePolicy(), now, tmp_path / "rejects.csv")
    with db.reading() as session:
        flags = {lead.email: (lead.do_not_email, lead.do_not_call)
                 for lead in session.scalars(select(Lead))}  # fmt: skip
    assert flags == {"anna@firma.pl": (True, False), "piotr@firma.pl": (False, True)}


def test_a_public_form_never_undoes_a_withdrawal(client: TestClient, anonymous: TestClient,
                                                 db: Database, now: datetime) -> None:  # fmt: skip
    created = client.post(f"{API}/leads", json={"email": "w@acme.example", "consents": [
        record("marketing_email", True, now - timedelta(days=9), "webinar"),
        record("marketing_email", False, now - timedelta(days=2), "unsubscribe")]})  # fmt: skip
    lead = created.json()["id"]
    sent = anonymous.post(f"{API}/forms/website", data={"email": "w@acme.example",
                                                        "newsletter": "on"})  # fmt: skip
    assert sent.status_code == 202, sent.text
    state = client.get(f"{API}/leads/{lead}/consents").json()
    assert state["current"]["marketing_email"]["granted"] is False
    assert stored(db, Consent) == 2  # the anonymous grant is not a consent record
    with db.reading() as session:
        actions = list(session.scalars(select(AuditEntry.action).where(
            AuditEntry.entity_id == str(lead))))  # fmt: skip
    assert "consent.anonymous_grant_ignored" in actions
    # where nobody withdrew, the same form records the grant
    fresh = anonymous.post(f"{API}/forms/website", data={"email": "n@acme.example",
                                                         "newsletter": "on"})  # fmt: skip
    assert fresh.status_code == 202 and stored(db, Consent) == 3
