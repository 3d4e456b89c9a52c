"""The scoring-model page: edit or upload a document, validate it, preview its grades and a
backtest against history, then add it as a version and activate it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from leadq.http.params import ModelReference
from leadq.i18n import Language
from leadq.services.errors import ConfigError, LeadqError, NotFound
from leadq.services.scoring import bulk, documents
from leadq.services.scoring import preview as model_preview
from leadq.services.scoring import rescoring as scoring
from leadq.store.db import Database
from leadq.web.auth import Form, Viewer, require
from leadq.web.render import back, flash, page, reader

router = APIRouter(include_in_schema=False)
Editor = Annotated[Viewer, require("models.edit")]
MAX_DOCUMENT = 256_000


def _listing(db: Database, reference: str | None) -> tuple[list[object], str, str | None]:
    with db.reading() as session:
        rows = scoring.list_models(session)
        chosen = next((r for r in rows if r.active), None)
        if reference:
            try:
                chosen = scoring.find_version(session, reference)
            except NotFound:
                chosen = None
        document = chosen.document if chosen else documents.read_model("classic")[1]
        return list(rows), document, f"{chosen.name}@{chosen.version}" if chosen else None


@router.get("/models", response_class=HTMLResponse)
def models_page(request: Request, viewer: Editor,
                edit: Annotated[str | None, Query(max_length=80, pattern=r"^[^\x00]*$")] = None,
                ) -> HTMLResponse:  # fmt: skip
    rows, document, editing = _listing(request.app.state.db, edit)
    return page(request, "models.html.j2", viewer, rows=rows, document=document,
                editing=editing, preview=None, problem=None)  # fmt: skip


async def _document(data: FormData, lang: Language) -> str:
    """The uploaded file if one was chosen, else the editor's text."""
    upload = data.get("file")
    if isinstance(upload, UploadFile) and upload.filename:
        raw = await upload.read(MAX_DOCUMENT + 1)
        if len(raw) > MAX_DOCUMENT:
            over = lang.ngettext("over %(num)d byte", "over %(num)d bytes", MAX_DOCUMENT)
            raise ConfigError(upload.filename, "(file)", over % {"num": MAX_DOCUMENT})
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ConfigError(upload.filename, "(file)", lang.gettext("not UTF-8 text")) from None
    text = data.get("document")
    if not isinstance(text, str) or not text.strip():
        reason = lang.gettext("paste a model document or choose a file")
        raise ConfigError("draft", "(document)", reason)
    return text


@router.post("/models/preview", response_class=HTMLResponse)
async def preview(request: Request, viewer: Editor, data: Form) -> HTMLResponse:
    db: Database = request.app.state.db
    rows, _, _ = await run_in_threadpool(_listing, db, None)
    document, result, problem = "", None, None
    try:
        document = await _document(data, reader(request, viewer))
        now = datetime.now(UTC)
        result = await run_in_threadpool(model_preview.preview, db, document, now)
    except LeadqError as exc:
        problem = str(exc)
    return page(request, "models.html.j2", viewer, 200 if result else 422, rows=rows,
                document=document, editing=None, preview=result, problem=problem)  # fmt: skip


@router.post("/models")
async def add(request: Request, viewer: Editor, data: Form) -> RedirectResponse:
    db: Database = request.app.state.db
    lang = reader(request, viewer)
    try:
        document = await _document(data, lang)
        now = datetime.now(UTC)
        row = await run_in_threadpool(db.run, lambda s: scoring.add_model(
            s, document, "draft", now, viewer.username))  # fmt: skip
    except LeadqError as exc:
        flash(request, str(exc), "error")
        return back("/models")
    added = lang.gettext("%(model)s added; activate it to score with it")
    flash(request, added % {"model": f"{row.name}@{row.version}"})
    return back(f"/models?edit={row.name}@{row.version}")


@router.post("/models/{reference}/activate")
async def activate(request: Request, reference: ModelReference, viewer: Editor,
                   data: Form) -> RedirectResponse:  # fmt: skip
    db: Database = request.app.state.db
    now = datetime.now(UTC)
    try:
        row = await run_in_threadpool(
            db.run, lambda s: scoring.activate(s, reference, now, viewer.username)
        )
    except LeadqError as exc:
        flash(request, str(exc), "error")
        return back("/models")
    ref = f"{row.name}@{row.version}"
    total, changed = await run_in_threadpool(bulk.rescore_everyone, db, now,
                                             f"model {ref} activated")  # fmt: skip
    lang = reader(request, viewer)
    active = lang.ngettext("%(model)s is active: %(num)s lead rescored, %(changed)s changed",
                           "%(model)s is active: %(num)s leads rescored, %(changed)s changed",
                           total)  # fmt: skip
    flash(request, active % {"model": ref, "num": lang.number(total),
                             "changed": lang.number(changed)})  # fmt: skip
    return back(f"/models?edit={ref}")
