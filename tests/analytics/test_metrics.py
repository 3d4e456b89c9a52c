"""Every metric of every dimension against figures worked out by hand from the fixed
workspace in ``dataset.py`` (read its docstring first), on SQLite and PostgreSQL.

In the period [2026-03-02, 2026-03-23) there are six leads: A, B, C, D, E, F.
- qualified: A (mql…customer), C (mql…customer), E (mql, then nurture) — D was disqualified
- converted: A (purchase 03-12 10:00, 10 days after arriving 03-02 10:00),
             C (customer 03-09 11:00, 5 days after its first event 03-04 11:00),
             F (purchase 03-18 21:00, 2.5 days after arriving 03-16 09:00)
- revenue: A 990 (amount), C 2400 (value), F 1500.5 (the other purchases carry no number)
- engagement points: A 8, B 3, C 12, D −5, E 0, F 0
- costs whose day is in the period: spring 300 (03-02), spring/paid_search 200 (03-09),
  summer/paid_search 150 (03-16), winter 50 (03-05)
"""

from __future__ import annotations

from dataclasses import astuple
from datetime import UTC, datetime

import pytest

from leadq.domain.leads import LeadInput
from leadq.services.analytics.metrics import Metrics, metrics
from leadq.services.errors import InvalidInput
from leadq.services.intake.leads import upsert_lead
from leadq.store.db import Database
from tests.analytics.dataset import END, POLICY, SINCE, UNTIL, Workspace, build


@pytest.fixture
def workspace(db: Database) -> Workspace:
    return build(db)


def rows(db: Database, by: str, since: datetime | None = SINCE,
         until: datetime | None = UNTIL) -> list[Metrics]:  # fmt: skip
    with db.reading() as session:
        return metrics(session, by, since, until, now=END)  # type: ignore[arg-type]


def same(actual: list[Metrics], expected: list[Metrics]) -> None:
    assert [m.group for m in actual] == [m.group for m in expected]
    for got, wanted in zip(actual, expected, strict=True):
        assert astuple(got) == pytest.approx(astuple(wanted)), wanted.group


@pytest.mark.usefixtures("workspace")
def test_total_over_the_period(db: Database) -> None:
    same(rows(db, "total"), [Metrics(
        group="all", leads=6, qualified=3, converted=3,
        qualification_rate=0.5,                      # 3 / 6
        conversion_rate=0.5,                         # 3 / 6
        avg_days_to_conversion=(10 + 5 + 2.5) / 3,   # A, C, F
        cost=700.0,                                  # 300 + 200 + 150 + 50
        cost_per_lead=700 / 6,
        revenue=4890.5,                              # 990 + 2400 + 1500.5
        lifetime_value=4890.5 / 3,
        engagement_score=(8 + 3 + 12 - 5 + 0 + 0) / 6,
    )])  # fmt: skip


@pytest.mark.usefixtures("workspace")
def test_by_source_with_leads_without_one(db: Database) -> None:
    same(rows(db, "source"), [
        # C, E; costs booked for paid_search: 200 + 150
        Metrics("paid_search", 2, 2, 1, 2 / 2, 1 / 2, 5.0, 350.0, 350 / 2, 2400.0, 2400.0,
                (12 + 0) / 2),
        # A, B; the only website cost (999, 02-25) is before the period: cost unknown
        Metrics("website", 2, 1, 1, 1 / 2, 1 / 2, 10.0, None, None, 990.0, 990.0,
                (8 + 3) / 2),
        # D has no source; costs not split by source belong to no source
        Metrics("(none)", 1, 0, 0, 0.0, 0.0, None, None, None, 0.0, None, -5.0),
        Metrics("referral", 1, 0, 1, 0.0, 1.0, 2.5, None, None, 1500.5, 1500.5, 0.0),
    ])  # fmt: skip


@pytest.mark.usefixtures("workspace")
def test_by_campaign_lists_money_spent_on_campaigns_that_brought_nobody(db: Database) -> None:
    same(rows(db, "campaign"), [
        # A, B, C; 300 + 200 (the 999 and 777 fall outside the period)
        Metrics("spring", 3, 2, 2, 2 / 3, 2 / 3, (10 + 5) / 2, 500.0, 500 / 3, 990.0 + 2400,
                (990 + 2400) / 2, (8 + 3 + 12) / 3),
        # D and F have no campaign
        Metrics("(none)", 2, 0, 1, 0.0, 1 / 2, 2.5, None, None, 1500.5, 1500.5, (-5 + 0) / 2),
        Metrics("summer", 1, 1, 0, 1.0, 0.0, None, 150.0, 150.0, 0.0, None, 0.0),
        Metrics("winter", 0, 0, 0, None, None, None, 50.0, None, 0.0, None, None),
    ])  # fmt: skip


@pytest.mark.usefixtures("workspace")
def test_by_iso_week_in_time_order(db: Database) -> None:
    same(rows(db, "week"), [
        # W10 = 03-02…03-08: A, B, C; costs 300 (03-02) + 50 (03-05)
        Metrics("2026-W10", 3, 2, 2, 2 / 3, 2 / 3, 7.5, 350.0, 350 / 3, 3390.0, 3390 / 2,
                (8 + 3 + 12) / 3),
        # W11: D, E; cost 200 (03-09)
        Metrics("2026-W11", 2, 1, 0, 1 / 2, 0.0, None, 200.0, 100.0, 0.0, None, (-5 + 0) / 2),
        # W12: F; cost 150 (03-16)
        Metrics("2026-W12", 1, 0, 1, 0.0, 1.0, 2.5, 150.0, 150.0, 1500.5, 1500.5, 0.0),
    ])  # fmt: skip


@pytest.mark.usefixtures("workspace")
def test_by_segment_counts_a_lead_in_every_segment_it_is_in(db: Database) -> None:
    same(rows(db, "segment"), [
        # warm A and C by the filter, D added by a rule
        Metrics("engaged", 3, 2, 2, 2 / 3, 2 / 3, (10 + 5) / 2, None, None, 3390.0,
                3390 / 2, (8 + 12 - 5) / 3),
        # C again, and E
        Metrics("paid", 2, 2, 1, 1.0, 1 / 2, 5.0, None, None, 2400.0, 2400.0, (12 + 0) / 2),
        Metrics("nobody", 0, 0, 0, None, None, None, None, None, 0.0, None, None),
    ])  # fmt: skip


@pytest.mark.usefixtures("workspace")
def test_without_a_period_every_lead_and_cost_counts(db: Database) -> None:
    same(rows(db, "total", None, None), [Metrics(
        group="all", leads=9, qualified=3, converted=4,        # + U, G, H; G bought
        qualification_rate=3 / 9, conversion_rate=4 / 9,
        avg_days_to_conversion=(10 + 5 + 2.5 + 5) / 4,        # G: 02-20 → 02-25
        cost=2476.0,                                           # 700 + 999 + 777
        cost_per_lead=2476 / 9,
        revenue=9890.5,                                        # 4890.5 + 5000
        lifetime_value=9890.5 / 4,
        engagement_score=(8 + 3 + 12 - 5 + 0 + 0 + 0 + 0) / 8,  # U is not scored
    )])  # fmt: skip


@pytest.mark.usefixtures("workspace")
def test_since_alone_is_open_ended(db: Database) -> None:
    since = datetime(2026, 3, 9, tzinfo=UTC)  # D, E, F, H; costs 200 + 150 + 777
    same(rows(db, "total", since, None), [
        Metrics("all", 4, 1, 1, 1 / 4, 1 / 4, 2.5, 1127.0, 1127 / 4, 1500.5, 1500.5,
                (-5 + 0 + 0 + 0) / 4),
    ])  # fmt: skip


@pytest.mark.usefixtures("workspace")
def test_a_cost_counts_when_its_day_starts_in_the_period(db: Database) -> None:
    # from 03-02 00:00:01 the 300 booked on 03-02 no longer counts; A (created 10:00) still does
    moment = datetime(2026, 3, 2, 0, 0, 1, tzinfo=UTC)
    (row,) = rows(db, "total", moment, UNTIL)
    assert (row.leads, row.cost) == (6, 400.0)  # 200 + 150 + 50
    naive = datetime(2026, 3, 2, 0, 0, 1)  # read as UTC
    assert rows(db, "total", naive, UNTIL) == [row]


def test_no_model_means_no_engagement_score(db: Database) -> None:
    with db.unit_of_work() as session:
        upsert_lead(session, LeadInput(email="x@firm.example"), "test", SINCE, POLICY)
    (row,) = rows(db, "total")
    assert (row.leads, row.engagement_score, row.cost, row.lifetime_value) == (1, None, None, None)


def test_an_empty_workspace_still_has_a_total_row(db: Database) -> None:
    assert rows(db, "total") == [Metrics("all", 0, 0, 0, None, None, None, None, None, 0.0,
                                         None, None)]  # fmt: skip
    assert rows(db, "source") == rows(db, "week") == rows(db, "segment") == []


@pytest.mark.parametrize(("by", "since", "until", "field"), [
    ("channel", None, None, "by"),
    ("total", UNTIL, SINCE, "since"),
    ("total", SINCE, SINCE, "since"),
])  # fmt: skip
def test_bad_questions_are_refused_naming_the_field(
    db: Database, by: str, since: datetime | None, until: datetime | None, field: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        rows(db, by, since, until)
    assert [e.field for e in caught.value.errors] == [field]
