"""Retention with a controlled clock on SQLite and PostgreSQL: silent leads are erased
(customers kept unless asked), old events lose their personal properties but stay countable,
and a dry run finds exactly what a real run changes while changing nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select

from leadq.config import Settings
from leadq.domain.events import EventInput
from leadq.domain.leads import LeadInput
from leadq.domain.privacy import months_before
from leadq.services.errors import InvalidInput
from leadq.services.intake.events import record_events
from leadq.services.intake.leads import upsert_lead
from leadq.services.intake.policy import IntakePolicy
from leadq.services.privacy.subjects import RetentionPolicy, RetentionReport, retain
from leadq.store.db import Database
from leadq.store.tables import AuditEntry, Base, Event, Lead

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
POLICY = IntakePolicy()


def months_ago(months: float) -> datetime:
    return NOW - timedelta(days=30.44 * months)


def lead(db: Database, email: str, created: datetime, *events: tuple[str, datetime],
         stage: str | None = None) -> int:  # fmt: skip
    """A lead that arrived at ``created`` and did things then; the clock is theirs."""
    with db.unit_of_work() as session:
        data = LeadInput.model_validate({"email": email, "first_name": email.split("@")[0]})
        found = upsert_lead(session, data, "tests", created, POLICY).lead
        if stage is not None:
            found.stage = stage
        lead_id = found.id
    for index, (kind, at) in enumerate(events):
        props = {"email": email, "path": f"/pricing?who={email}", "seconds": 12}
        item = EventInput(lead_id=lead_id, type=kind, occurred_at=at, properties=props,
                          idempotency_key=f"{email}-{index}")  # fmt: skip
        with db.unit_of_work() as session:
            record_events(session, [item], at, POLICY.clock_skew)
    return lead_id


def snapshot(db: Database) -> dict[str, list[str]]:
    """Every row of every table, as text: what "changes nothing" compares."""
    with db.reading() as session:
        return {t.name: sorted(json.dumps(dict(r), default=str, sort_keys=True)
                               for r in session.execute(select(t)).mappings())
                for t in Base.metadata.sorted_tables}  # fmt: skip


def run(db: Database, policy: RetentionPolicy, dry_run: bool) -> RetentionReport:
    return db.run(lambda s: retain(s, policy, NOW, dry_run, "retention:tests"))


@pytest.fixture
def history(db: Database) -> dict[str, int]:
    return {
        "silent": lead(db, "silent@a.example", months_ago(30), ("page_view", months_ago(26))),
        "never_active": lead(db, "never@a.example", months_ago(25)),
        "active": lead(db, "active@a.example", months_ago(30), ("page_view", months_ago(30)),
                       ("email_clicked", months_ago(2))),
        "customer": lead(db, "customer@a.example", months_ago(40),
                         ("purchase", months_ago(36)), stage="customer"),
        "new": lead(db, "new@a.example", months_ago(1), ("page_view", months_ago(1))),
    }  # fmt: skip


def test_dry_run_changes_nothing_and_finds_what_a_real_run_erases(
    db: Database, history: dict[str, int]
) -> None:
    policy = RetentionPolicy(inactive_months=24, event_months=12)
    before = snapshot(db)
    planned = run(db, policy, dry_run=True)
    assert snapshot(db) == before
    assert planned.lead_ids == sorted([history["silent"], history["never_active"]])
    assert planned.customers_kept == 1
    assert planned.events == 2  # the active lead's old view, the customer's purchase
    assert planned.inactive_before == months_before(NOW, 24)

    done = run(db, policy, dry_run=False)
    assert (done.lead_ids, done.events, done.customers_kept, done.dry_run) == (
        planned.lead_ids, planned.events, planned.customers_kept, False)  # fmt: skip
    with db.reading() as session:
        erased = set(session.scalars(select(Lead.id).where(Lead.erased_at.is_not(None))))
        entries = [e.details for e in session.scalars(select(AuditEntry).where(
            AuditEntry.action.in_(["lead.erased", "privacy.retention"])))]  # fmt: skip
    assert erased == set(planned.lead_ids)
    assert [e.get("by") for e in entries] == ["retention", "retention", None]
    assert entries[-1]["leads"] == 2 and entries[-1]["events"] == 2
    assert run(db, policy, dry_run=True).lead_ids == []  # nothing left to do
    assert run(db, policy, dry_run=False).events == 0


def test_old_events_lose_personal_properties_but_stay_countable(
    db: Database, history: dict[str, int]
) -> None:
    with db.reading() as session:
        counted = session.scalar(select(func.count()).select_from(Event))
    run(db, RetentionPolicy(inactive_months=None, event_months=12), dry_run=False)
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Event)) == counted
        rows = session.execute(select(Event.lead_id, Event.occurred_at, Event.properties,
                                      Event.idempotency_key)).all()  # fmt: skip
        assert session.scalar(select(func.count()).where(Lead.erased_at.is_not(None))) == 0
    for lead_id, occurred, properties, key in rows:
        assert key is not None
        if occurred < months_before(NOW, 12):
            assert properties == {"path": "/pricing", "seconds": 12}, lead_id
            assert key.startswith("sha256:")
        else:
            assert properties["email"].endswith("@a.example") and "?who=" in properties["path"]
            assert not key.startswith("sha256:")


def test_customers_are_erased_only_when_asked(db: Database, history: dict[str, int]) -> None:
    report = run(db, RetentionPolicy(inactive_months=24, include_customers=True), dry_run=True)
    assert history["customer"] in report.lead_ids and report.customers_kept == 0


@pytest.mark.parametrize("months", [0, -1, 1201])
def test_months_out_of_range_are_refused(db: Database, months: int) -> None:
    with pytest.raises(InvalidInput, match="months from 1 to 1200"):
        run(db, RetentionPolicy(inactive_months=months), dry_run=True)
    with pytest.raises(InvalidInput, match="event_months"):
        run(db, RetentionPolicy(inactive_months=None, event_months=months), dry_run=True)


def test_settings_default_to_two_years_and_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    defaults = Settings()
    assert (defaults.retention_inactive_months, defaults.retention_event_months) == (24, None)
    monkeypatch.setenv("LEADQ_RETENTION_INACTIVE_MONTHS", "36")
    monkeypatch.setenv("LEADQ_RETENTION_EVENT_MONTHS", "6")
    configured = Settings()
    assert (configured.retention_inactive_months, configured.retention_event_months) == (36, 6)
    monkeypatch.setenv("LEADQ_RETENTION_EVENT_MONTHS", "-6")
    with pytest.raises(ValidationError):
        Settings()


@pytest.mark.parametrize(("moment", "months", "expected"), [
    (datetime(2026, 3, 31, 8, tzinfo=UTC), 1, datetime(2026, 2, 28, 8, tzinfo=UTC)),
    (datetime(2026, 1, 15, tzinfo=UTC), 24, datetime(2024, 1, 15, tzinfo=UTC)),
    (datetime(2024, 3, 31, tzinfo=UTC), 1, datetime(2024, 2, 29, tzinfo=UTC)),
    (datetime(2026, 1, 10, tzinfo=UTC), 13, datetime(2024, 12, 10, tzinfo=UTC)),
])  # fmt: skip
def test_months_are_calendar_months(moment: datetime, months: int, expected: Any) -> None:
    assert months_before(moment, months) == expected
