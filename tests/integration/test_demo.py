"""The demo workspace: leads from many channels, merged arrivals, every standard event type,
and ten weeks of history — owners, follow-up tasks, outcomes, notes and campaign costs — for
the inbox and the dashboards, all dated between each lead's arrival and now."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from leadq.domain.events import STANDARD_EVENT_TYPES
from leadq.services.demo import CAMPAIGNS, MARKETS, REPS, build_demo
from leadq.store.db import Database
from leadq.store.tables import (
    AuditEntry,
    CampaignCost,
    Event,
    FollowUpTask,
    Lead,
    Note,
    SalesFeedback,
    StageChange,
    User,
)  # fmt: skip
from tests.cli import invoke

POLISH_CITIES = {"Warszawa", "Kraków", "Wrocław", "Poznań", "Gdańsk", "Łódź", "Katowice"}
RUSSIAN_CITIES = {"Москва", "Санкт-Петербург", "Новосибирск", "Екатеринбург", "Казань",
                  "Нижний Новгород"}  # fmt: skip

STORED = (Lead, Event, StageChange, FollowUpTask, Note, CampaignCost, SalesFeedback, AuditEntry)


def _counts(db: Database) -> dict[str, int]:
    with db.reading() as session:
        return {t.__name__: session.scalar(select(func.count()).select_from(t)) or 0
                for t in STORED}  # fmt: skip


def _latest(session: Session, *columns: Any) -> list[datetime]:
    found = (session.scalar(select(func.max(column))) for column in columns)
    return [at for at in found if at is not None]


def _before_arrival(session: Session, lead_id: Any, at: Any) -> int:
    query = select(func.count()).select_from(Lead).join_from(Lead, at.class_, lead_id == Lead.id)
    return session.scalar(query.where(at < Lead.created_at)) or 0


def test_demo_covers_channels_merges_and_every_event_type(db: Database) -> None:
    now = datetime.now(UTC)
    summary = build_demo(db, now, leads=60)
    with db.reading() as session:
        leads = session.scalars(select(Lead)).all()
        types = set(session.scalars(select(Event.type).distinct()))
        events = session.scalar(select(func.count()).select_from(Event))
        latest = session.scalar(select(func.max(Event.occurred_at)))
    assert len(leads) == 60 and summary.merged_arrivals > 0
    assert any(len(lead.channels) > 1 for lead in leads)  # merged arrivals grew their channels
    assert len({lead.source for lead in leads}) >= 5
    assert types == STANDARD_EVENT_TYPES
    assert events == summary.events and latest is not None and latest <= now
    assert {lead.seniority for lead in leads} >= {"c_level", "director", "manager", "individual"}
    again = build_demo(db, now, leads=60)
    assert again.events == 0  # deterministic keys: a re-run stores nothing twice


def test_demo_history_is_spread_over_weeks_and_never_in_the_future(db: Database) -> None:
    now = datetime.now(UTC)
    build_demo(db, now, leads=60)
    with db.reading() as session:
        arrivals = list(session.scalars(select(Lead.created_at)))
        moments = _latest(session, Event.occurred_at, Event.received_at, StageChange.at,
                          FollowUpTask.created_at, FollowUpTask.done_at, FollowUpTask.breached_at,
                          Note.at, SalesFeedback.at, AuditEntry.at, Lead.scored_at)  # fmt: skip
        early = [_before_arrival(session, Event.lead_id, Event.occurred_at),
                 _before_arrival(session, StageChange.lead_id, StageChange.at),
                 _before_arrival(session, FollowUpTask.lead_id, FollowUpTask.done_at),
                 _before_arrival(session, Note.lead_id, Note.at)]  # fmt: skip
        spent = session.scalar(select(func.max(CampaignCost.spent_on)))
    assert max(arrivals) - min(arrivals) >= timedelta(weeks=8)
    assert len(moments) == 10 and max(moments) <= now
    assert early == [0, 0, 0, 0]  # what happens to a lead happens after it arrived
    assert spent is not None and spent <= now.date()


def test_demo_gives_outcomes_that_follow_the_score(db: Database) -> None:
    summary = build_demo(db, datetime.now(UTC), leads=60)
    with db.reading() as session:
        leads = session.scalars(select(Lead)).all()
        purchases = session.scalars(select(Event).where(Event.type == "purchase")).all()
        rejected = session.scalar(select(func.count()).where(SalesFeedback.decision == "rejected"))
        reached = set(session.scalars(select(StageChange.to_stage).distinct()))
    customers = {lead.id for lead in leads if lead.stage == "customer"}
    assert customers and len(customers) == summary.customers
    assert {p.lead_id for p in purchases} == customers
    assert all(p.properties["amount"] in (990, 2400, 12000) for p in purchases)
    assert all(p.properties["currency"] == "EUR" for p in purchases)
    rate = {g: _conversion([lead.stage for lead in leads if lead.grade == g])
            for g in ("hot", "warm", "cold")}  # fmt: skip
    assert rate["hot"] > max(rate["warm"], rate["cold"])
    assert rejected and rejected == summary.rejected
    assert {"mql", "sal", "sql", "opportunity", "customer", "unqualified"} <= reached
    assert {lead.owner for lead in leads} == {*REPS, None}


def _conversion(stages: list[str]) -> float:
    return stages.count("customer") / len(stages) if stages else 0.0


def test_demo_gives_reps_tasks_notes_and_campaigns_costs(db: Database) -> None:
    summary = build_demo(db, datetime.now(UTC), leads=60)
    with db.reading() as session:
        tasks = session.scalars(select(FollowUpTask)).all()
        notes = session.scalar(select(func.count()).select_from(Note))
        campaigns = set(session.scalars(select(CampaignCost.campaign).distinct()))
        currencies = set(session.scalars(select(CampaignCost.currency).distinct()))
    assert len(tasks) == summary.tasks and {t.owner for t in tasks} == set(REPS)
    done = [t for t in tasks if t.done_at is not None]
    assert done and all(t.done_by == t.owner and t.done_how == "call_logged" for t in done)
    assert any(t.breached_at is not None and t.done_at is not None for t in tasks)  # late
    assert any(t.breached_at is not None and t.done_at is None for t in tasks)  # never reached
    assert any(t.done_at is not None and t.done_at <= t.due_at for t in tasks)  # on time
    assert notes and notes == summary.notes
    assert campaigns == {c for c in CAMPAIGNS if c} and currencies == {"EUR"}


def test_demo_rerun_duplicates_nothing(db: Database) -> None:
    now = datetime.now(UTC)
    build_demo(db, now, leads=40)
    before = _counts(db)
    again = build_demo(db, now + timedelta(days=3), leads=40)  # even on another day
    assert _counts(db) == before
    assert (again.merged_arrivals, again.events, again.customers, again.rejected,
            again.tasks, again.notes, again.costs) == (0, 0, 0, 0, 0, 0, 0)  # fmt: skip


def _names(db: Database, country: str) -> list[tuple[str, str, str | None]]:
    """First name, last name and city of the leads of a country."""
    with db.reading() as session:
        rows = session.execute(select(Lead.first_name, Lead.last_name, Lead.city)
                               .where(Lead.country == country))  # fmt: skip
        return [(first or "", last or "", city) for first, last, city in rows]


def test_demo_for_a_locale_tells_that_markets_people(db: Database, tmp_path: Path) -> None:
    """Polish people in Polish cities, with surnames of their gender; then a Russian demo in
    the same workspace is other people, whose stories are told in full, as in a workspace of
    their own."""
    now = datetime.now(UTC)
    polish = build_demo(db, now, leads=40, locale="pl")
    people = _names(db, "PL")
    assert len(people) == 40 and polish.events > 0 and polish.merged_arrivals > 0
    cities = {city for _, _, city in people if city}
    assert cities and cities <= POLISH_CITIES
    women = [last for first, last, _ in people if MARKETS["pl"].gender(first) == "f"]
    men = [last for first, last, _ in people if MARKETS["pl"].gender(first) == "m"]
    assert women and men
    assert not [last for last in women if last.endswith(("ski", "cki", "dzki"))]
    assert not [last for last in men if last.endswith(("ska", "cka", "dzka"))]
    russian = build_demo(db, now, leads=30, locale="ru")
    people = _names(db, "RU")
    alone = Database(f"sqlite:///{tmp_path / 'alone.db'}")
    try:
        alone.upgrade()
        own = build_demo(alone, now, leads=30, locale="ru")
    finally:
        alone.dispose()
    assert russian == replace(own, costs=0)  # no event taken for one of the Polish demo's
    assert len(people) == 30 and russian.events > 0
    assert {city for _, _, city in people if city} <= RUSSIAN_CITIES
    for first, last, _ in people:
        female = MARKETS["ru"].gender(first) == "f"
        assert not last.endswith(("ов", "ев", "ин", "ский") if female else ("ова", "ева", "ина"))
    with db.reading() as session:
        countries = set(session.scalars(select(Lead.country).distinct()))
    assert countries == {"PL", "RU"}


def _cli(tmp_path: Path, *args: str) -> Any:
    return invoke(
        tmp_path, ["demo", *args], {"LEADQ_DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}"}
    )


def test_demo_locale_option_sets_the_people_and_the_demo_users_language(tmp_path: Path) -> None:
    done = _cli(tmp_path, "--locale", "pl", "--leads", "20", "--show", "3")
    assert done.returncode == 0, done.stderr
    assert "20 leads" in done.stdout and "sign in as demo" in done.stdout
    db = Database(f"sqlite:///{tmp_path / 'w.db'}")
    try:
        with db.reading() as session:
            language = session.scalar(select(User.language).where(User.username == "demo"))
            cities = set(session.scalars(select(Lead.city).where(Lead.city.is_not(None))))
            countries = set(session.scalars(select(Lead.country).distinct()))
    finally:
        db.dispose()
    assert language == "pl"
    assert cities and cities <= POLISH_CITIES and countries == {"PL"}


def test_demo_refuses_an_unknown_locale_and_creates_nothing(tmp_path: Path) -> None:
    done = _cli(tmp_path, "--locale", "xx", "--leads", "5")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "--locale" in done.stderr and "'en', 'pl', 'ro', 'ru'" in done.stderr, done.stderr
    assert not (tmp_path / "w.db").exists()
