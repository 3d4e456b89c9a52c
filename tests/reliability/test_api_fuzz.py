"""Every operation of the OpenAPI schema, fed generated and boundary input by Schemathesis on
each database, answers without a server error and as its schema documents — with an admin's
key and, on PostgreSQL, a rep's; and every text and number field of every generated request,
turned hostile one at a time (NUL, a lone surrogate, 1e400, NaN, the ends of the calendar),
is refused or taken, never a server error."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis import Case
from schemathesis.checks import not_a_server_error, response_schema_conformance

from leadq.api.app import create_app
from leadq.config import Settings
from leadq.domain.events import EventInput
from leadq.domain.leads import LeadInput
from leadq.services.intake.events import record_events
from leadq.services.intake.leads import upsert_lead
from leadq.services.intake.policy import IntakePolicy
from leadq.services.people.apikeys import create_key
from leadq.services.scoring.documents import read_model
from leadq.services.scoring.rescoring import activate, add_model
from leadq.store.db import Database

EXAMPLES = 20


def _seed(db: Database) -> None:
    """A few leads with events and an active model, so that small ids reach real rows."""
    now = datetime.now(UTC)
    policy = IntakePolicy()
    with db.unit_of_work() as session:
        activate(session, add_model(session, read_model("classic")[1], "classic", now).name, now)
        ids = [
            upsert_lead(session, LeadInput(email=f"fuzz{i}@acme.com", job_title="CEO",
                                           company_size=100 * i), "tests", now, policy).lead.id
            for i in range(1, 4)
        ]  # fmt: skip
        events = [
            EventInput(lead_id=lead_id, type="page_view", properties={"path": "/pricing"},
                       occurred_at=now - timedelta(hours=1))
            for lead_id in ids
        ]  # fmt: skip
        record_events(session, events, now, policy.clock_skew)


@pytest.fixture
def fuzzed_app(db: Database) -> Any:
    _seed(db)
    return create_app(Settings(database_url=db.url), db)


def _spec() -> dict[str, Any]:
    """The app's OpenAPI document; building it touches no database."""
    offline = Settings(database_url="sqlite://", session_secret="s" * 32)
    spec: dict[str, Any] = create_app(offline).openapi()
    return spec


schema = schemathesis.openapi.from_dict(_spec())


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_operation_answers_a_server_error(
    case: Case[Any], fuzzed_app: Any, api_key: str
) -> None:
    case.call_and_validate(
        app=fuzzed_app,
        headers={"Authorization": f"Bearer {api_key}"},
        checks=[not_a_server_error, response_schema_conformance],
    )


@pytest.fixture
def on_postgres(db: Database) -> None:
    """PostgreSQL refuses NUL and out-of-range numbers where SQLite stores them: the run that
    can fail, so the long runs use it alone."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("runs on PostgreSQL only")


@pytest.fixture
def rep_key(db: Database, on_postgres: None) -> str:
    """A rep's key (the rep owns none of the seeded leads)."""
    with db.unit_of_work() as session:
        return create_key(session, "rita", datetime.now(UTC), "rep")[0]


@schema.parametrize()
@settings(max_examples=EXAMPLES // 4, derandomize=True, database=None, deadline=None,
          suppress_health_check=list(HealthCheck))  # fmt: skip
def test_no_operation_answers_a_rep_with_a_server_error(
    case: Case[Any], on_postgres: None, fuzzed_app: Any, rep_key: str
) -> None:
    case.call_and_validate(app=fuzzed_app, headers={"Authorization": f"Bearer {rep_key}"},
                           checks=[not_a_server_error])  # fmt: skip


HOSTILE_TEXT = ("\\u0000", "a\\u0000b", "\\ud800", "\\udfff x")
"""JSON escapes, so the very characters reach the server as a client would send them."""
HOSTILE_NUMBERS = ("1e400", "-1e400", "1e308", "123456789012345678901234567890", "NaN",
                   "Infinity", "-1e-400")  # fmt: skip
HOSTILE_TIMES = ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-05:00",
                 "1969-12-31T23:59:59Z")  # fmt: skip
MAX_VARIANTS = 24


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], Any]]:
    if isinstance(value, dict):
        found = [((*path, ("key", k)), k) for k in value]
        return found + [leaf for k, v in value.items() for leaf in _leaves(v, (*path, k))]
    if isinstance(value, list):
        return [leaf for i, v in enumerate(value) for leaf in _leaves(v, (*path, i))]
    return [(path, value)]


def _render(value: Any, target: tuple[Any, ...], raw: str, path: tuple[Any, ...] = ()) -> str:
    """``value`` as JSON text with the leaf (or member name) at ``target`` written as ``raw``."""
    if path == target:
        return raw
    if isinstance(value, dict):
        members = []
        for k, v in value.items():
            name = raw if (*path, ("key", k)) == target else json.dumps(k)
            members.append(f"{name}: {_render(v, target, raw, (*path, k))}")
        return "{" + ", ".join(members) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_render(v, target, raw, (*path, i))
                               for i, v in enumerate(value)) + "]"  # fmt: skip
    return json.dumps(value)


def _hostile(value: Any) -> list[str]:
    if isinstance(value, bool) or value is None:
        return []
    if isinstance(value, int | float):
        return list(HOSTILE_NUMBERS)
    if isinstance(value, str):
        texts = [f'"{h}"' for h in HOSTILE_TEXT]
        return texts + [f'"{t}"' for t in HOSTILE_TIMES] if "T" in value[:20] else texts
    return []


COVERED: dict[tuple[str, str], set[tuple[Any, ...]]] = {}
"""Per operation, the kinds of field already sent hostile values: Schemathesis hands the test
every example in the schema, and a field tried once need not be tried again (same run)."""


def _shape(path: tuple[Any, ...], leaf: Any) -> tuple[Any, ...]:
    """A field's place with list positions and member names folded, and its value's type."""
    folded = ["[]" if isinstance(p, int) else "name" if isinstance(p, tuple) else p for p in path]
    return (*folded, type(leaf).__name__)


def _variants(body: Any, covered: set[tuple[Any, ...]]) -> list[str]:
    found = []
    for path, leaf in _leaves(body):
        if (shape := _shape(path, leaf)) in covered:
            continue
        covered.add(shape)
        is_name = bool(path) and isinstance(path[-1], tuple)
        raws = [f'"{h}"' for h in HOSTILE_TEXT] if is_name else _hostile(leaf)
        found += [_render(body, path, raw) for raw in raws]
    return found[:MAX_VARIANTS]


@schema.parametrize()
@settings(max_examples=1, derandomize=True, database=None, deadline=None,
          suppress_health_check=list(HealthCheck))  # fmt: skip
def test_hostile_values_in_every_field_never_give_a_server_error(
    case: Case[Any], on_postgres: None, fuzzed_app: Any, api_key: str
) -> None:
    headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}
    path = case.formatted_path
    query = {k: v for k, v in (case.query or {}).items()}
    with TestClient(fuzzed_app) as client:
        sent = []
        if isinstance(case.body, dict | list):
            covered = COVERED.setdefault((case.method, case.path), set())
            for body in _variants(case.body, covered):
                content = body.encode("utf-8", "surrogatepass")
                response = client.request(case.method, path, content=content, params=query,
                                          headers=headers)  # fmt: skip
                sent.append((body, response))
        tried = COVERED.setdefault((case.method, case.path + "?"), set())
        for name in [n for n in query if (n,) not in tried]:
            tried.add((name,))
            for bad in (
                "%00",
                "a%00b",
                "%ED%A0%80",
                "%FF",
                "1e400",
                "0001-01-01T00%3A00%2B14%3A00",
            ):
                others = urlencode({k: v for k, v in query.items() if k != name}, doseq=True)
                hostile = f"{quote(str(name), safe='')}={bad}"
                url = f"{path}?{others}&{hostile}" if others else f"{path}?{hostile}"
                response = client.request(case.method, url, headers=headers)
                sent.append((url, response))
    failures = [(what[:200], r.status_code, r.text[:200]) for what, r in sent
                if r.status_code >= 500]  # fmt: skip
    assert failures == []
