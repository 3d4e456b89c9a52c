"""CSV imports over HTTP: the same presets, identity rules and field-level checks as
``leadq import leads``, answered with counts, the first warnings and a link to the rejects."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from leadq.api.deps import Actor, Db, Now, Policy
from leadq.api.routers import uploaded_file
from leadq.api.schemas import ErrorOut
from leadq.domain.countries import country_code
from leadq.http.errors import error_response
from leadq.http.params import ImportPath
from leadq.services.errors import FieldError, InvalidInput
from leadq.services.intake import uploads
from leadq.services.intake.policy import IntakePolicy
from leadq.store.db import Database
from leadq.store.tables import ImportRun

router = APIRouter(prefix="/imports", tags=["imports"],
                   responses={401: {"model": ErrorOut}, 422: {"model": ErrorOut}})  # fmt: skip
BODY_LIMIT = uploads.MAX_UPLOAD_BYTES + 256 * 1024
_UPLOAD_DOC: dict[str, Any] = {"requestBody": {"content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "format": "binary", "description": "The CSV file"},
        "preset": {"type": "string", "description": "e.g. salesforce-lead [from the header]"},
        "map": {"type": "array", "items": {"type": "string"},
                "description": "CSV_COLUMN=field (field may be attributes.NAME, or - to skip)"},
        "stage": {"type": "array", "items": {"type": "string"},
                  "description": "STATUS=stage: the stage a CRM status means"},
        "phone_region": {"type": "string", "description": "e.g. PL: national numbers"
                         " of rows without a country"}}}}}}}  # fmt: skip


class ImportOut(BaseModel):
    id: int
    file_name: str
    status: str = Field(description="draft, running, done or failed")
    total_rows: int
    done_rows: int
    summary: dict[str, Any] | None = Field(description="created, merged, unchanged, rejected,"
                                           " warned, preset, unmapped_statuses, …")  # fmt: skip
    warnings: list[dict[str, str]] = Field(description="The first 100: line, field, reason")
    rejects: str | None = Field(description="Where the rejected rows are (CSV), if any")
    error: str | None
    created_at: datetime
    finished_at: datetime | None


def _out(run: ImportRun) -> ImportOut:
    link = f"/api/v1/imports/{run.id}/rejects" if run.rejects else None
    return ImportOut(id=run.id, file_name=run.file_name, status=run.status,
                     total_rows=run.total_rows, done_rows=run.done_rows, summary=run.summary,
                     warnings=uploads.warnings_of(run), rejects=link, error=run.error,
                     created_at=run.created_at, finished_at=run.finished_at)  # fmt: skip


def pairs(values: list[str], what: str, form: str) -> dict[str, str]:
    """``A=b`` pairs of a repeated form field; a malformed one is named."""
    found: dict[str, str] = {}
    for value in values:
        left, sep, right = value.partition("=")
        if not sep or not left.strip() or not right.strip():
            raise InvalidInput([FieldError(what, f"{value[:100]!r}: expected {form}")])
        found[left.strip()] = right.strip()
    return found


def region_policy(policy: IntakePolicy, region: str | None) -> IntakePolicy:
    if not region:
        return policy
    code = country_code(region)
    if code is None:
        raise InvalidInput([FieldError("phone_region", f"{region[:60]!r} is not a country")])
    return IntakePolicy(code, policy.clock_skew)


@router.post("", response_model=ImportOut, status_code=201, openapi_extra=_UPLOAD_DOC,
             responses={413: {"model": ErrorOut}, 415: {"model": ErrorOut}})  # fmt: skip
async def import_leads(request: Request, db: Db, actor: Actor, now: Now,
                       policy: Policy) -> ImportOut | JSONResponse:  # fmt: skip
    """Import a CSV of leads: every row with a usable e-mail or phone is kept, a bad value is
    set aside with a warning, the rest are rejected with their line and reason."""
    if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        return error_response(415, [FieldError("content-type", "send multipart/form-data with"
                                               " the CSV as the field 'file'")])  # fmt: skip
    form = await request.form(max_files=1, max_fields=500)
    content = await uploaded_file(form, uploads.MAX_UPLOAD_BYTES)
    if isinstance(content, JSONResponse):
        return content
    texts = {k: [str(v) for v in form.getlist(k) if isinstance(v, str)]
             for k in ("map", "stage", "preset", "phone_region")}  # fmt: skip
    mapping = pairs(texts["map"], "map", "CSV_COLUMN=field")
    stages = pairs(texts["stage"], "stage", "STATUS=stage")
    preset = texts["preset"][0] if texts["preset"] else None
    chosen = region_policy(policy, texts["phone_region"][0] if texts["phone_region"] else None)
    upload = form.get("file")
    name = (upload.filename if isinstance(upload, UploadFile) else None) or "upload.csv"
    run = await run_in_threadpool(_run, db, name, content, actor, now, mapping, chosen,
                                  preset, stages)  # fmt: skip
    return _out(run)


def _run(db: Database, name: str, content: bytes, actor: str, now: datetime,
         mapping: dict[str, str], policy: IntakePolicy, preset: str | None,
         stages: dict[str, str]) -> ImportRun:  # fmt: skip
    run_id = db.run(lambda s: uploads.stage_upload(s, name, content, actor, now).id)
    try:
        uploads.proposal(db, run_id, mapping, policy, preset, stages)
    except InvalidInput:
        uploads.discard(db, run_id)  # a mapping error: nothing runs, nothing is kept
        raise
    started = uploads.start(db, run_id)
    return uploads.run_import(db, run_id, started, mapping, policy, now, preset, stages)


@router.get("/{run_id}", response_model=ImportOut, responses={404: {"model": ErrorOut}})
def import_run(run_id: ImportPath, db: Db, _: Actor) -> ImportOut:
    """An import's progress, then its counts and first warnings."""
    with db.reading() as session:
        return _out(uploads.get_run(session, run_id))


@router.get("/{run_id}/rejects", response_class=Response, responses={404: {"model": ErrorOut}})
def rejects(run_id: ImportPath, db: Db, _: Actor) -> Response:
    """The rejected rows as CSV: line, reason, then the row as it was."""
    with db.reading() as session:
        run = uploads.get_run(session, run_id)
        text = run.rejects or "line,reason\n"
    headers = {"content-disposition": f'attachment; filename="import-{run_id}-rejects.csv"'}
    return Response(text, media_type="text/csv", headers=headers)
