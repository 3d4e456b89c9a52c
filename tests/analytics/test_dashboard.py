"""The dashboard series over the fixed workspace of ``dataset.py`` (all nine leads, no period),
against counts worked out by hand, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update

from leadq.domain.events import EventInput
from leadq.services.analytics import dashboard
from leadq.services.analytics.dashboard import Bar, Rate, RepSpeed, WeekScores
from leadq.services.analytics.metrics import Period
from leadq.services.errors import InvalidInput
from leadq.services.intake.events import record_events
from leadq.store.db import Database
from leadq.store.tables import Lead, ScoringModelVersion
from tests.analytics.dataset import END, POLICY, SINCE, Workspace, at, build, happen, lead
from tests.analytics.dataset import use_model as activate_test_model


@pytest.fixture
def workspace(db: Database) -> Workspace:
    return build(db)


@pytest.mark.usefixtures("workspace")
def test_funnel_counts_leads_that_reached_each_stage_or_a_later_one(db: Database) -> None:
    with db.reading() as session:
        bars = dashboard.funnel(session)
    assert bars == [
        Bar("iql", 9),                                  # every lead starts as an IQL
        Bar("mql", 3, "33% of iql"),                    # A, C, E (E went on to nurture)
        Bar("sal", 2, "67% of mql"),                    # A, C
        Bar("sql", 2, "100% of sal"),
        Bar("opportunity", 2, "100% of sql"),
        Bar("customer", 2, "100% of opportunity"),      # F and G bought but stayed IQL
    ]  # fmt: skip


@pytest.mark.usefixtures("workspace")
def test_conversion_by_grade_lowest_grade_first_then_unscored(db: Database) -> None:
    with db.reading() as session:
        rates = dashboard.conversion_by_grade(session)
    assert rates == [
        Rate("cold", 6, 2, 2 / 6),   # B, D, E, F, G, H; F and G bought
        Rate("warm", 2, 2, 1.0),     # A, C
        Rate("hot", 0, 0, None),     # a grade of the model nobody has
        Rate("unscored", 1, 0, 0.0),  # U arrived before the model
    ]  # fmt: skip


@pytest.mark.usefixtures("workspace")
def test_fewer_than_ten_scored_leads_make_fewer_deciles(db: Database) -> None:
    # by (score, id): D −5, E 0, H 0, B 3, G 5, F 5, A 13, C 17; G, F, A and C converted
    with db.reading() as session:
        rates = dashboard.conversion_by_decile(session)
    assert [(r.label, r.leads, r.converted) for r in rates] == [
        ("D1 (lowest)", 1, 0), ("D2", 1, 0), ("D3", 1, 0), ("D4", 1, 0),
        ("D5", 1, 1), ("D6", 1, 1), ("D7", 1, 1), ("D8 (highest)", 1, 1),
    ]  # fmt: skip


def test_deciles_have_equal_counts(db: Database) -> None:
    """23 leads scored 0…22 (one point per page view); those scored 4, 20, 21, 22 bought.
    23 = 10 × 2 + 3: the three lowest deciles hold three leads, the others two."""
    with db.unit_of_work() as session:
        activate_test_model(session, SINCE)
        for score in range(23):
            created = SINCE + timedelta(hours=score)
            person = lead(session, f"P{score}", created)
            views = [EventInput(lead_id=person.id, type="page_view", occurred_at=created,
                                properties={"n": n}) for n in range(score)]  # fmt: skip
            if views:
                record_events(session, views, created, POLICY.clock_skew)
            if score in (4, 20, 21, 22):
                happen(session, person, "purchase", created + timedelta(minutes=1))
    with db.reading() as session:
        rates = dashboard.conversion_by_decile(session)
    assert rates == [
        Rate("D1 (lowest)", 3, 0, 0.0),   # 0, 1, 2
        Rate("D2", 3, 1, 1 / 3),          # 3, 4, 5
        Rate("D3", 3, 0, 0.0),            # 6, 7, 8
        Rate("D4", 2, 0, 0.0), Rate("D5", 2, 0, 0.0), Rate("D6", 2, 0, 0.0),
        Rate("D7", 2, 0, 0.0), Rate("D8", 2, 0, 0.0),
        Rate("D9", 2, 1, 1 / 2),          # 19, 20
        Rate("D10 (highest)", 2, 2, 1.0),  # 21, 22
    ]  # fmt: skip


@pytest.mark.usefixtures("workspace")
def test_score_trend_per_iso_week_with_quartiles(db: Database) -> None:
    with db.reading() as session:
        trend = dashboard.score_trend(session, weeks=4, now=at(3, 22, 12))
    assert trend == [
        WeekScores("2026-W09", 0, None, None, None, None, {}),
        # A 13, B 3, C 17: quartiles by linear interpolation over [3, 13, 17]
        WeekScores("2026-W10", 3, (13 + 3 + 17) / 3, 8.0, 13.0, 15.0, {"cold": 1, "warm": 2}),
        WeekScores("2026-W11", 2, -2.5, -3.75, -2.5, -1.25, {"cold": 2}),  # D −5, E 0
        WeekScores("2026-W12", 1, 5.0, 5.0, 5.0, 5.0, {"cold": 1}),  # F; H is next week
    ]
    assert list(trend[1].grades) == ["cold", "warm"]  # the model's order, lowest first
    with db.reading() as session, pytest.raises(InvalidInput):
        dashboard.score_trend(session, weeks=0, now=END)


@pytest.mark.usefixtures("workspace")
def test_speed_to_lead_per_rep(db: Database) -> None:
    with db.reading() as session:
        reps = dashboard.speed_to_lead(session, END)
    assert reps == [
        RepSpeed("alice", 3, 3, 20.0, 1, 0),     # median of 20, 60, 5 minutes
        RepSpeed("bob", 3, 2, (15 + 30) / 2, 1, 1),  # one open since 03-16, breached
        RepSpeed("(unassigned)", 1, 0, None, 0, 0),  # due 04-10: not late yet
    ]  # fmt: skip
    with db.reading() as session:  # tasks created from 03-10: alice's drop out
        later = dashboard.speed_to_lead(session, END, at(3, 10))
    assert [r.owner for r in later] == ["bob", "(unassigned)"]


def test_low_score_sample_is_the_bottom_grade_and_repeatable(
    db: Database, workspace: Workspace
) -> None:
    cold = {workspace.ids[n] for n in "BEFGH"}  # D is cold but disqualified; U is unscored
    with db.reading() as session:
        first = [x.id for x in dashboard.low_score_sample(session, 3, seed=7)]
        again = [x.id for x in dashboard.low_score_sample(session, 3, seed=7)]
        everyone = dashboard.low_score_sample(session, 10, seed=1)
        samples = {tuple(x.id for x in dashboard.low_score_sample(session, 2, seed=s))
                   for s in range(20)}  # fmt: skip
    assert first == again and len(set(first)) == 3 and set(first) <= cold
    assert {x.id for x in everyone} == cold and {x.grade for x in everyone} == {"cold"}
    assert len(samples) > 1  # the seed matters


def test_without_an_active_model_the_sample_is_the_bottom_30_percent(
    db: Database, workspace: Workspace
) -> None:
    with db.unit_of_work() as session:
        session.execute(update(ScoringModelVersion).values(active=False))
    with db.reading() as session:
        sample = dashboard.low_score_sample(session, 10, seed=3)
    # scored and not disqualified: A 13, B 3, C 17, E 0, F 5, G 5, H 0 → ceil(7 × 0.3) = 3
    # lowest by (score, id): E 0, H 0, B 3
    assert {x.id for x in sample} == {workspace.ids[n] for n in "EHB"}


@pytest.mark.usefixtures("workspace")
def test_dashboard_gathers_every_series(db: Database) -> None:
    with db.reading() as session:
        everything = dashboard.dashboard(session, END, weeks=2, sample=2, seed=5)
        assert everything.funnel == dashboard.funnel(session)
        channels = ["website", "paid_search", "(none)", "referral"]  # website: U G A B H
        assert [m.group for m in everything.channels] == channels
        assert [m.group for m in everything.campaigns][:2] == ["spring", "(none)"]
        assert [w.week for w in everything.score_trend] == ["2026-W13", "2026-W14"]
        assert len(everything.low_score_sample) == 2


@pytest.mark.parametrize(("since", "until"), [
    (None, None), (SINCE, None), (None, at(3, 5)), (at(3, 3), at(3, 8)), (at(3, 20), END),
])  # fmt: skip
def test_a_period_counts_only_the_leads_created_in_it(
    db: Database, workspace: Workspace, since: datetime | None, until: datetime | None
) -> None:
    """Every series of a period adds up to the leads created in it, worked out apart from the
    series: the funnel's first bar, the grades, the deciles (scored leads) and the total."""
    period = Period(since, until)
    with db.reading() as session:
        inside = [x for x in session.scalars(select(Lead))
                  if (since is None or x.created_at >= since)
                  and (until is None or x.created_at < until)]  # fmt: skip
        found = dashboard.dashboard(session, END, 4, period=period)
    assert found.funnel[0].value == len(inside) == found.total.leads
    assert sum(r.leads for r in found.conversion_by_grade) == len(inside)
    assert sum(r.leads for r in found.conversion_by_decile) == len(
        [x for x in inside if x.score is not None]
    )
    assert sum(r.converted for r in found.conversion_by_decile) == len(
        [x for x in inside if x.score is not None and x.converted_at is not None]
    )
    assert len(found.score_trend) == 4
