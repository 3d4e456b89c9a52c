"""Possible duplicates for review: leads that share a phone but not an e-mail."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from leadq.api.deps import Actor, Db, Now
from leadq.api.schemas import ErrorOut, PossibleDuplicateOut
from leadq.http.params import PairPath
from leadq.services.intake import duplicates

router = APIRouter(prefix="/duplicates", tags=["leads"],
                   responses={401: {"model": ErrorOut}, 422: {"model": ErrorOut}})  # fmt: skip


@router.get("", response_model=list[PossibleDuplicateOut])
def open_pairs(
    db: Db, _: Actor, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> list[PossibleDuplicateOut]:
    """Open pairs, oldest first: two leads kept apart until a person decides."""
    with db.reading() as session:
        return [PossibleDuplicateOut.model_validate(p)
                for p in duplicates.open_pairs(session, limit)]  # fmt: skip


@router.post("/{pair_id}/dismiss", response_model=PossibleDuplicateOut,
             responses={404: {"model": ErrorOut}, 409: {"model": ErrorOut}})  # fmt: skip
def dismiss(pair_id: PairPath, db: Db, actor: Actor, now: Now) -> PossibleDuplicateOut:
    """Two people after all: the pair is closed, and not suggested again."""
    return db.run(lambda s: PossibleDuplicateOut.model_validate(
        duplicates.dismiss(s, pair_id, actor, now)))  # fmt: skip


class MergeIn(BaseModel):
    keep: int | None = Field(default=None, ge=1, description="The lead to keep [the older one]")


@router.post("/{pair_id}/merge", response_model=PossibleDuplicateOut,
             responses={404: {"model": ErrorOut}, 409: {"model": ErrorOut}})  # fmt: skip
def merge(pair_id: PairPath, db: Db, actor: Actor, now: Now,
          body: MergeIn | None = None) -> PossibleDuplicateOut:  # fmt: skip
    """One person: the kept lead takes the other's events and fills its empty fields from it;
    the other stays, disqualified as a duplicate. Undone by ``unmerge``."""
    keep = body.keep if body else None
    return db.run(lambda s: PossibleDuplicateOut.model_validate(
        duplicates.merge(s, pair_id, actor, now, keep)))  # fmt: skip


@router.post("/{pair_id}/unmerge", response_model=PossibleDuplicateOut,
             responses={404: {"model": ErrorOut}, 409: {"model": ErrorOut}})  # fmt: skip
def unmerge(pair_id: PairPath, db: Db, actor: Actor, now: Now) -> PossibleDuplicateOut:
    """Undo a merge: events back, filled fields emptied, the other lead's stage restored."""
    return db.run(lambda s: PossibleDuplicateOut.model_validate(
        duplicates.unmerge(s, pair_id, actor, now)))  # fmt: skip
