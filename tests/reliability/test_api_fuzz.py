"""Every operation of the OpenAPI schema, fed generated and boundary input by Schemathesis on
each database, answers without a server error and as its schema documents."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import schemathesis
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
from leadq.services.scoring.rescoring import activate, add_model, read_model
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
