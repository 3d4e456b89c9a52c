"""``POST /imports``: the command's import over HTTP, on SQLite and PostgreSQL — counts, the
first warnings, the rejected rows behind a link; and every way to send it wrong."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from leadq.services.intake import uploads
from leadq.services.people.apikeys import create_key
from leadq.services.people.users import Role
from leadq.store.db import Database

SALESFORCE = (
    "Id,FirstName,LastName,Company,Title,Email,Phone,LeadSource,Status,IsConverted,CreatedDate,"
    "Country\n"
    "1,Ann,Lee,Acme,CEO,ann@acme.example,(512) 757-6000,Web,Working - Contacted,false,"
    "2024-01-22T20:36:47.000+0000,US\n"
    "2,Bo,Kim,Acme,CTO,bo@acme.example,no phone,Web,Sleeping,false,,US\n"
    "3,Cy,,Acme,,,,Web,New,false,,US\n"
)


def _send(client: TestClient, text: str | bytes, **fields: Any) -> Any:
    files = {"file": ("leads.csv", text, "text/csv")}
    return client.post("/api/v1/imports", files=files, data=fields)


def test_an_upload_imports_like_the_command(client: TestClient) -> None:
    reply = _send(client, SALESFORCE, stage=["Sleeping=nurture"])
    assert reply.status_code == 201, reply.text
    body = reply.json()
    assert body["status"] == "done" and body["total_rows"] == 3 and body["done_rows"] == 3
    summary = body["summary"]
    assert (summary["created"], summary["rejected"], summary["warned"]) == (2, 1, 1)
    assert summary["preset"] == "salesforce-lead" and summary["unmapped_statuses"] == {}
    assert body["warnings"] == [{"line": "3", "field": "phone", "reason": body["warnings"][0][
        "reason"]}] and "phone_raw" in body["warnings"][0]["reason"]  # fmt: skip
    rejects = client.get(body["rejects"])
    assert rejects.status_code == 200 and rejects.text.splitlines()[1].startswith("4,")
    assert client.get(f"/api/v1/imports/{body['id']}").json()["summary"] == summary
    leads = {lead["email"]: lead for lead in client.get("/api/v1/leads").json()["items"]}
    assert leads["ann@acme.example"]["stage"] == "sal"
    assert leads["bo@acme.example"]["stage"] == "nurture"
    assert leads["ann@acme.example"]["created_at"].startswith("2024-01-22T20:36:47")


@pytest.mark.parametrize(
    ("send", "status", "field"),
    [
        (lambda c: c.post("/api/v1/imports", json={"file": "x"}), 415, "content-type"),
        (lambda c: c.post("/api/v1/imports", files={"other": ("a", b"x")}), 422, "file"),
        (lambda c: _send(c, ""), 422, "file"),
        (lambda c: _send(c, b"email\n\xff\xfe\xfa@x\n"), 422, "file"),
        (lambda c: _send(c, "email,email\nx@y.example,z@y.example\n"), 422, "file"),
        (lambda c: _send(c, "name\nAnn\n"), 422, "mapping"),
        (lambda c: _send(c, "email\nx@y.example\n", map=["nonsense"]), 422, "map"),
        (lambda c: _send(c, "email\nx@y.example\n", map=["email=shoe_size"]), 422, "mapping"),
        (lambda c: _send(c, "email\nx@y.example\n", preset="nope"), 422, "mapping"),
        (lambda c: _send(c, "email\nx@y.example\n", stage=["New=hot"]), 422, "mapping"),
        (lambda c: _send(c, "email\nx@y.example\n", phone_region="Atlantis"), 422,
         "phone_region"),
    ],
)  # fmt: skip
def test_mistakes_are_refused_and_store_nothing(
    client: TestClient, send: Callable[[TestClient], Any], status: int, field: str
) -> None:
    reply = send(client)
    assert reply.status_code == status, reply.text
    assert field in {e["field"] for e in reply.json()["errors"]}
    assert client.get("/api/v1/leads").json()["items"] == []


def test_an_oversized_file_is_refused(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(uploads, "MAX_UPLOAD_BYTES", 1000)
    reply = _send(client, "email\n" + "x@y.example\n" * 200)
    assert reply.status_code == 413 and reply.json()["errors"][0]["field"] == "file"


def test_hostile_cells_are_rows_not_code(client: TestClient) -> None:
    text = ("email,first_name,company\n"
            "a@y.example,=HYPERLINK(\"http://x\"),Acme\n"
            "b@y.example,\"<script>alert(1)</script>\",\"a\x00b\"\n")  # fmt: skip
    body = _send(client, text).json()
    assert body["summary"]["created"] == 1 and body["summary"]["rejected"] == 1
    lead = client.get("/api/v1/leads").json()["items"][0]
    assert lead["first_name"] == '=HYPERLINK("http://x")'  # kept as text, exported safely


def test_an_unknown_import_is_not_found(client: TestClient) -> None:
    assert client.get("/api/v1/imports/999").status_code == 404
    assert client.get("/api/v1/imports/999/rejects").status_code == 404
    assert client.get("/api/v1/imports/abc").status_code == 422


def test_reps_may_not_import(anonymous: TestClient, db: Database, now: datetime) -> None:
    with db.unit_of_work() as session:
        token, _ = create_key(session, "rex", now, Role.rep)
    client = anonymous
    client.headers["Authorization"] = f"Bearer {token}"
    assert _send(client, SALESFORCE).status_code == 403
