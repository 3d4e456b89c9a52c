"""Account scores in a workspace: a company's people roll up into one account as their events
arrive, a busy intern alone leaves it cold, a buying committee makes it hot, the hot account
fires its automation rule and lifts its people's own scores; bulk rescoring agrees."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from leadq.domain.automation import SegmentFilter
from leadq.services.analytics.metrics import metrics
from leadq.services.automation import segments
from leadq.services.scoring import bulk
from leadq.store.db import Database
from leadq.store.tables import DomainEvent, Lead
from tests.automation.documents import put_in_force
from tests.tuning.companies import RULES, account, activate, person


def test_people_roll_up_into_one_account_whose_grade_fires_a_rule(
    db: Database, now: datetime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    put_in_force(monkeypatch, tmp_path, RULES)
    activate(db, now)
    intern = person(db, now, "ivo@acme-tools.example", "Intern", visits=30)
    alone = account(db, "acme-tools.example")
    assert (alone.score, alone.grade, alone.engaged) == (15.0, "cold", 1)  # 5 fit + 10 capped
    ceo = person(db, now, "cleo@acme-tools.example", "CEO", visits=2)
    assert account(db, "acme-tools.example").grade == "warm"  # 5 + 10 + 4 + committee 10
    manager = person(db, now, "max@acme-tools.example", "Sales Manager", visits=3)
    heated = account(db, "acme-tools.example")
    assert (heated.score, heated.grade, heated.engaged, heated.people) == (40.0, "hot", 3, 3)
    lines = {line["criterion"]: line["points"] for line in heated.score_breakdown or []}
    assert lines == {"sized": 5.0, f"person:{intern}": 10.0, f"person:{ceo}": 4.0,
                     f"person:{manager}": 6.0, "committee:c_level": 10.0,
                     "committee:manager": 5.0}  # fmt: skip
    with db.reading() as session:
        grade_changes = select(DomainEvent).where(DomainEvent.type == "account.grade_changed")
        fired = session.scalars(grade_changes.order_by(DomainEvent.id)).all()
        hot = [lead.id for lead in segments.members(session, "hot-accounts", now)]
        people = {lead.id: lead for lead in session.scalars(select(Lead))}
    assert [(e.payload["from"], e.payload["to"]) for e in fired] == [
        (None, "cold"), ("cold", "warm"), ("warm", "hot")]  # fmt: skip
    assert hot == [manager], "the rule acted on the lead whose change made the account hot"
    for lead in people.values():
        assert lead.account_grade == "hot"
        assert {b["criterion"]: b["points"] for b in lead.score_breakdown or []}[
            "hot_account"
        ] == 10
    assert people[ceo].score == 3 + 10 + 4
    with db.unit_of_work() as session:
        segments.save(session, "hot-companies", SegmentFilter(account_grade=["hot"]), "t", now)
    with db.reading() as session:
        in_segment = {lead.id for lead in segments.members(session, "hot-companies", now)}
        by_account = {row.group: row.leads for row in metrics(session, "account_grade")}
    assert in_segment == set(people) and by_account == {"hot": 3}
    before = {i: (p.score, p.grade) for i, p in people.items()}
    bulk.rescore_everyone(db, now, "tests")
    with db.reading() as session:
        again = {lead.id: (lead.score, lead.grade) for lead in session.scalars(select(Lead))}
    assert again == before and account(db, "acme-tools.example").score == 40.0
