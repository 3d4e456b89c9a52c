"""A small, fixed workspace built through the real services, every moment explicit, so each
metric can be computed by hand (the tests write out the arithmetic).

Leads (id, created, source / campaign, what happened; final score = fit + engagement):

- U  2026-02-10 website / —       created before the model was active: unscored
- G  2026-02-20 website / spring  size 200 (fit 5); purchase 02-25 amount 5000      → 5 cold
- A  2026-03-02 website / spring  size 200; 2 webinars (8) → warm → mql; sal, sql,
     opportunity; purchase 03-12 10:00 amount 990; customer 03-13                   → 13 warm
- B  2026-03-03 website / spring  size 10; 3 page views (3)                          → 3 cold
- C  2026-03-04 paid_search / spring  size 500; form 03-04 11:00 (an hour before it was
     created); 3 webinars (12) → warm → mql; …; customer 03-09 11:00; purchase 03-10
     value 2400                                                                   → 17 warm
- D  2026-03-10 — / —             unsubscribed (−5); disqualified 03-12             → −5 cold
- E  2026-03-11 paid_search / summer  size 50; moved to mql 03-12, nurture 03-13     → 0 cold
- F  2026-03-16 referral / —      size 1000; purchases 03-18 21:00 amount 1500.5, one with
     no amount, one with amount "lots"                                             → 5 cold
- H  2026-03-23 00:00 website / spring  size 10                                      → 0 cold

Segments: engaged (grade warm or hot, plus D added by a rule) = A, C, D; paid (source
paid_search) = C, E; nobody (source event) = none.

Costs: spring '' 03-02 300; spring paid_search 03-09 200; summer paid_search 03-16 150;
spring website 02-25 999; spring '' 03-23 777; winter '' 03-05 50.

Tasks: alice 20, 60 (breached), 5 minutes; bob 30, 15 minutes and one open past due
(breached); one unassigned open task due 2026-04-10.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from leadq.domain.automation import SegmentFilter
from leadq.domain.events import EventInput
from leadq.domain.leads import LeadInput
from leadq.domain.lifecycle import Stage
from leadq.services.analytics.costs import CostLine, record_costs
from leadq.services.automation import reactions as automation
from leadq.services.automation import segments, tasks
from leadq.services.intake.events import record_events
from leadq.services.intake.leads import upsert_lead
from leadq.services.intake.policy import IntakePolicy
from leadq.services.qualification.lifecycle import change_stage
from leadq.services.scoring import rescoring as scoring
from leadq.store.db import Database
from leadq.store.tables import FollowUpTask, Lead

POLICY = IntakePolicy()
ACTOR = "test"
MODEL = """
name: analytics-test
fit:
  - {id: big_company, weight: 1, points: 5, when: {company_size: {gte: 100}}}
engagement:
  - {id: webinar, weight: 4, event: webinar_attended, level: count, cap: 3}
  - {id: visits, weight: 1, event: page_view, points: 1}
negative:
  - {id: unsubscribed, event: unsubscribed, points: -5, once: true}
grades: {cold: 0, warm: 10, hot: 20}
"""
SINCE = datetime(2026, 3, 2, tzinfo=UTC)
UNTIL = datetime(2026, 3, 23, tzinfo=UTC)
END = datetime(2026, 4, 1, tzinfo=UTC)


def at(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


@dataclass(frozen=True)
class Workspace:
    ids: dict[str, int]


def lead(session: Session, name: str, created: datetime, **profile: Any) -> Lead:
    data = LeadInput.model_validate({"email": f"{name.lower()}@firm-{name.lower()}.example",
                                     "first_name": name, **profile})  # fmt: skip
    return upsert_lead(session, data, ACTOR, created, POLICY).lead


def happen(session: Session, who: Lead, kind: str, when: datetime, **properties: Any) -> None:
    event = EventInput(lead_id=who.id, type=kind, occurred_at=when, properties=properties)
    record_events(session, [event], when, POLICY.clock_skew)


def move(session: Session, who: Lead, *steps: tuple[Stage, datetime]) -> None:
    for stage, when in steps:
        change_stage(session, who, stage, ACTOR, "test", when)


def use_model(session: Session, when: datetime) -> None:
    scoring.add_model(session, MODEL, "analytics-test.yaml", when)
    scoring.activate(session, "analytics-test", when)


def build(db: Database) -> Workspace:
    with db.unit_of_work() as session:
        ids = _leads(session)
        _segments(session, ids)
        _costs(session)
        _tasks(session, ids)
    return Workspace(ids)


def _leads(session: Session) -> dict[str, int]:
    u = lead(session, "U", at(2, 10, 9), source="website")
    use_model(session, at(2, 15))
    g = lead(session, "G", at(2, 20, 10), source="website", campaign="spring", company_size=200)
    happen(session, g, "purchase", at(2, 25, 10), amount=5000)
    a = lead(session, "A", at(3, 2, 10), source="website", campaign="spring", company_size=200)
    happen(session, a, "webinar_attended", at(3, 3, 10))
    happen(session, a, "webinar_attended", at(3, 4, 10))  # 5 + 8 = 13: warm, so mql
    move(session, a, (Stage.sal, at(3, 5)), (Stage.sql, at(3, 6)), (Stage.opportunity, at(3, 7)))
    happen(session, a, "purchase", at(3, 12, 10), amount=990)
    move(session, a, (Stage.customer, at(3, 13, 10)))
    b = lead(session, "B", at(3, 3, 9), source="website", campaign="spring", company_size=10)
    for minute in (10, 20, 30):
        happen(session, b, "page_view", at(3, 3, 9, minute), path="/blog")
    c = lead(session, "C", at(3, 4, 12), source="paid_search", campaign="spring",
             company_size=500)  # fmt: skip
    happen(session, c, "form_submitted", at(3, 4, 11))
    for day in (5, 6, 7):
        happen(session, c, "webinar_attended", at(3, day, 10))  # 5 + 12 = 17: warm, so mql
    move(session, c, (Stage.sal, at(3, 8, 10)), (Stage.sql, at(3, 8, 11)),
         (Stage.opportunity, at(3, 8, 12)), (Stage.customer, at(3, 9, 11)))  # fmt: skip
    happen(session, c, "purchase", at(3, 10, 9), value=2400)
    d = lead(session, "D", at(3, 10, 8))
    happen(session, d, "unsubscribed", at(3, 11, 8))
    move(session, d, (Stage.disqualified, at(3, 12, 8)))
    e = lead(session, "E", at(3, 11, 15), source="paid_search", campaign="summer",
             company_size=50)  # fmt: skip
    move(session, e, (Stage.mql, at(3, 12, 15)), (Stage.nurture, at(3, 13, 15)))
    f = lead(session, "F", at(3, 16, 9), source="referral", company_size=1000)
    happen(session, f, "purchase", at(3, 18, 21), amount=1500.5)
    happen(session, f, "purchase", at(3, 19, 10), currency="EUR")
    happen(session, f, "purchase", at(3, 19, 11), amount="lots")
    h = lead(session, "H", at(3, 23), source="website", campaign="spring", company_size=10)
    return {x.first_name or "": x.id for x in (u, g, a, b, c, d, e, f, h)}


def _segments(session: Session, ids: dict[str, int]) -> None:
    segments.save(session, "engaged", SegmentFilter(grade=["warm", "hot"]), ACTOR, END)
    automation.join(session, "engaged", ids["D"], "test", END)
    segments.save(session, "paid", SegmentFilter(source=["paid_search"]), ACTOR, END)
    segments.save(session, "nobody", SegmentFilter(source=["event"]), ACTOR, END)


def _costs(session: Session) -> None:
    booked = [
        ("spring", "", date(2026, 3, 2), 300.0),
        ("spring", "paid_search", date(2026, 3, 9), 200.0),
        ("summer", "paid_search", date(2026, 3, 16), 150.0),
        ("spring", "website", date(2026, 2, 25), 999.0),
        ("spring", "", date(2026, 3, 23), 777.0),
        ("winter", "", date(2026, 3, 5), 50.0),
    ]
    lines = [CostLine(campaign, day, amount, source, "EUR")
             for campaign, source, day, amount in booked]  # fmt: skip
    record_costs(session, lines, END)


def _task(session: Session, lead_id: int, owner: str | None, created: datetime,
          due_minutes: float = 30) -> FollowUpTask:  # fmt: skip
    due = created + timedelta(minutes=due_minutes)
    task = FollowUpTask(lead_id=lead_id, kind="call", owner=owner, rule="test",
                        created_at=created, due_at=due)  # fmt: skip
    session.add(task)
    session.flush()
    return task


def _done(session: Session, task: FollowUpTask, minutes: float) -> None:
    tasks.complete(session, task.id, "rep", task.created_at + timedelta(minutes=minutes))


def _tasks(session: Session, ids: dict[str, int]) -> None:
    _done(session, _task(session, ids["A"], "alice", at(3, 2, 10)), 20)
    late = _task(session, ids["B"], "alice", at(3, 3, 9))
    assert tasks.breach_overdue(session, at(3, 3, 9, 31)) == 1
    _done(session, late, 60)
    _done(session, _task(session, ids["C"], "alice", at(3, 4, 12)), 5)
    _done(session, _task(session, ids["D"], "bob", at(3, 10, 8)), 30)
    _done(session, _task(session, ids["E"], "bob", at(3, 11, 15)), 15)
    _task(session, ids["F"], "bob", at(3, 16, 9))
    _task(session, ids["F"], None, at(3, 20), due_minutes=60 * 24 * 21)  # due 2026-04-10
    assert tasks.breach_overdue(session, at(3, 20, 1)) == 1
