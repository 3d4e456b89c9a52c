"""The scoring-model page: build a model in a form (or edit its YAML), see what it would
change and how it would have done on history, then add it as a version and activate it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import yaml
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from leadq.domain.documents import safe_load
from leadq.domain.scoring import editor
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
View = Literal["form", "yaml"]


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


def _form_of(text: str) -> editor.ModelForm | None:
    """The rows of a YAML text, or None when it is not a map (the YAML view then)."""
    try:
        loaded = safe_load(text)
    except yaml.YAMLError:
        return None
    return editor.form_of(loaded) if isinstance(loaded, dict) else None


def show(request: Request, viewer: Viewer, status: int = 200, edit: str | None = None,
         view: View = "form", new: bool = False, **context: Any) -> HTMLResponse:  # fmt: skip
    """The page editing version ``edit`` (the active one by default), or a new model."""
    _, document, editing = _listing(request.app.state.db, edit)
    form = editor.blank() if new else _form_of(document)
    if new:
        document, editing = editor.yaml_of(editor.document_from({})), None
    return _show(request, viewer, status, document=document, editing=editing, form=form,
                 view=view if form is not None else "yaml", **context)  # fmt: skip


def _show(request: Request, viewer: Viewer, status: int = 200, **context: Any) -> HTMLResponse:
    """The page with the versions, the histogram of scores, and the given editor state."""
    db: Database = request.app.state.db
    rows, _, _ = _listing(db, None)
    values = {"editing": None, "preview": None, "problem": None, "wrong": None, "form": None,
              "document": "", "view": "form", "asked": None, "lines": None,
              "lines_problem": None, **context}  # fmt: skip
    values["histogram"] = model_preview.histogram(db)
    return page(request, "models.html.j2", viewer, status, rows=rows, sections=editor.SECTIONS,
                operators=editor.OPERATORS, **values)  # fmt: skip


@router.get("/models", response_class=HTMLResponse)
def models_page(request: Request, viewer: Editor,
                edit: Annotated[str | None, Query(max_length=80, pattern=r"^[^\x00]*$")] = None,
                view: View = "form", new: bool = False) -> HTMLResponse:  # fmt: skip
    return show(request, viewer, edit=edit, view=view, new=new)


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


def _fields(data: FormData) -> dict[str, str]:
    return {k: v for k, v in data.items() if isinstance(v, str) and k not in ("csrf", "do")}


@router.post("/models/form", response_class=HTMLResponse)
async def form_action(request: Request, viewer: Editor, data: Form) -> Response:
    """The form's buttons: add or remove a row, show the YAML, preview, or add the version
    (the last two exactly as the YAML view's, on the document the rows make)."""
    lang = reader(request, viewer)
    action = str(data.get("do") or "")
    fields = _fields(data)
    rows = editor.rows_of(fields)
    if action not in ("preview", "save", "yaml"):
        return _show(request, viewer, form=editor.edited(rows, action), view="form")
    try:
        text = editor.yaml_of(editor.document_from(fields))
    except editor.FormError as exc:
        problem = lang.gettext("%(field)s: %(reason)s") % {"field": exc.name,
                                                           "reason": exc.reason}  # fmt: skip
        return _show(request, viewer, 422, form=rows, problem=problem, wrong=exc.name)
    if action == "yaml":
        return _show(request, viewer, form=rows, document=text, view="yaml")
    if action == "save":
        return await run_in_threadpool(_add, request, viewer, text)
    return await _preview(request, viewer, text, rows)


async def _preview(request: Request, viewer: Viewer, text: str,
                   rows: editor.ModelForm | None) -> HTMLResponse:  # fmt: skip
    db: Database = request.app.state.db
    try:
        result = await run_in_threadpool(model_preview.preview, db, text, datetime.now(UTC))
    except LeadqError as exc:
        return _show(request, viewer, 422, form=rows, document=text, problem=str(exc),
                     view="form" if rows else "yaml")  # fmt: skip
    return _show(request, viewer, form=rows or _form_of(text), document=text, preview=result,
                 view="form" if rows else "yaml")  # fmt: skip


@router.post("/models/preview", response_class=HTMLResponse)
async def preview(request: Request, viewer: Editor, data: Form) -> HTMLResponse:
    """The YAML view's preview (its "Form" button opens the rows of the text instead)."""
    document = ""
    try:
        document = await _document(data, reader(request, viewer))
    except LeadqError as exc:
        return _show(request, viewer, 422, document=document, problem=str(exc), view="yaml")
    if data.get("do") == "form":
        form = _form_of(document)
        if form is not None:
            return _show(request, viewer, form=form, document=document, view="form")
    return await _preview(request, viewer, document, None)


def _add(request: Request, viewer: Viewer, document: str) -> RedirectResponse:
    """Add the document as a new version, unless a stored version already says the same."""
    db: Database = request.app.state.db
    lang = reader(request, viewer)
    try:
        same = db.run(lambda s: scoring.same_as(s, document))
        if same is not None:
            flash(request, lang.gettext("Nothing added: this is what %(model)s already says.")
                  % {"model": f"{same.name}@{same.version}"}, "warning")  # fmt: skip
            return back(f"/models?edit={same.name}@{same.version}")
        now = datetime.now(UTC)
        row = db.run(lambda s: scoring.add_model(s, document, "draft", now, viewer.username))
    except LeadqError as exc:
        flash(request, str(exc), "error")
        return back("/models?view=yaml")
    added = lang.gettext("%(model)s added; activate it to score with it")
    flash(request, added % {"model": f"{row.name}@{row.version}"})
    return back(f"/models?edit={row.name}@{row.version}")


@router.post("/models")
async def add(request: Request, viewer: Editor, data: Form) -> RedirectResponse:
    try:
        document = await _document(data, reader(request, viewer))
    except LeadqError as exc:
        flash(request, str(exc), "error")
        return back("/models?view=yaml")
    return await run_in_threadpool(_add, request, viewer, document)


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
