"""The public web-form endpoint: mapped fields, no API key, small bodies, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from leadq.api.app import create_app
from leadq.config import Settings
from leadq.services.errors import ConfigError
from leadq.services.intake.webforms import load_forms
from leadq.store.db import Database
from leadq.store.tables import Event, Lead

FORMS = """
forms:
  Partner Portal:
    campaign: partners-2026
    defaults: {country: PL}
    redirect_to: /thanks
    fields:
      mail: email
      tel: phone
      imie: first_name
      firma: company
      stanowisko: job_title
      nip: attributes.tax_id
"""


@pytest.fixture
def forms_client(db: Database, tmp_path: Path) -> TestClient:
    path = tmp_path / "forms.yaml"
    path.write_text(FORMS, encoding="utf-8")
    app = create_app(Settings(database_url=db.url, forms_file=path), db)
    return TestClient(app, follow_redirects=False)


def test_form_post_creates_lead_and_form_event(forms_client: TestClient, db: Database) -> None:
    response = forms_client.post(
        "/api/v1/forms/partner-portal",
        data={
            "mail": "Ewa@Hurtownia.pl",
            "imie": "Ewa",
            "firma": "Hurtownia",
            "stanowisko": "Kierownik",
            "nip": "525-000-00-00",
            "message": "Proszę o kontakt",
            "consent": "yes",
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/thanks"
    with db.reading() as session:
        lead = session.scalars(select(Lead)).one()
        form_event = session.scalars(select(Event)).one()
    assert (lead.email, lead.first_name, lead.seniority) == ("ewa@hurtownia.pl", "Ewa", "manager")
    assert (lead.source, lead.campaign, lead.country) == ("partner_portal", "partners-2026", "PL")
    assert lead.attributes == {"tax_id": "525-000-00-00"}
    assert form_event.type == "form_submitted"
    assert form_event.properties == {
        "form": "partner_portal",
        "message": "Proszę o kontakt",
        "consent": "yes",
    }


def test_json_submission_to_shipped_website_form(anonymous: TestClient, db: Database) -> None:
    first = anonymous.post(
        "/api/v1/forms/website", json={"your-email": "k@acme.com", "tel": "+48601000200"}
    )
    second = anonymous.post(
        "/api/v1/forms/website", json={"email": "k@acme.com", "firstname": "Kasia"}
    )
    assert first.status_code == second.status_code == 202
    assert first.json() == second.json() == {"status": "received"}  # reveals nothing
    with db.reading() as session:
        lead = session.scalars(select(Lead)).one()
        assert lead.first_name == "Kasia" and lead.phone == "+48601000200"
        assert len(session.scalars(select(Event)).all()) == 2


def test_form_errors_use_the_forms_own_field_names(forms_client: TestClient, db: Database) -> None:
    response = forms_client.post("/api/v1/forms/partner-portal", data={"mail": "nope"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "mail"
    missing = forms_client.post("/api/v1/forms/partner-portal", data={"imie": "Ewa"})
    assert missing.status_code == 422
    assert "email or a phone" in missing.json()["errors"][0]["reason"]
    with db.reading() as session:
        assert session.scalars(select(Lead)).first() is None


def test_unknown_form_is_404_and_odd_bodies_are_refused(forms_client: TestClient) -> None:
    assert forms_client.post("/api/v1/forms/nope", data={"mail": "a@b.pl"}).status_code == 404
    plain = forms_client.post(
        "/api/v1/forms/partner-portal",
        content=b"mail=a@b.pl",
        headers={"Content-Type": "text/plain"},
    )
    assert plain.status_code == 415
    array = forms_client.post("/api/v1/forms/partner-portal", json=["a"])
    assert array.status_code == 422
    broken = forms_client.post(
        "/api/v1/forms/partner-portal", content=b"{", headers={"Content-Type": "application/json"}
    )
    assert broken.status_code == 400
    big = forms_client.post(
        "/api/v1/forms/partner-portal", data={"message": "x" * 70_000, "mail": "a@b.pl"}
    )
    assert big.status_code == 413
    many = {f"f{i}": "x" for i in range(100)} | {"mail": "a@b.pl"}
    assert forms_client.post("/api/v1/forms/partner-portal", data=many).status_code == 422


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("forms: {web: {fields: {mail: favourite_colour}}}", "forms.web.fields"),
        ("forms: {web: {fields: {}}}", "forms.web.fields"),
        ("forms: {web: {fields: {a: email}, colour: red}}", "forms.web.colour"),
        ("forms: [1, 2", "-"),
        (
            "forms: {web: {fields: {a: email}, redirect_to: 'javascript:alert(1)'}}",
            "forms.web.redirect_to",
        ),
    ],
)
def test_bad_forms_file_is_refused_with_file_path_and_reason(
    tmp_path: Path, text: str, where: str
) -> None:
    path = tmp_path / "forms.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_forms(path)
    assert str(caught.value).startswith(f"{path}: {where}: ")


def test_hostile_form_submissions_get_4xx_not_5xx(forms_client: TestClient, db: Database) -> None:
    url = "/api/v1/forms/partner-portal"
    long_message = forms_client.post(url, json={"mail": "a@b.pl", "message": "x" * 5000})
    assert long_message.status_code == 422
    assert long_message.json()["errors"][0]["field"] == "message"
    nested = forms_client.post(url, json={"mail": "a@b.pl", "extra": {"deep": ["x" * 100] * 300}})
    assert nested.status_code == 422
    upload = forms_client.post(url, data={"mail": "a@b.pl"}, files={"cv": ("cv.txt", b"hello")})
    assert upload.status_code in (400, 422)
    wrong_type = forms_client.post(url, json={"mail": ["a@b.pl"]})
    assert wrong_type.status_code == 422 and wrong_type.json()["errors"][0]["field"] == "mail"
    with db.reading() as session:
        assert session.scalars(select(Lead)).first() is None
