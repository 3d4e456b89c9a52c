"""Scoring models: validate, add, list, activate (activation rescores every lead)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Body
from pydantic import BaseModel
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from leadq.api.deps import Actor, Db, Now
from leadq.api.schemas import ErrorOut
from leadq.http.params import ModelReference
from leadq.services.scoring import bulk, documents
from leadq.services.scoring import rescoring as scoring
from leadq.store.tables import ScoringModelVersion

router = APIRouter(prefix="/models", tags=["scoring models"],
                   responses={401: {"model": ErrorOut}, 422: {"model": ErrorOut}})  # fmt: skip

YamlBody = Annotated[str, Body(media_type="application/yaml", max_length=256_000,
                               description="The model document (YAML)")]  # fmt: skip


class ModelOut(BaseModel):
    name: str
    version: int
    active: bool
    created_at: datetime
    activated_at: datetime | None
    document: str

    @classmethod
    def of(cls, row: ScoringModelVersion) -> ModelOut:
        return cls(name=row.name, version=row.version, active=row.active,
                   created_at=row.created_at, activated_at=row.activated_at,
                   document=row.document)  # fmt: skip


class Validated(BaseModel):
    name: str
    criteria: list[str]
    grades: dict[str, float]


class Activated(BaseModel):
    model: str
    leads: int
    changed: int


@router.post("/validate", response_model=Validated)
def validate(document: YamlBody, _: Actor) -> Validated:
    """Check a document without storing it; errors name the path inside it."""
    model = documents.parse(document, "request")
    return Validated(name=model.name, criteria=[c.id for c in model.criteria()],
                     grades=model.grades)  # fmt: skip


@router.post("", response_model=ModelOut, status_code=201)
def add(document: YamlBody, db: Db, actor: Actor, now: Now) -> ModelOut:
    """Store the document as the next version of its model (inactive)."""
    return db.run(lambda s: ModelOut.of(scoring.add_model(s, document, "request", now, actor)))


@router.get("", response_model=list[ModelOut])
def list_models(db: Db, _: Actor) -> list[ModelOut]:
    with db.reading() as session:
        return [ModelOut.of(row) for row in scoring.list_models(session)]


@router.post("/{reference}/activate", response_model=Activated,
             responses={404: {"model": ErrorOut}})  # fmt: skip
async def activate(reference: ModelReference, db: Db, actor: Actor, now: Now) -> Activated:
    """Activate a version and rescore every lead with it."""

    def switch(session: Session) -> str:
        row = scoring.activate(session, reference, now, actor)
        return f"{row.name}@{row.version}"

    ref = await run_in_threadpool(db.run, switch)
    total, changed = await run_in_threadpool(
        bulk.rescore_everyone, db, now, f"model {ref} activated"
    )
    return Activated(model=ref, leads=total, changed=changed)
