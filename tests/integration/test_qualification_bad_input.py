"""Bad input to the qualification endpoints over HTTP, on a real database: every refusal is a
clear 4xx ``{"error": kind, "errors": [{"field", "reason"}]}`` naming the field, and a refused
request stores nothing (stage history, overrides, answers, feedback and audit stay as they were).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from leadq.http.errors import HTTP_KINDS
from leadq.store.db import Database
from leadq.store.tables import Base

API = "/api/v1"
LEAD_VIEWS = ("", "/stages", "/overrides", "/frameworks/bant", "/frameworks/champ", "/audit",
              "/feedback")  # fmt: skip
IQL_MOVES = "mql, nurture, unqualified, disqualified"
UNQUALIFIED = "no_budget, no_authority, no_need, bad_timing, no_response, not_a_fit, lost"
IQL_TO_CUSTOMER = f"iql → customer is not allowed (from iql: {IQL_MOVES})"
BANT_ASKS = "bant asks: budget, authority, need, timing"
HUGE = 2**63 + 5

Json = dict[str, Any]


# -- helpers -----------------------------------------------------------------------------------


def errors(response: httpx.Response) -> list[dict[str, str]]:
    body = response.json()
    assert isinstance(body, dict), body
    assert set(body) == {"error", "errors"}, body
    assert body["error"] == HTTP_KINDS[response.status_code], body
    found = body["errors"]
    assert isinstance(found, list) and found, body
    for error in found:
        assert set(error) == {"field", "reason"}, body
        assert isinstance(error["field"], str) and isinstance(error["reason"], str), body
        assert error["reason"], body
    return list(found)


def refused(response: httpx.Response, status: int, field: str, reason: str = "") -> None:
    """The response is ``status`` and one of its errors names ``field`` with ``reason`` in it."""
    assert response.status_code == status, (response.status_code, response.text)
    found = errors(response)
    assert any(e["field"] == field and reason in e["reason"] for e in found), found


def rows_stored(db: Database) -> dict[str, int]:
    with db.reading() as session:
        return {
            table.name: session.scalar(select(func.count()).select_from(table)) or 0
            for table in Base.metadata.sorted_tables
        }


def lead_state(client: TestClient, lead_id: int) -> dict[str, Any]:
    """Everything the API shows about a lead's qualification."""
    state: dict[str, Any] = {}
    for view in LEAD_VIEWS:
        response = client.get(f"{API}/leads/{lead_id}{view}")
        assert response.status_code == 200, (view, response.text)
        state[view or "lead"] = response.json()
    return state


class Unchanged:
    """Records the lead's state and every table's row count, to compare after a refusal."""

    def __init__(self, client: TestClient, db: Database, *lead_ids: int) -> None:
        self.client, self.db, self.lead_ids = client, db, lead_ids
        self.rows = rows_stored(db)
        self.states = {i: lead_state(client, i) for i in lead_ids}

    def check(self) -> None:
        assert rows_stored(self.db) == self.rows
        for lead_id, state in self.states.items():
            after = lead_state(self.client, lead_id)
            for view, before in state.items():
                assert after[view] == before, (lead_id, view)


def shipped_model(name: str) -> str:
    return (resources.files("leadq.models") / f"{name}.yaml").read_text("utf-8")


def use_classic(client: TestClient) -> None:
    added = client.post(f"{API}/models", content=shipped_model("classic"),
                        headers={"Content-Type": "application/yaml"})  # fmt: skip
    assert added.status_code == 201, added.text
    activated = client.post(f"{API}/models/classic@{added.json()['version']}/activate")
    assert activated.status_code == 200, activated.text


def new_lead(client: TestClient, email: str, **profile: Any) -> int:
    response = client.post(f"{API}/leads", json={"email": email, **profile})
    assert response.status_code == 201, response.text
    lead_id: int = response.json()["id"]
    return lead_id


def stage_of(client: TestClient, lead_id: int) -> str:
    stage: str = client.get(f"{API}/leads/{lead_id}").json()["stage"]
    return stage


def add_override(client: TestClient, lead_id: int, **body: Any) -> int:
    response = client.post(f"{API}/leads/{lead_id}/overrides", json=body)
    assert response.status_code == 201, response.text
    override_id: int = response.json()["id"]
    return override_id


@pytest.fixture
def iql(client: TestClient) -> int:
    """A lead with nothing to score: it stays an iql (no scoring model active)."""
    lead_id = new_lead(client, "iql@acme.com")
    assert stage_of(client, lead_id) == "iql"
    return lead_id


@pytest.fixture
def mql(client: TestClient) -> int:
    """The classic model active and a warm lead (15 points), which the lifecycle makes a MQL."""
    use_classic(client)
    lead_id = new_lead(client, "ceo@acme.com", job_title="CEO", company_size=300)
    assert stage_of(client, lead_id) == "mql"
    return lead_id


def post(client: TestClient, path: str, body: Any) -> httpx.Response:
    response: httpx.Response = client.post(f"{API}{path}", json=body)
    return response


# -- stage moves -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status", "field", "reason"),
    [
        ({"stage": "moon"}, 422, "stage", "unknown stage; one of: iql, mql"),
        ({"stage": "MQL"}, 422, "stage", "unknown stage"),
        ({"stage": ""}, 422, "stage", "unknown stage"),
        ({}, 422, "stage", "required"),
        ({"stage": None}, 422, "stage", "string"),
        ({"stage": 3}, 422, "stage", "string"),
        ({"stage": ["mql"]}, 422, "stage", "string"),
        ({"stage": "x" * 21}, 422, "stage", "at most 20"),
        ({"stage": "customer"}, 409, "stage", IQL_TO_CUSTOMER),
        ({"stage": "sal"}, 409, "stage", "only a mql can be accepted; the lead is iql"),
        ({"stage": "unqualified"}, 422, "reason", f"needs a reason, one of: {UNQUALIFIED}"),
        ({"stage": "unqualified", "reason": "too_pricey"}, 422, "reason", UNQUALIFIED),
        ({"stage": "unqualified", "reason": "  "}, 422, "reason", UNQUALIFIED),
        ({"stage": "disqualified", "reason": "no_budget"}, 422, "reason", "competitor, spam"),
        ({"stage": "disqualified"}, 422, "reason", "disqualified needs a reason"),
        ({"stage": "mql", "reason": "x" * 501}, 422, "reason", "at most 500"),
        ({"stage": "mql", "colour": "red"}, 422, "colour", "unknown field"),
        ({"stage": "mql", "by": "   "}, 422, "by", "at least 1"),
        ({"stage": "mql", "by": "x" * 61}, 422, "by", "at most 60"),
    ],
)
def test_bad_stage_move_is_refused_and_stores_nothing(
    client: TestClient, db: Database, iql: int, body: Json, status: int, field: str, reason: str
) -> None:
    unchanged = Unchanged(client, db, iql)
    refused(post(client, f"/leads/{iql}/stage", body), status, field, reason)
    unchanged.check()
    assert stage_of(client, iql) == "iql"


@pytest.mark.parametrize(
    ("body", "status", "field", "reason"),
    [
        ({"stage": "iql"}, 409, "stage", "mql → iql is not allowed (from mql: sal, nurture"),
        ({"stage": "customer"}, 409, "stage", "mql → customer is not allowed"),
        ({"stage": "unqualified", "reason": "spam"}, 422, "reason", UNQUALIFIED),
    ],
)
def test_bad_stage_move_of_a_mql_is_refused(
    client: TestClient, db: Database, mql: int, body: Json, status: int, field: str, reason: str
) -> None:
    unchanged = Unchanged(client, db, mql)
    refused(post(client, f"/leads/{mql}/stage", body), status, field, reason)
    unchanged.check()


def test_non_object_stage_body_is_refused(client: TestClient, db: Database, iql: int) -> None:
    unchanged = Unchanged(client, db, iql)
    for body in (["mql"], "mql", 3, None):
        response = post(client, f"/leads/{iql}/stage", body)
        assert response.status_code == 422, (body, response.text)
        errors(response)
    unchanged.check()


# -- every POST endpoint: malformed JSON, lead ids, API key ------------------------------------

VALID_BODIES: list[tuple[str, Json]] = [
    ("/stage", {"stage": "nurture", "reason": "not_ready"}),
    ("/accept", {}),
    ("/reject", {"reason": "not_ready"}),
    ("/frameworks/bant/answers", {"answers": {"need": True}}),
    ("/overrides", {"kind": "points", "points": 5, "reason": "met them at a fair"}),
]
ENDPOINTS = [path for path, _ in VALID_BODIES]


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize(
    "content",
    [b'{"stage": "mql",', b"{'stage': 'mql'}", b"stage=mql", b"{", b'{"a": 1} x', b"\xff\xfe"],
)
def test_malformed_json_is_400(
    client: TestClient, db: Database, iql: int, path: str, content: bytes
) -> None:
    unchanged = Unchanged(client, db, iql)
    response = client.post(f"{API}/leads/{iql}{path}", content=content,
                           headers={"Content-Type": "application/json"})  # fmt: skip
    assert response.status_code == 400, response.text
    assert errors(response) == [{"field": "body", "reason": "malformed JSON"}]
    unchanged.check()


@pytest.mark.parametrize(("path", "body"), VALID_BODIES)
@pytest.mark.parametrize(
    ("lead_id", "status"),
    [("0", 422), ("-1", 422), (str(2**31), 422), (str(HUGE), 422), ("abc", 422), ("1.5", 422),
     ("999999", 404)],
)  # fmt: skip
def test_bad_or_unknown_lead_id_is_refused(
    client: TestClient, db: Database, iql: int, path: str, body: Json, lead_id: str, status: int
) -> None:
    unchanged = Unchanged(client, db, iql)
    reason = "lead 999999" if status == 404 else ""
    refused(client.post(f"{API}/leads/{lead_id}{path}", json=body), status, "lead_id", reason)
    unchanged.check()


@pytest.mark.parametrize(("path", "body"), VALID_BODIES)
@pytest.mark.parametrize("header", [None, "Bearer nope", "Basic dXNlcjpwYXNz", "Bearer "])
def test_qualification_needs_a_valid_key(
    client: TestClient, db: Database, mql: int, path: str, body: Json, header: str | None
) -> None:
    unchanged = Unchanged(client, db, mql)
    key = client.headers.pop("Authorization")
    try:
        headers = {"Authorization": header} if header else {}
        for target in (f"/leads/{mql}{path}", f"/leads/999999{path}"):
            response = client.post(f"{API}{target}", json=body, headers=headers)
            refused(response, 401, "request")
            assert response.headers["WWW-Authenticate"] == "Bearer"
        response = client.delete(f"{API}/leads/{mql}/overrides/1", headers=headers)
        refused(response, 401, "request")
    finally:
        client.headers["Authorization"] = key
    unchanged.check()


# -- acceptance and rejection ------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [{}, {"comment": "looks good"}, {"owner": "jan@acme.com"}],
)
def test_accepting_a_lead_that_is_not_a_mql_is_409(
    client: TestClient, db: Database, iql: int, body: Json
) -> None:
    unchanged = Unchanged(client, db, iql)
    refused(post(client, f"/leads/{iql}/accept", body), 409, "stage",
            "only a mql can be accepted; the lead is iql")  # fmt: skip
    unchanged.check()


def test_accepting_twice_is_409(client: TestClient, db: Database, mql: int) -> None:
    accepted = post(client, f"/leads/{mql}/accept", {"comment": "first"})
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["stage"] == "sal"
    unchanged = Unchanged(client, db, mql)
    refused(post(client, f"/leads/{mql}/accept", {"comment": "again"}), 409, "stage",
            "only a mql can be accepted; the lead is sal")  # fmt: skip
    unchanged.check()


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        ({"comment": "x" * 2001}, "comment", "at most 2000"),
        ({"owner": "x" * 61}, "owner", "at most 60"),
        ({"owner": "  "}, "owner", "at least 1"),
        ({"owner": 7}, "owner", "string"),
        ({"by": "x" * 61}, "by", "at most 60"),
        ({"decision": "yes"}, "decision", "unknown field"),
    ],
)
def test_bad_acceptance_is_422(
    client: TestClient, db: Database, mql: int, body: Json, field: str, reason: str
) -> None:
    unchanged = Unchanged(client, db, mql)
    refused(post(client, f"/leads/{mql}/accept", body), 422, field, reason)
    unchanged.check()
    assert stage_of(client, mql) == "mql"


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        ({"reason": "meh"}, "reason", "unknown rejection reason; one of: not_ready, bad_timing"),
        ({"reason": ""}, "reason", "unknown rejection reason"),
        ({"reason": "NOT_READY"}, "reason", "unknown rejection reason"),
        ({}, "reason", "required"),
        ({"comment": "no thanks"}, "reason", "required"),
        ({"reason": None}, "reason", "string"),
        ({"reason": ["not_ready"]}, "reason", "string"),
        ({"reason": "x" * 61}, "reason", "at most 60"),
        ({"reason": "not_ready", "comment": "x" * 2001}, "comment", "at most 2000"),
        ({"reason": "not_ready", "stage": "nurture"}, "stage", "unknown field"),
    ],
)
def test_bad_rejection_is_422(
    client: TestClient, db: Database, mql: int, body: Json, field: str, reason: str
) -> None:
    unchanged = Unchanged(client, db, mql)
    refused(post(client, f"/leads/{mql}/reject", body), 422, field, reason)
    unchanged.check()
    assert stage_of(client, mql) == "mql"


@pytest.mark.parametrize("reason", ["not_ready", "no_budget", "competitor"])
def test_rejecting_an_iql_is_409(client: TestClient, db: Database, iql: int, reason: str) -> None:
    unchanged = Unchanged(client, db, iql)
    refused(post(client, f"/leads/{iql}/reject", {"reason": reason}), 409, "stage",
            "only a mql or sal can be rejected; the lead is iql")  # fmt: skip
    unchanged.check()


# -- framework answers -------------------------------------------------------------------------

HOSTILE_QUESTIONS = [
    "'; drop table leads; --",
    "budget'; DELETE FROM framework_answers; --",
    "budget OR 1=1",
    "<script>alert(1)</script>",
    "预算",
    "büdget",
    "budget\u200b",
    "bud\u202eget",
    "BUDGET",
    " budget",
    "budget\u0000",
    "🙂",
    "",
    "verdict",
    "completeness",
    "../champ/money",
]


@pytest.mark.parametrize(
    ("framework", "answers", "field", "reason"),
    [
        ("bant", {"colour": "red"}, "answers.colour", f"unknown question; {BANT_ASKS}"),
        ("bant", {"challenges": True}, "answers.challenges", "unknown question"),
        ("bant", {"budget": "lots"}, "answers.budget", "expected a number"),
        ("bant", {"budget": "20000"}, "answers.budget", "expected a number"),
        ("bant", {"budget": True}, "answers.budget", "expected a number"),
        ("bant", {"budget": [20000]}, "answers.budget", "expected a number"),
        ("bant", {"budget": {"eur": 20000}}, "answers.budget", "expected a number"),
        ("bant", {"budget": 1e16}, "answers.budget", "finite number"),
        ("bant", {"budget": 10**30}, "answers.budget", "finite number"),
        ("bant", {"timing": -(10**30)}, "answers.timing", "finite number"),
        ("bant", {"need": 1}, "answers.need", "expected true or false"),
        ("bant", {"need": 0}, "answers.need", "expected true or false"),
        ("bant", {"need": "yes"}, "answers.need", "expected true or false"),
        ("bant", {"need": "true"}, "answers.need", "expected true or false"),
        ("bant", {"authority": "ceo"}, "answers.authority",
         "expected one of: decision_maker, influencer, user, gatekeeper"),
        ("bant", {"authority": "Decision_Maker"}, "answers.authority", "expected one of"),
        ("bant", {"authority": 1}, "answers.authority", "expected one of"),
        ("bant", {"authority": ["decision_maker"]}, "answers.authority", "expected one of"),
        ("champ", {"challenge_notes": "x" * 3000}, "answers.challenge_notes", "at most 2000"),
        ("champ", {"challenge_notes": 42}, "answers.challenge_notes", "expected text"),
        ("champ", {"challenge_notes": ["a", "b"]}, "answers.challenge_notes", "expected text"),
        ("champ", {"prioritization": "urgent"}, "answers.prioritization", "top, high, medium"),
        ("bant", {"need": True, "budget": "lots"}, "answers.budget", "expected a number"),
        ("bant", {"budget": 20000, "authority": "decision_maker", "need": True, "timing": "soon"},
         "answers.timing", "expected a number"),
    ],
)  # fmt: skip
def test_wrong_answer_is_422_and_nothing_is_recorded(
    client: TestClient, db: Database, iql: int, framework: str, answers: Json, field: str,
    reason: str,
) -> None:  # fmt: skip
    unchanged = Unchanged(client, db, iql)
    response = post(client, f"/leads/{iql}/frameworks/{framework}/answers", {"answers": answers})
    refused(response, 422, field, reason)
    unchanged.check()


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        ({"answers": {}}, "answers", "give at least one answer"),
        ({}, "answers", "required"),
        ({"answers": None}, "answers", "dictionary"),
        ({"answers": [["need", True]]}, "answers", "dictionary"),
        ({"answers": "need=true"}, "answers", "dictionary"),
        ({"answers": {f"q{i}": 1 for i in range(101)}}, "answers", "at most 100"),
        ({"answers": {"need": True}, "verdict": "qualified"}, "verdict", "unknown field"),
        ({"answers": {"need": True}, "by": "x" * 61}, "by", "at most 60"),
    ],
)
def test_bad_answers_body_is_422(
    client: TestClient, db: Database, iql: int, body: Json, field: str, reason: str
) -> None:
    unchanged = Unchanged(client, db, iql)
    refused(post(client, f"/leads/{iql}/frameworks/bant/answers", body), 422, field, reason)
    unchanged.check()


def test_exactly_100_answers_are_read_and_each_unknown_one_named(
    client: TestClient, db: Database, iql: int
) -> None:
    unchanged = Unchanged(client, db, iql)
    answers = {f"q{i}": 1 for i in range(100)}
    response = post(client, f"/leads/{iql}/frameworks/bant/answers", {"answers": answers})
    refused(response, 422, "answers.q0", "unknown question")
    assert {e["field"] for e in errors(response)} == {f"answers.q{i}" for i in range(100)}
    unchanged.check()


@pytest.mark.parametrize("question", HOSTILE_QUESTIONS)
def test_hostile_question_name_is_422(
    client: TestClient, db: Database, iql: int, question: str
) -> None:
    unchanged = Unchanged(client, db, iql)
    body = {"answers": {question: True}}
    response = post(client, f"/leads/{iql}/frameworks/bant/answers", body)
    expected = "contains a NUL" if "\x00" in question else f"unknown question; {BANT_ASKS}"
    refused(response, 422, f"answers.{question}", expected)  # NUL: refused at the door
    unchanged.check()


@pytest.mark.parametrize("length", [61, 200, 5000])
def test_very_long_question_name_is_422(
    client: TestClient, db: Database, iql: int, length: int
) -> None:
    unchanged = Unchanged(client, db, iql)
    body = {"answers": {"q" * length: True, "need": True}}
    response = post(client, f"/leads/{iql}/frameworks/bant/answers", body)
    assert response.status_code == 422, response.text
    found = errors(response)
    assert all(e["field"].startswith("answers") for e in found), found
    assert all(len(e["field"]) <= 200 for e in found), "error fields should not echo huge keys"
    assert any(e["reason"].startswith("unknown question; bant asks:") for e in found), found
    unchanged.check()


@pytest.mark.parametrize(
    ("content", "field"),
    [
        (b'{"answers": {"budget": 1e400}}', "answers.budget"),
        (b'{"answers": {"budget": -1e400}}', "answers.budget"),
        (b'{"answers": {"timing": 1e400, "need": true}}', "answers.timing"),
        (b'{"answers": {"budget": 1' + b"0" * 400 + b"}}", "answers.budget"),
    ],
)
def test_number_beyond_float_range_is_422(
    client: TestClient, db: Database, iql: int, content: bytes, field: str
) -> None:
    unchanged = Unchanged(client, db, iql)
    response = client.post(f"{API}/leads/{iql}/frameworks/bant/answers", content=content,
                           headers={"Content-Type": "application/json"})  # fmt: skip
    refused(response, 422, field, "expected a finite number")
    unchanged.check()


@pytest.mark.parametrize(
    ("path", "content", "field"),
    [
        ("/frameworks/bant/answers", b'{"answers": {"budget": 1' + b"0" * 5000 + b"}}",
         "answers.budget"),
        ("/overrides", b'{"kind": "points", "reason": "fair", "points": 1' + b"0" * 5000 + b"}",
         "points"),
        ("/stage", b'{"stage": 1' + b"0" * 5000 + b"}", "stage"),
    ],
)  # fmt: skip
def test_integer_too_long_to_read_is_refused_naming_the_body(
    client: TestClient, db: Database, iql: int, path: str, content: bytes, field: str
) -> None:
    """More digits than Python reads (4300): the body cannot be read (400, field body, like
    malformed JSON) or the field is named (422)."""
    unchanged = Unchanged(client, db, iql)
    response = client.post(f"{API}/leads/{iql}{path}", content=content,
                           headers={"Content-Type": "application/json"})  # fmt: skip
    assert response.status_code in (400, 422), response.text
    refused(response, response.status_code, "body" if response.status_code == 400 else field)
    unchanged.check()


@pytest.mark.parametrize("token", [b"NaN", b"Infinity", b"-Infinity"])
def test_non_json_number_tokens_are_refused(
    client: TestClient, db: Database, iql: int, token: bytes
) -> None:
    """Not JSON at all: malformed (400), or at least refused as not a finite number (422)."""
    unchanged = Unchanged(client, db, iql)
    response = client.post(f"{API}/leads/{iql}/frameworks/bant/answers",
                           content=b'{"answers": {"budget": ' + token + b"}}",
                           headers={"Content-Type": "application/json"})  # fmt: skip
    assert response.status_code in (400, 422), response.text
    field = "body" if response.status_code == 400 else "answers.budget"
    refused(response, response.status_code, field)
    unchanged.check()


@pytest.mark.parametrize("framework", ["nope", "BANT", "bant_v2", "drop table leads", "预算"])
def test_unknown_framework_is_404(
    client: TestClient, db: Database, iql: int, framework: str
) -> None:
    unchanged = Unchanged(client, db, iql)
    response = post(client, f"/leads/{iql}/frameworks/{framework}/answers",
                    {"answers": {"need": True}})  # fmt: skip
    refused(response, 404, "framework", framework)
    refused(client.get(f"{API}/leads/{iql}/frameworks/{framework}"), 404, "framework")
    unchanged.check()


def test_too_long_framework_name_is_422(client: TestClient, db: Database, iql: int) -> None:
    unchanged = Unchanged(client, db, iql)
    response = post(client, f"/leads/{iql}/frameworks/{'b' * 41}/answers",
                    {"answers": {"need": True}})  # fmt: skip
    refused(response, 422, "framework", "at most 40")
    unchanged.check()


def test_unknown_framework_on_unknown_lead_is_404(client: TestClient, db: Database) -> None:
    rows = rows_stored(db)
    response = post(client, "/leads/999999/frameworks/nope/answers", {"answers": {"x": 1}})
    assert response.status_code == 404, response.text
    assert errors(response)[0]["field"] in ("framework", "lead_id")
    assert rows_stored(db) == rows


def test_refused_answers_keep_the_earlier_ones(client: TestClient, db: Database, iql: int) -> None:
    given = post(client, f"/leads/{iql}/frameworks/bant/answers",
                 {"answers": {"budget": 50000, "need": True}})  # fmt: skip
    assert given.status_code == 200, given.text
    unchanged = Unchanged(client, db, iql)
    response = post(client, f"/leads/{iql}/frameworks/bant/answers",
                    {"answers": {"budget": None, "need": "no"}})  # fmt: skip
    refused(response, 422, "answers.need", "expected true or false")
    unchanged.check()
    values = {a["question"]: a["value"] for a in lead_state(client, iql)["/frameworks/bant"]
              ["answers"]}  # fmt: skip
    assert (values["budget"], values["need"]) == (50000, True)


# -- overrides ---------------------------------------------------------------------------------

R = "met them at a fair"


@pytest.mark.parametrize(
    ("classic", "body", "field", "reason"),
    [
        (False, {"kind": "points", "points": 5}, "reason", "required"),
        (False, {"kind": "points", "points": 5, "reason": "   "}, "reason",
         "an override needs a reason"),
        (False, {"kind": "points", "points": 5, "reason": ""}, "reason", "needs a reason"),
        (False, {"kind": "points", "points": 5, "reason": None}, "reason", "string"),
        (False, {"kind": "points", "points": 5, "reason": "x" * 501}, "reason", "at most 500"),
        (False, {"kind": "bonus", "reason": R}, "kind", "points"),
        (False, {"kind": "POINTS", "points": 5, "reason": R}, "kind", "points"),
        (False, {"points": 5, "reason": R}, "kind", "required"),
        (False, {"kind": "points", "reason": R}, "points", "required for kind points"),
        (False, {"kind": "points", "points": None, "reason": R}, "points", "required"),
        (False, {"kind": "points", "points": 0, "reason": R}, "points", "non-zero"),
        (False, {"kind": "points", "points": 1e9, "reason": R}, "points", "±1000000"),
        (False, {"kind": "points", "points": -1e9, "reason": R}, "points", "±1000000"),
        (False, {"kind": "points", "points": "ten", "reason": R}, "points", "number"),
        (False, {"kind": "points", "points": [5], "reason": R}, "points", "number"),
        (False, {"kind": "points", "points": 5, "grade": "hot", "reason": R}, "grade",
         "only for kind grade"),
        (False, {"kind": "points", "points": 5, "stage": "mql", "reason": R}, "stage",
         "only for kind stage"),
        (True, {"kind": "grade", "grade": "platinum", "reason": R}, "grade",
         "one of the model's grades: cold, warm, hot"),
        (True, {"kind": "grade", "grade": "HOT", "reason": R}, "grade", "cold, warm, hot"),
        (True, {"kind": "grade", "reason": R}, "grade", "required for kind grade"),
        (True, {"kind": "grade", "grade": "x" * 21, "reason": R}, "grade", "at most 20"),
        (False, {"kind": "grade", "grade": "hot", "reason": R}, "grade",
         "no active scoring model"),
        (False, {"kind": "points", "points": 5, "reason": R, "expires_at": "2020-01-01T00:00:00Z"},
         "expires_at", "must lie in the future"),
        (False, {"kind": "points", "points": 5, "reason": R, "expires_at": "2099-01-01T00:00:00"},
         "expires_at", "timezone"),
        (False, {"kind": "points", "points": 5, "reason": R, "expires_at": "tomorrow"},
         "expires_at", "datetime"),
        (False, {"kind": "points", "points": 5, "reason": R, "expires_at": "2099-13-01T00:00Z"},
         "expires_at", "datetime"),
        (False, {"kind": "stage", "stage": "moon", "reason": R}, "stage", "unknown stage"),
        (False, {"kind": "stage", "stage": "x" * 21, "reason": R}, "stage", "at most 20"),
        (False, {"kind": "stage", "reason": R}, "stage", "required for kind stage"),
        (False, {"kind": "points", "points": 5, "reason": R, "note": "hi"}, "note",
         "unknown field"),
        (False, {"kind": "points", "points": 5, "reason": R, "by": "   "}, "by", "at least 1"),
    ],
)  # fmt: skip
def test_bad_override_is_422_and_nothing_is_stored(
    client: TestClient, db: Database, classic: bool, body: Json, field: str, reason: str
) -> None:
    if classic:
        use_classic(client)
    lead_id = new_lead(client, "o@acme.com")
    unchanged = Unchanged(client, db, lead_id)
    refused(post(client, f"/leads/{lead_id}/overrides", body), 422, field, reason)
    unchanged.check()


def test_expiry_just_passed_is_422(client: TestClient, db: Database, iql: int) -> None:
    unchanged = Unchanged(client, db, iql)
    moment = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    body = {"kind": "points", "points": 5, "reason": R, "expires_at": moment}
    refused(post(client, f"/leads/{iql}/overrides", body), 422, "expires_at", "future")
    unchanged.check()


@pytest.mark.parametrize(
    "content",
    [
        b'{"kind": "points", "points": 1e400, "reason": "fair"}',
        b'{"kind": "points", "points": -1e400, "reason": "fair"}',
        b'{"kind": "points", "points": 1' + b"0" * 400 + b', "reason": "fair"}',
    ],
)
def test_override_points_beyond_float_range_are_422(
    client: TestClient, db: Database, iql: int, content: bytes
) -> None:
    unchanged = Unchanged(client, db, iql)
    response = client.post(f"{API}/leads/{iql}/overrides", content=content,
                           headers={"Content-Type": "application/json"})  # fmt: skip
    refused(response, 422, "points")
    unchanged.check()


@pytest.mark.parametrize(
    ("stage", "reason"),
    [
        ("customer", IQL_TO_CUSTOMER),
        ("sal", "iql → sal is not allowed"),
        ("opportunity", "iql → opportunity is not allowed"),
    ],
)
def test_illegal_stage_pin_is_409(
    client: TestClient, db: Database, iql: int, stage: str, reason: str
) -> None:
    unchanged = Unchanged(client, db, iql)
    body = {"kind": "stage", "stage": stage, "reason": R}
    refused(post(client, f"/leads/{iql}/overrides", body), 409, "stage", reason)
    unchanged.check()
    assert stage_of(client, iql) == "iql"


def test_a_stage_pin_refuses_moves_decisions_and_other_pins(
    client: TestClient, db: Database, mql: int
) -> None:
    pin = add_override(client, mql, kind="stage", stage="mql", reason="hold for the fair")
    unchanged = Unchanged(client, db, mql)
    pinned = f"the stage is pinned by override {pin}; remove it first"
    refused(post(client, f"/leads/{mql}/stage", {"stage": "nurture"}), 409, "stage", pinned)
    refused(post(client, f"/leads/{mql}/accept", {}), 409, "stage", pinned)
    refused(post(client, f"/leads/{mql}/reject", {"reason": "not_ready"}), 409, "stage", pinned)
    pin_again = {"kind": "stage", "stage": "nurture", "reason": R}
    refused(post(client, f"/leads/{mql}/overrides", pin_again), 409, "stage", pinned)
    unchanged.check()
    assert stage_of(client, mql) == "mql"


# -- removing overrides ------------------------------------------------------------------------


def test_removing_an_unknown_override_is_404(client: TestClient, db: Database, iql: int) -> None:
    add_override(client, iql, kind="points", points=5, reason=R)
    unchanged = Unchanged(client, db, iql)
    response = client.delete(f"{API}/leads/{iql}/overrides/999999")
    refused(response, 404, "override_id", "999999")
    unchanged.check()


def test_removing_another_leads_override_is_404(client: TestClient, db: Database) -> None:
    owner = new_lead(client, "owner@acme.com")
    other = new_lead(client, "other@acme.com")
    oid = add_override(client, owner, kind="points", points=5, reason=R)
    add_override(client, other, kind="points", points=3, reason=R)
    unchanged = Unchanged(client, db, owner, other)
    response = client.delete(f"{API}/leads/{other}/overrides/{oid}", params={"reason": "mine"})
    refused(response, 404, "override_id", str(oid))
    unchanged.check()
    kept = client.get(f"{API}/leads/{owner}/overrides").json()
    assert [(o["id"], o["active"], o["removed_at"]) for o in kept] == [(oid, True, None)]


@pytest.mark.parametrize(
    ("override_id", "params", "status", "field"),
    [
        ("0", {}, 422, "override_id"),
        ("-3", {}, 422, "override_id"),
        ("abc", {}, 422, "override_id"),
        (str(2**31), {}, 422, "override_id"),
        (str(HUGE), {}, 422, "override_id"),
        ("{oid}", {"reason": "x" * 501}, 422, "reason"),
        ("{oid}", {"by": "x" * 61}, 422, "by"),
    ],
)
def test_bad_override_removal_is_refused(
    client: TestClient, db: Database, iql: int, override_id: str, params: dict[str, str],
    status: int, field: str,
) -> None:  # fmt: skip
    oid = add_override(client, iql, kind="points", points=5, reason=R)
    unchanged = Unchanged(client, db, iql)
    path = f"{API}/leads/{iql}/overrides/{override_id.format(oid=oid)}"
    refused(client.delete(path, params=params), status, field)
    unchanged.check()


@pytest.mark.parametrize(("lead_id", "status"), [("0", 422), (str(HUGE), 422), ("999999", 404)])
def test_removal_on_a_bad_lead_is_refused(
    client: TestClient, db: Database, iql: int, lead_id: str, status: int
) -> None:
    oid = add_override(client, iql, kind="points", points=5, reason=R)
    unchanged = Unchanged(client, db, iql)
    refused(client.delete(f"{API}/leads/{lead_id}/overrides/{oid}"), status, "lead_id")
    unchanged.check()


# -- free text with a NUL character ------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/stage", {"stage": "nurture", "reason": "call\u0000back"}, "reason"),
        ("/overrides", {"kind": "points", "points": 5, "reason": "fair\u0000"}, "reason"),
        ("/frameworks/champ/answers", {"answers": {"challenge_notes": "a\u0000b"}},
         "answers.challenge_notes"),
        ("/stage", {"stage": "nurture", "by": "jan\u0000"}, "by"),
    ],
)  # fmt: skip
def test_nul_in_free_text_is_never_a_500(
    client: TestClient, db: Database, iql: int, path: str, body: Json, field: str
) -> None:
    """PostgreSQL text cannot hold a NUL: the request is refused naming the field, or the text
    is kept as sent; never a server error, never half a change."""
    unchanged = Unchanged(client, db, iql)
    response = post(client, f"/leads/{iql}{path}", body)
    assert response.status_code < 500, response.text
    if response.status_code == 422:
        refused(response, 422, field)
        unchanged.check()
    else:
        assert response.status_code in (200, 201), response.text
        assert "\\u0000" in json.dumps(lead_state(client, iql))
