"""Predictive models in the registry: list with figures, activate (champion or challenger),
roll back, and conversion by arm. Models are trained and added with the CLI (``leadq train``,
``leadq predictive add``): a model file holds code, so it never arrives over the API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from leadq.api.deps import Actor, Db, Now
from leadq.api.schemas import ErrorOut
from leadq.http.params import ModelReference
from leadq.services.predictive import registry
from leadq.services.scoring import bulk
from leadq.store.tables import PredictiveModelVersion

router = APIRouter(prefix="/predictive", tags=["predictive models"],
                   responses={401: {"model": ErrorOut}, 422: {"model": ErrorOut}})  # fmt: skip


class PredictiveModelOut(BaseModel):
    model: str
    role: str | None
    share: int | None = Field(description="Challenger's share of leads, %")
    created_at: datetime
    activated_at: datetime | None
    roc_auc: float = Field(description="Out-of-fold ROC AUC at training")
    report: dict[str, Any]

    @classmethod
    def of(cls, row: PredictiveModelVersion) -> PredictiveModelOut:
        return cls(model=f"{row.name}@{row.version}", role=row.role, share=row.share,
                   created_at=row.created_at, activated_at=row.activated_at,
                   roc_auc=row.report["metrics"]["roc_auc"], report=row.report)  # fmt: skip


class ArmOut(BaseModel):
    model: str
    arm: str
    leads: int
    conversions: int
    conversion_rate: float


class Switched(BaseModel):
    model: str
    role: str
    leads: int


@router.get("/models", response_model=list[PredictiveModelOut])
def list_models(db: Db, _: Actor) -> list[PredictiveModelOut]:
    with db.reading() as session:
        return [PredictiveModelOut.of(row) for row in registry.versions(session)]


async def _switch(db: Any, now: datetime, change: Any) -> Switched:
    def work(session: Session) -> tuple[str, str]:
        row = change(session)
        return f"{row.name}@{row.version}", row.role or ""

    ref, role = await run_in_threadpool(db.run, work)
    total, _ = await run_in_threadpool(bulk.rescore_everyone, db, now, f"{ref} is {role}")
    return Switched(model=ref, role=role, leads=total)


@router.post("/models/{reference}/activate", response_model=Switched,
             responses={404: {"model": ErrorOut}, 409: {"model": ErrorOut}})  # fmt: skip
async def activate(reference: ModelReference, db: Db, actor: Actor, now: Now,
                   challenger_share: Annotated[int | None, Query(ge=1, le=50)] = None,
                   ) -> Switched:  # fmt: skip
    """Make the version champion, or challenger for ``challenger_share`` % of leads (chosen by a
    hash of their id); every lead is rescored."""
    return await _switch(db, now, lambda s: registry.activate(s, reference, actor, now,
                                                                challenger_share))  # fmt: skip


@router.post("/rollback", response_model=Switched, responses={409: {"model": ErrorOut}})
async def rollback(db: Db, actor: Actor, now: Now) -> Switched:
    """The previous champion becomes champion again; every lead is rescored."""
    return await _switch(db, now, lambda s: registry.rollback(s, actor, now))


@router.get("/arms", response_model=list[ArmOut])
def arms(db: Db, _: Actor) -> list[ArmOut]:
    """Conversion of the leads each model scored: is the challenger better?"""
    with db.reading() as session:
        return [ArmOut(**arm) for arm in registry.arms(session)]
