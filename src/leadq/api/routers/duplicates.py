"""Possible duplicates for review: leads that share a phone but not an e-mail."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

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
