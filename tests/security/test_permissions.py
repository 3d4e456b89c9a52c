"""Every API endpoint has a permission rule, and every role gets exactly what the rule says.

The endpoint list comes from the app's own OpenAPI schema, so an endpoint added without a rule
fails here (and is refused at run time: the check fails closed)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from leadq.api.app import create_app
from leadq.api.permissions import API_PREFIX, LEAD, PUBLIC, RULES
from leadq.config import Settings
from leadq.domain.leads import LeadInput
from leadq.services.intake.leads import upsert_lead
from leadq.services.intake.policy import IntakePolicy
from leadq.services.people.access import PERMISSIONS
from leadq.services.people.apikeys import create_key
from leadq.services.people.users import Role
from leadq.store.db import Database
from leadq.store.tables import FollowUpTask, Lead

REP = "rita"
EXAMPLES = {"lead_id": "{lead}", "task_id": "1", "override_id": "1", "framework": "bant",
            "reference": "classic", "name": "hot", "message_id": "1", "pair_id": "1", "run_id": "1",
            "source": "contact"}  # fmt: skip


def operations(client: TestClient) -> list[tuple[str, str]]:
    paths = client.get("/openapi.json").json()["paths"]
    return sorted((method.upper(), path) for path, item in paths.items() for method in item)


def concrete(path: str, lead_id: int) -> str:
    filled = re.sub(r"\{(\w+)\}", lambda m: EXAMPLES[m.group(1)], path)
    return filled.replace("{lead}", str(lead_id))


def lead_of(db: Database, now: datetime, email: str, owner: str | None) -> int:
    data = LeadInput.model_validate({"email": email, "first_name": "P", "owner": owner})
    with db.unit_of_work() as session:
        return upsert_lead(session, data, "tests", now, IntakePolicy()).lead.id


@pytest.fixture
def workspace(db: Database, now: datetime) -> Iterator[tuple[TestClient, dict[Role, str], int]]:
    tokens = {}
    with db.unit_of_work() as session:
        for role in Role:
            tokens[role] = create_key(session, REP if role is Role.rep else role.value, now,
                                      role)[0]  # fmt: skip
    lead = lead_of(db, now, "open@example.com", None)
    # the tracking door also asks the page's origin: this one is allowed, so its answer is about
    # the role alone
    settings = Settings(database_url=db.url, tracking_origins=["https://site.example"])
    with TestClient(create_app(settings, db), headers={"Origin": "https://site.example"}) as client:
        yield client, tokens, lead


def test_every_endpoint_has_a_permission_rule(db: Database) -> None:
    with TestClient(create_app(Settings(database_url=db.url), db)) as client:
        found = set(operations(client))
    assert found - RULES.keys() == set(), "endpoints without a permission rule"
    assert RULES.keys() - found == set(), "rules for endpoints that do not exist"
    assert set(RULES.values()) - {PUBLIC} <= PERMISSIONS.keys()


@pytest.mark.parametrize("role", list(Role))
def test_each_role_gets_exactly_what_the_table_allows(
    workspace: tuple[TestClient, dict[Role, str], int], role: Role
) -> None:
    client, tokens, lead = workspace
    wrong = []
    for method, path in operations(client):
        permission = RULES[(method, path)]
        allowed = permission == PUBLIC or role in PERMISSIONS[permission]
        response = client.request(method, concrete(path, lead), json={},
                                  headers={"Authorization": f"Bearer {tokens[role]}"})  # fmt: skip
        if (response.status_code == 403) == allowed or response.status_code >= 500:
            wrong.append(f"{method} {path}: {response.status_code} {response.text[:120]}")
    assert wrong == []


def test_without_a_key_only_public_endpoints_answer(
    workspace: tuple[TestClient, dict[Role, str], int],
) -> None:
    client, _, lead = workspace
    for method, path in operations(client):
        response = client.request(method, concrete(path, lead), json={})
        public = RULES[(method, path)] == PUBLIC
        assert (response.status_code == 401) != public, (method, path, response.status_code)


def test_a_rep_sees_and_works_only_own_and_unassigned_leads(
    workspace: tuple[TestClient, dict[Role, str], int], db: Database, now: datetime
) -> None:
    client, tokens, unassigned = workspace
    mine = lead_of(db, now, "mine@example.com", REP)
    theirs = lead_of(db, now, "theirs@example.com", "someone-else")
    rep = {"Authorization": f"Bearer {tokens[Role.rep]}"}
    listed = {item["id"] for item in client.get("/api/v1/leads", headers=rep).json()["items"]}
    assert listed == {mine, unassigned}
    for lead_id in (mine, unassigned):
        assert client.get(f"/api/v1/leads/{lead_id}", headers=rep).status_code == 200
    for method, path in operations(client):
        if "{lead_id}" in path and RULES[(method, path)] in ("leads.view", "leads.work"):
            response = client.request(method, concrete(path, theirs), json={}, headers=rep)
            assert response.status_code == 404, (method, path, response.text)
    edit = client.patch(f"/api/v1/leads/{mine}", json={"job_title": "CTO"}, headers=rep)
    assert edit.status_code == 200 and edit.json()["job_title"] == "CTO"
    admin = {"Authorization": f"Bearer {tokens[Role.admin]}"}
    assert client.get(f"/api/v1/leads/{theirs}", headers=admin).status_code == 200
    everyone = client.get("/api/v1/leads", headers=admin).json()["items"]
    assert {item["id"] for item in everyone} == {mine, theirs, unassigned}


def test_a_key_role_must_be_known(db: Database, now: datetime) -> None:
    from leadq.services.errors import InvalidInput

    with db.unit_of_work() as session, pytest.raises(InvalidInput, match="role"):
        create_key(session, "x", now, "superuser")


ODD_SPELLINGS = ["+{id}", " {id}", "{id} ", "{id}.0", "0000000000000000000{id}", "{id}e0",
                 "0x{id}", "{id}_0", "\u0661{id}"]  # fmt: skip
"""What a lax integer parser reads as the id (or near it); none of them is an id."""


def test_no_spelling_of_an_id_gets_round_a_reps_scope(
    workspace: tuple[TestClient, dict[Role, str], int], db: Database, now: datetime
) -> None:
    client, tokens, _ = workspace
    theirs = lead_of(db, now, "theirs@example.com", "someone-else")
    with db.unit_of_work() as session:
        task = FollowUpTask(lead_id=theirs, kind="call", owner="someone-else", rule="tests",
                            created_at=now, due_at=now)  # fmt: skip
        session.add(task)
        session.flush()
        task_id = task.id
    rep = {"Authorization": f"Bearer {tokens[Role.rep]}"}
    takeover = {"owner": REP, "email": "theirs@example.com", "job_title": "Taken"}
    walked = set()
    for method, path in operations(client):
        allowed = Role.rep in PERMISSIONS.get(RULES[(method, path)], ())
        if not allowed or ("{lead_id}" not in path and "{task_id}" not in path):
            continue
        for spelling in ODD_SPELLINGS:
            filled = path.replace("{lead_id}", quote(spelling.format(id=theirs)))
            filled = filled.replace("{task_id}", quote(spelling.format(id=task_id)))
            response = client.request(method, concrete(filled, theirs), json=takeover,
                                      headers=rep)  # fmt: skip
            walked.add((method, path))
            assert response.status_code == 422, (method, filled, response.text[:200])
            assert "theirs@example.com" not in response.text
    assert {("GET", LEAD), ("PATCH", LEAD), ("POST", f"{LEAD}/frameworks/{{framework}}/answers"),
            ("POST", "/api/v1/tasks/{task_id}/complete")} <= walked  # fmt: skip
    with db.reading() as session:
        lead = session.get(Lead, theirs)
        assert lead is not None and lead.owner == "someone-else" and lead.job_title is None
        assert session.get(FollowUpTask, task_id).done_at is None  # type: ignore[union-attr]


def test_a_rep_cannot_learn_which_lead_holds_an_address(
    workspace: tuple[TestClient, dict[Role, str], int], db: Database, now: datetime
) -> None:
    client, tokens, _ = workspace
    mine = lead_of(db, now, "mine@example.com", REP)
    theirs = lead_of(db, now, "theirs@example.com", "someone-else")
    rep = {"Authorization": f"Bearer {tokens[Role.rep]}"}
    taken = client.patch(f"{API_PREFIX}/leads/{mine}", json={"email": "theirs@example.com"},
                         headers=rep)  # fmt: skip
    assert taken.status_code == 409
    assert str(theirs) not in taken.text and "another lead" in taken.text
