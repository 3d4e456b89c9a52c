"""Leads: create-or-merge, read, list, edit."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy.orm import Session

from leadq.api.deps import Actor, Caller, Db, Now, Policy
from leadq.api.routers import committed
from leadq.api.schemas import (
    ChannelIdentityOut,
    ErrorOut,
    EventOut,
    FieldErrorOut,
    LeadOut,
    LeadPageOut,
    LeadPatch,
    LeadUpsertOut,
    LineOut,
    ReasonOut,
    ScoreOut,
)
from leadq.domain.leads import LeadInput
from leadq.domain.worklist import ColumnSort
from leadq.http.params import LeadPath
from leadq.services.automation import segments
from leadq.services.intake import channels, duplicates, lookup
from leadq.services.intake import events as event_service
from leadq.services.intake import leads as lead_service
from leadq.services.intake.leads import Outcome
from leadq.services.intake.listing import LeadFilter, list_leads

router = APIRouter(
    prefix="/leads", tags=["leads"], responses={401: {"model": ErrorOut}, 422: {"model": ErrorOut}}
)

Sort = ColumnSort


@router.post(
    "",
    response_model=LeadUpsertOut,
    status_code=201,
    responses={200: {"model": LeadUpsertOut, "description": "Merged into an existing lead"}},
)
def upsert_lead(
    lead: LeadInput, response: Response, db: Db, actor: Actor, now: Now, policy: Policy
) -> LeadUpsertOut:
    """Create a lead, or merge it into the lead with the same e-mail or phone (200)."""

    def work(session: Session) -> LeadUpsertOut:
        result = lead_service.upsert_lead(session, lead, actor, now, policy)
        body = committed(session, result.lead).model_dump()
        warnings = [FieldErrorOut(field=w.field, reason=w.reason) for w in result.warnings]
        return LeadUpsertOut(**body, outcome=result.outcome, conflicts=result.conflicts,
                             warnings=warnings)  # fmt: skip

    out = db.run(work)
    if out.outcome is not Outcome.created:
        response.status_code = 200
    return out


@router.get("", response_model=LeadPageOut)
def list_leads_page(
    db: Db,
    caller: Caller,
    now: Now,
    stage: str | None = None,
    grade: str | None = None,
    owner: str | None = None,
    source: str | None = None,
    q: Annotated[
        str | None, Query(max_length=200, description="Text in e-mail, phone, name, company")
    ] = None,
    segment: Annotated[
        str | None, Query(max_length=63, description="Only the members of this segment")
    ] = None,
    sort: Sort = "-score",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> LeadPageOut:
    """Leads in priority order (highest score first, unscored last) or another column's, with
    cursor pagination; a rep's key lists the rep's leads and unassigned ones."""
    where = LeadFilter(stage=stage, grade=grade, owner=owner, source=source, text=q,
                       visible_to=caller.owner)  # fmt: skip
    with db.reading() as session:
        extra = [segments.membership(session, segment, now)] if segment else []
        page = list_leads(session, where, sort, limit, cursor, extra)
        return LeadPageOut(
            items=[LeadOut.model_validate(x) for x in page.leads], next_cursor=page.next_cursor
        )


@router.get("/{lead_id}", response_model=LeadOut, responses={404: {"model": ErrorOut}})
def get_lead(lead_id: LeadPath, db: Db, caller: Caller) -> LeadOut:
    """The lead, with the leads that may be the same person (those the caller may see)."""
    with db.reading() as session:
        lead = LeadOut.model_validate(lookup.get_lead(session, lead_id))
        lead.possible_duplicates = duplicates.of_lead(session, lead_id, caller.lead_filter())
        lead.channel_identities = [ChannelIdentityOut.model_validate(i)
                                   for i in channels.identities(session, lead_id)]  # fmt: skip
    return lead


@router.patch(
    "/{lead_id}",
    response_model=LeadOut,
    responses={404: {"model": ErrorOut}, 409: {"model": ErrorOut}},
)
def update_lead(
    lead_id: LeadPath, patch: LeadPatch, db: Db, actor: Actor, now: Now, policy: Policy
) -> LeadOut:
    """Edit a lead; the audit log records who changed which fields, and when."""
    changes = policy.normalised(patch).model_dump(exclude_unset=True, mode="json")

    def work(session: Session) -> LeadOut:
        return committed(session, lead_service.update_lead(session, lead_id, changes, actor, now))

    return db.run(work)


@router.get("/{lead_id}/score", response_model=ScoreOut, tags=["scoring"],
            responses={404: {"model": ErrorOut}})  # fmt: skip
def lead_score(lead_id: LeadPath, db: Db, _: Actor) -> ScoreOut:
    """The lead's score, grade and a breakdown line per criterion (every point explained), and
    beside it the predictive probability with its reasons when a predictive model is active."""
    with db.reading() as session:
        lead = lookup.get_lead(session, lead_id)
        lines = [LineOut(**line) for line in lead.score_breakdown or []]
        return ScoreOut(
            lead_id=lead.id, score=lead.score, grade=lead.grade, fit_grade=lead.fit_grade,
            engagement_grade=lead.engagement_grade, model=lead.scoring_model,
            as_of=lead.scored_at, breakdown=lines, probability=lead.probability,
            predictive_score=lead.predictive_score, predictive_model=lead.predictive_model,
            reasons=[ReasonOut(**r) for r in lead.predictive_reasons or []],
        )  # fmt: skip


@router.get(
    "/{lead_id}/events",
    response_model=list[EventOut],
    tags=["events"],
    responses={404: {"model": ErrorOut}},
)
def lead_events(
    lead_id: LeadPath, db: Db, _: Actor, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[EventOut]:
    """The lead's timeline, newest first."""
    with db.reading() as session:
        lookup.get_lead(session, lead_id)
        return [
            EventOut.model_validate(e) for e in event_service.list_events(session, lead_id, limit)
        ]
