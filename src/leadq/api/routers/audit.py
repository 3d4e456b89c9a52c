"""The audit log, for admins: who changed what, when, newest first."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from leadq.api.deps import Db
from leadq.api.schemas import AuditOut, ErrorOut
from leadq.domain.boundary import Moment
from leadq.services.privacy.audit import AuditQuery, entries

router = APIRouter(tags=["audit"], responses={401: {"model": ErrorOut}, 403: {"model": ErrorOut},
                                               422: {"model": ErrorOut}})  # fmt: skip
Word = Annotated[str | None, Query(max_length=100, pattern=r"^[^\x00]*$")]


@router.get("/audit", response_model=list[AuditOut])
def audit_log(
    db: Db,
    entity: Word = None,
    entity_id: Word = None,
    actor: Word = None,
    action: Word = None,
    since: Moment | None = None,
    until: Moment | None = None,
    before_id: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AuditOut]:
    """Filter by entity (``lead``, ``user``, ``scoring_model``…), id, actor or action; page
    back with ``before_id`` set to the last id of a page."""
    query = AuditQuery(entity, entity_id, actor, action, since, until, before_id, limit)
    with db.reading() as session:
        return [AuditOut.model_validate(entry) for entry in entries(session, query)]
