"""Account scores in the workspace: a company's leads (grouped by business e-mail domain at
intake) scored as one account by the active model's ``account`` section, each time one of
them is rescored; a changed account grade is a happening (``account.grade_changed``) that
automation rules react to, and each lead keeps a copy of its account's grade and score for
its own model to read."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Protocol

import polars as pl
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from leadq.domain.leads import PROFILE_FIELDS
from leadq.domain.scoring.accounts import AccountCard, Person, evaluate_account, score_accounts
from leadq.domain.scoring.model import ACCOUNT_FIELDS, AccountModel, ScoringModel
from leadq.services.automation import reactions as automation
from leadq.services.errors import NotFound
from leadq.store.tables import Company, Lead

ACCOUNT_GRADE_CHANGED = "account.grade_changed"


class Viewer(Protocol):
    """Who looks (``services.people.access.Access``): the condition on the leads they see."""

    def lead_filter(self) -> ColumnElement[bool] | None: ...


def reads_accounts(model: ScoringModel) -> bool:
    """Whether the model's lead criteria look at the lead's account."""
    return bool(model.profile_fields() & set(ACCOUNT_FIELDS))


def account_profile(members: Sequence[Lead]) -> dict[str, Any]:
    """Each profile field's commonest filled-in value among the account's leads (on a tie,
    the one of the oldest lead)."""
    ordered = sorted(members, key=lambda lead: lead.id)
    profile: dict[str, Any] = {}
    for name in PROFILE_FIELDS:
        values = [v for lead in ordered if (v := getattr(lead, name)) is not None and v != ""]
        profile[name] = Counter(values).most_common(1)[0][0] if values else None
    return profile


def people_of(members: Sequence[Lead]) -> list[Person]:
    return [Person(m.id, m.engagement_points or 0.0, m.seniority) for m in members]


def _members(session: Session, company_ids: Sequence[int]) -> dict[int, list[Lead]]:
    found: dict[int, list[Lead]] = {i: [] for i in company_ids}
    query = (
        select(Lead)
        .where(
            Lead.company_id.in_(company_ids),
            Lead.erased_at.is_(None),
            Lead.merged_into_id.is_(None),
        )
        .order_by(Lead.id)
    )
    for lead in session.scalars(query):
        found[lead.company_id or 0].append(lead)
    return found


def rescore_accounts(
    session: Session,
    company_ids: Iterable[int],
    model: ScoringModel | None,
    as_of: datetime,
    caused_by: dict[int, int] | None = None,
) -> set[int]:
    """Score these accounts and store what changed; returns the companies whose score or
    grade moved (their leads' copies were updated). ``caused_by`` names, per company, the lead
    whose change is the reason: the happening of a grade change is that lead's."""
    spec = model.account if model is not None else None
    ids = sorted(set(company_ids))
    if spec is None or model is None or not ids:
        return set()
    moved = set()
    for company_id, members in _members(session, ids).items():
        company = session.get(Company, company_id)
        if company is None or not members:
            continue
        card = evaluate_account(spec, account_profile(members), people_of(members))
        if _store(session, company, card, model.ref, as_of, members, caused_by or {}):
            moved.add(company_id)
    return moved


def _store(
    session: Session,
    company: Company,
    card: AccountCard,
    model: str,
    as_of: datetime,
    members: Sequence[Lead],
    caused_by: dict[int, int],
) -> bool:
    before = (company.score, company.grade)
    company.score, company.grade = card.score, card.grade
    company.engaged, company.people = card.engaged, card.people
    company.score_breakdown = [
        {
            "criterion": line.criterion,
            "label": line.label,
            "value": line.value,
            "points": line.points,
        }
        for line in card.breakdown
    ]
    company.scoring_model, company.scored_at = model, as_of
    stale = [m for m in members if (m.account_grade, m.account_score) != (card.grade, card.score)]
    for lead in stale:  # a lead that just joined the account has no copy yet
        lead.account_grade, lead.account_score = card.grade, card.score
    if before == (card.score, card.grade):
        return bool(stale)
    if before[1] != card.grade:
        lead_id = caused_by.get(company.id) or max(members, key=lambda m: m.score or 0).id
        payload = {
            "from": before[1],
            "to": card.grade,
            "score": card.score,
            "model": model,
            "account": company.id,
            "domain": company.domain,
        }
        automation.emit(session, ACCOUNT_GRADE_CHANGED, lead_id, payload, as_of)
    return True


def rescore_every_account(session: Session, model: ScoringModel, as_of: datetime) -> set[int]:
    """Every account at once (after every lead was rescored): the vectorised engine scores
    them all, and the accounts whose score or grade it moves get their breakdown written."""
    spec = model.account
    if spec is None:
        return set()
    members = session.scalars(
        select(Lead)
        .where(
            Lead.company_id.is_not(None), Lead.erased_at.is_(None), Lead.merged_into_id.is_(None)
        )
        .order_by(Lead.id)
    ).all()
    groups: dict[int, list[Lead]] = {}
    for lead in members:
        groups.setdefault(lead.company_id or 0, []).append(lead)
    if not groups:
        return set()
    moved = set()
    for row in _vectorised(spec, groups).iter_rows(named=True):
        company = session.get(Company, row["account_id"])
        if company is None or (company.score, company.grade, company.scoring_model) == (
            row["score"],
            row["grade"],
            model.ref,
        ):
            continue
        people = groups[row["account_id"]]
        card = evaluate_account(spec, account_profile(people), people_of(people))
        if _store(session, company, card, model.ref, as_of, people, {}):
            moved.add(company.id)
    return moved


def _vectorised(spec: AccountModel, groups: dict[int, list[Lead]]) -> pl.DataFrame:
    accounts = pl.DataFrame(
        [{"account_id": i, **account_profile(people)} for i, people in groups.items()],
        infer_schema_length=None,
    )
    people = pl.DataFrame(
        [
            {
                "account_id": i,
                "engagement": float(p.engagement_points or 0.0),
                "seniority": p.seniority,
            }
            for i, members in groups.items()
            for p in members
        ],
        schema={"account_id": pl.Int64, "engagement": pl.Float64, "seniority": pl.String},
    )
    return score_accounts(spec, accounts, people)


def visible_accounts(session: Session, access: Viewer, grade: str | None = None,
                     limit: int = 200) -> list[tuple[Company, list[Lead]]]:  # fmt: skip
    """Scored accounts, best first, each with the leads of it this caller may see (an
    account with none of them is left out)."""
    query = select(Company).where(Company.score.is_not(None))
    if grade is not None:
        query = query.where(Company.grade == grade)
    found = []
    for company in session.scalars(query.order_by(Company.score.desc(), Company.id).limit(limit)):
        members = _visible_members(session, access, company.id)
        if members:
            found.append((company, members))
    return found


def visible_account(
    session: Session, access: Viewer, company_id: int
) -> tuple[Company, list[Lead]]:
    """One account and its leads this caller may see; "not found" when they may see none."""
    company = session.get(Company, company_id)
    members = _visible_members(session, access, company_id) if company is not None else []
    if company is None or not members:
        raise NotFound("account", company_id)
    return company, members


def _visible_members(session: Session, access: Viewer, company_id: int) -> list[Lead]:
    query = select(Lead).where(Lead.company_id == company_id, Lead.erased_at.is_(None),
                               Lead.merged_into_id.is_(None))  # fmt: skip
    if (only := access.lead_filter()) is not None:
        query = query.where(only)
    return list(session.scalars(query.order_by(Lead.score.desc().nulls_last(), Lead.id)))
