"""The import page: upload a CSV, see the mapping leadq proposes (the preset it recognised, the
field of every column, the first rows as they would be stored), change it, run it, and watch
its progress to the counts, warnings and rejected rows."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from leadq.domain.leads import PROFILE_FIELDS
from leadq.http.params import ImportPath
from leadq.logs import log
from leadq.services.errors import InvalidInput, LeadqError
from leadq.services.intake import imports, presets, uploads
from leadq.services.intake.imports import FLAG_COLUMNS, IGNORE
from leadq.services.intake.policy import IntakePolicy
from leadq.store.db import Database
from leadq.web.auth import Form, Viewer, require
from leadq.web.render import back, flash, page, reader

router = APIRouter(include_in_schema=False)
Importer = Annotated[Viewer, require("leads.write")]
TARGETS = [*PROFILE_FIELDS, *FLAG_COLUMNS, *presets.IMPORT_FIELDS]


def _policy(request: Request) -> IntakePolicy:
    policy: IntakePolicy = request.app.state.policy
    return policy


@router.get("/imports", response_class=HTMLResponse)
def imports_page(request: Request, viewer: Importer) -> HTMLResponse:
    db: Database = request.app.state.db
    with db.reading() as session:
        runs = uploads.recent(session)
    return page(request, "imports.html.j2", viewer, runs=runs,
                presets=list(presets.presets().values()))  # fmt: skip


@router.post("/imports")
async def upload(request: Request, viewer: Importer, data: Form) -> RedirectResponse:
    file = data.get("file")
    if not isinstance(file, UploadFile) or not file.filename:
        flash(request, reader(request, viewer).gettext("choose a CSV file to import"), "error")
        return back("/imports")
    content = await file.read(uploads.MAX_UPLOAD_BYTES + 1)
    db: Database = request.app.state.db
    now, name, who = datetime.now(UTC), file.filename, viewer.username
    try:
        run_id = await run_in_threadpool(
            db.run, lambda s: uploads.stage_upload(s, name, content, who, now).id)  # fmt: skip
    except LeadqError as exc:
        flash(request, str(exc), "error")
        return back("/imports")
    return back(f"/imports/{run_id}/mapping")


def _choices(data: FormData | None, header: list[str]) -> tuple[dict[str, str], str | None]:
    """The mapping and preset a person chose on the mapping form (none on a first visit)."""
    if data is None:
        return {}, None
    mapping = {}
    for i, column in enumerate(header):
        chosen = data.get(f"column-{i}")
        if isinstance(chosen, str) and chosen:
            mapping[column] = chosen
    preset = data.get("preset")
    return mapping, preset if isinstance(preset, str) and preset else None


def _mapping_page(request: Request, viewer: Viewer, run_id: int,
                  data: FormData | None) -> HTMLResponse:  # fmt: skip
    db: Database = request.app.state.db
    header = uploads.header(db, run_id)
    mapping, preset = _choices(data, header)
    problem = None
    try:
        chosen, rows = uploads.proposal(db, run_id, mapping, _policy(request), preset)
    except InvalidInput as exc:  # e.g. no e-mail column yet: the person maps one here
        known = preset if preset in presets.presets() else None
        chosen, rows, problem = (
            imports.plan(header, mapping, known, need_contact=False),
            [],
            str(exc),
        )
    with db.reading() as session:
        run = uploads.get_run(session, run_id)
    return page(request, "import_mapping.html.j2", viewer, 200 if problem is None else 422,
                run=run, plan=chosen, rows=rows, header=header, targets=TARGETS, ignore=IGNORE,
                presets=list(presets.presets().values()), problem=problem)  # fmt: skip


@router.get("/imports/{run_id}/mapping", response_class=HTMLResponse)
def mapping_page(request: Request, run_id: ImportPath, viewer: Importer) -> Response:
    try:
        return _mapping_page(request, viewer, run_id, None)
    except LeadqError as exc:
        flash(request, str(exc), "error")
        return back("/imports")


@router.post("/imports/{run_id}/mapping", response_class=HTMLResponse)
async def remap(request: Request, run_id: ImportPath, viewer: Importer, data: Form) -> Response:
    """The mapping form again, with the person's choices applied to the preview."""
    try:
        return await run_in_threadpool(_mapping_page, request, viewer, run_id, data)
    except LeadqError as exc:
        flash(request, str(exc), "error")
        return back(f"/imports/{run_id}/mapping")


@router.post("/imports/{run_id}/run")
async def run(request: Request, run_id: ImportPath, viewer: Importer, data: Form) -> Response:
    """Start the import in the background; its page shows the progress."""
    db: Database = request.app.state.db
    policy = _policy(request)
    try:
        header = await run_in_threadpool(uploads.header, db, run_id)
        mapping, preset = _choices(data, header)
        await run_in_threadpool(uploads.proposal, db, run_id, mapping, policy, preset)
        content = await run_in_threadpool(uploads.start, db, run_id)
    except LeadqError as exc:
        flash(request, str(exc), "error")
        return back(f"/imports/{run_id}/mapping")
    now = datetime.now(UTC)
    threading.Thread(target=_in_background, name=f"import-{run_id}", daemon=True,
                     args=(db, run_id, content, mapping, policy, now, preset)).start()  # fmt: skip
    return back(f"/imports/{run_id}")


def _in_background(db: Database, run_id: int, content: bytes, mapping: dict[str, str],
                   policy: IntakePolicy, now: datetime, preset: str | None) -> None:  # fmt: skip
    try:
        uploads.run_import(db, run_id, content, mapping, policy, now, preset)
    except Exception:  # recorded on the run; the page shows it
        log.exception("import.failed")


@router.get("/imports/{run_id}", response_class=HTMLResponse)
def run_page(request: Request, run_id: ImportPath, viewer: Importer) -> Response:
    db: Database = request.app.state.db
    try:
        with db.reading() as session:
            found = uploads.get_run(session, run_id)
            warnings = uploads.warnings_of(found)
    except LeadqError as exc:
        flash(request, str(exc), "error")
        return back("/imports")
    products = {p.name: p.product for p in [*presets.presets().values(), presets.GENERIC]}
    return page(request, "import_run.html.j2", viewer, run=found, warnings=warnings,
                products=products)  # fmt: skip


@router.get("/imports/{run_id}/rejects.csv")
def rejects_csv(request: Request, run_id: ImportPath, viewer: Importer) -> Response:
    db: Database = request.app.state.db
    with db.reading() as session:
        text = uploads.get_run(session, run_id).rejects or "line,reason\n"
    headers = {"content-disposition": f'attachment; filename="import-{run_id}-rejects.csv"'}
    return Response(text, media_type="text/csv", headers=headers)
