"""Imports sent over HTTP or the web page: the file is kept until it has run, the run reports
its progress, then its counts, rejected rows and warnings. The same presets, identity rules and
field-level checks as ``leadq import leads``: the run *is* that import, on the uploaded file."""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Select, and_, func, or_, select, true
from sqlalchemy.orm import Session

from leadq.services.errors import Conflict, FieldError, InvalidInput, NotFound
from leadq.services.intake import imports
from leadq.services.intake.policy import IntakePolicy
from leadq.services.privacy import audit
from leadq.store.db import Database
from leadq.store.tables import ImportRun

MAX_UPLOAD_BYTES = 50 * 2**20
DRAFT, RUNNING, DONE, FAILED = "draft", "running", "done", "failed"
SHOWN_WARNINGS = 100
Proposal = tuple[imports.Plan, list[tuple[int, imports.Prepared | str]]]
"""The plan for a file, and its first rows as leads (or why each is refused)."""


def stage_upload(session: Session, file_name: str, content: bytes, actor: str,
                 now: datetime, encoding: str = "utf-8") -> ImportRun:  # fmt: skip
    """Keep the file for its run; refused at once if it cannot be read as CSV text."""
    if not content.strip():
        raise InvalidInput([FieldError("file", "empty file: expected a header row")])
    if len(content) > MAX_UPLOAD_BYTES:
        raise InvalidInput([FieldError("file", f"over {MAX_UPLOAD_BYTES // 2**20} MB")])
    name = Path(file_name or "upload.csv").name[:255] or "upload.csv"
    with _as_file(content, name) as path:
        try:
            _, lines = imports.header_of(path, encoding)
        except imports.ImportError_ as exc:
            raise InvalidInput([FieldError("file", str(exc).replace(str(path), name))]) from None
    run = ImportRun(file_name=name, actor=actor, status=DRAFT, content=content,
                    total_rows=max(lines - 1, 0), done_rows=0, created_at=now)  # fmt: skip
    session.add(run)
    session.flush()
    return run


@contextmanager
def _as_file(content: bytes, name: str) -> Iterator[Path]:
    """The upload as a file of its own name in a private folder (the reports name it)."""
    with tempfile.TemporaryDirectory(prefix="leadq-import-") as folder:
        path = Path(folder) / name
        path.write_bytes(content)
        yield path


def get_run(session: Session, run_id: int) -> ImportRun:
    run = session.get(ImportRun, run_id)
    if run is None:
        raise NotFound("import", run_id)
    return run


def recent(session: Session, limit: int = 20) -> list[ImportRun]:
    return list(session.scalars(select(ImportRun).order_by(ImportRun.id.desc()).limit(limit)))


def _file(db: Database, run_id: int) -> tuple[bytes, str]:
    """The run's file and its name, while it has not run."""
    with db.reading() as session:
        run = get_run(session, run_id)
        content, name = run.content, run.file_name
    if content is None:
        raise Conflict("import", f"import {run_id} has run; its file is gone")
    return content, name


def header(db: Database, run_id: int) -> list[str]:
    """The column names of the run's file."""
    content, name = _file(db, run_id)
    with _as_file(content, name) as path:
        return imports.header_of(path)[0]


def proposal(db: Database, run_id: int, mapping: dict[str, str], policy: IntakePolicy,
             preset: str | None = None, stages: dict[str, str] | None = None,
             ) -> Proposal:  # fmt: skip
    """What the run would do with this mapping: the plan and the first rows."""
    content, name = _file(db, run_id)
    with _as_file(content, name) as path:

        def preview() -> Proposal:
            return imports.preview(path, mapping, policy, "utf-8", preset, stages)

        found: Proposal = _user_error(preview, path, name)
    return found


def _user_error(work: Any, path: Path, name: str) -> Any:
    try:
        return work()
    except imports.ImportError_ as exc:
        raise InvalidInput([FieldError("mapping", str(exc).replace(str(path), name))]) from None


def discard(db: Database, run_id: int) -> None:
    """Forget a run that has not started (its file held people's data)."""
    with db.unit_of_work() as session:
        run = session.get(ImportRun, run_id, with_for_update=True)
        if run is not None and run.status == DRAFT:
            session.delete(run)


def start(db: Database, run_id: int) -> bytes:
    """Mark the run as running (once: a second start is refused); returns its file."""
    with db.unit_of_work() as session:
        run = session.get(ImportRun, run_id, with_for_update=True)
        if run is None:
            raise NotFound("import", run_id)
        if run.status != DRAFT or run.content is None:
            raise Conflict("import", f"import {run_id} is {run.status}")
        run.status = RUNNING
        return run.content


def run_import(db: Database, run_id: int, content: bytes, mapping: dict[str, str],
               policy: IntakePolicy, now: datetime, preset: str | None = None,
               stages: dict[str, str] | None = None) -> ImportRun:  # fmt: skip
    """Import the started run's file; progress is written as it goes, the outcome at the end
    (a failure is recorded on the run, never lost)."""
    with db.reading() as session:
        run = get_run(session, run_id)
        name, actor = run.file_name, run.actor
    done = 0

    def advance(rows: int) -> None:
        nonlocal done
        done += rows
        if done % 500 < rows:  # about once a chunk
            _progress(db, run_id, done)

    with _as_file(content, name) as path:
        rejects, warnings = path.with_name("rejects.csv"), path.with_name("warnings.csv")
        try:
            summary = _user_error(lambda: imports.import_leads(
                db, path, mapping, policy, now, rejects, "utf-8", advance, warnings,
                preset_name=preset, stages=stages), path, name)  # fmt: skip
        except Exception as exc:
            _finish(db, run_id, now, error=str(exc)[:2000] or type(exc).__name__)
            raise
        texts = (_text(rejects), _text(warnings))
    _finish(db, run_id, now, summary=_summary(summary), texts=texts, actor=actor)
    with db.reading() as session:
        return get_run(session, run_id)


def _text(path: Path) -> str | None:
    """A report file's text for the database (a rejected row may hold a NUL, which PostgreSQL
    text cannot: it is shown as U+FFFD)."""
    return path.read_text(encoding="utf-8").replace("\x00", "\ufffd") if path.exists() else None


def _summary(summary: imports.Summary) -> dict[str, Any]:
    found = asdict(summary)
    found["unmapped_statuses"] = dict(summary.unmapped_statuses)
    for key in ("rejects_file", "warnings_file"):
        found.pop(key)
    return found


def _progress(db: Database, run_id: int, done: int) -> None:
    with db.unit_of_work() as session:
        run = session.get(ImportRun, run_id)
        if run is not None:
            run.done_rows = min(done, run.total_rows)


def _finish(db: Database, run_id: int, now: datetime, summary: dict[str, Any] | None = None,
            texts: tuple[str | None, str | None] = (None, None), error: str | None = None,
            actor: str | None = None) -> None:  # fmt: skip
    with db.unit_of_work() as session:
        run = session.get(ImportRun, run_id, with_for_update=True)
        assert run is not None
        run.status = FAILED if error else DONE
        run.summary, run.error, run.finished_at = summary, error, now
        run.rejects, run.warnings = texts
        run.content = None  # the file held people's data: it is not kept once imported
        if not error:
            run.done_rows = run.total_rows
            counts = {k: v for k, v in (summary or {}).items() if isinstance(v, int)}
            audit.record(session, actor or run.actor, "import.done", "import", run.id, counts,
                         now)  # fmt: skip


def warnings_of(run: ImportRun, limit: int = SHOWN_WARNINGS) -> list[dict[str, str]]:
    """The first warnings as ``{line, field, reason}``."""
    if not run.warnings:
        return []
    rows = list(csv.DictReader(io.StringIO(run.warnings)))
    return rows[:limit]


# -- privacy: what an import kept about people -------------------------------------------------

ERASED_FILE = "the file named a person who was since erased: upload it again"


def forget_person(session: Session, texts: list[str], name: tuple[str, ...] = ()) -> int:
    """Erasure: drop the rejected and warned rows that name the person — holding one of
    ``texts`` (e-mail, phone) or every part of ``name`` as cells — and a staged file holding one
    of ``texts``; returns how many runs changed."""
    person = _Person([t.lower() for t in texts if t], {n.lower() for n in name if n})
    changed = 0
    for run in session.scalars(_naming(person).order_by(ImportRun.id)):
        touched = False
        for field in ("rejects", "warnings"):
            kept = _rows_without(getattr(run, field), person)
            if kept is not None:
                setattr(run, field, kept)
                touched = True
        if run.status == DRAFT and run.content is not None and person.in_file(run.content):
            run.content, run.status, run.error = None, FAILED, ERASED_FILE
            touched = True
        changed += touched
    return changed


def _naming(person: _Person) -> Select[ImportRun]:
    """The runs that may name the person, found by the database (an erasure by retention runs
    once per lead: it must not read every run's rows each time); drafts are checked here."""
    mentions = []
    for column in (ImportRun.rejects, ImportRun.warnings):
        text = func.lower(column)
        mentions += [_holds(text, needle) for needle in person.texts]
        if person.name:
            mentions.append(and_(*(_holds(text, part) for part in person.name)))
    return select(ImportRun).where(or_(ImportRun.status == DRAFT, *mentions))


def _holds(text: Any, needle: str) -> Any:
    """Whether lower-cased text may hold the needle: SQLite (and PostgreSQL under the C locale)
    lower-case ASCII only, so a needle with other letters lets every run through to the exact
    check."""
    return text.contains(needle, autoescape=True) if needle.isascii() else true()


@dataclass(frozen=True)
class _Person:
    texts: list[str]
    name: set[str]

    def in_row(self, row: list[str]) -> bool:
        cells = {cell.strip().lower() for cell in row}
        line = ",".join(row).lower()
        return any(t in line for t in self.texts) or bool(self.name and self.name <= cells)

    def in_file(self, content: bytes) -> bool:
        text = content.decode("utf-8", errors="replace").lower()
        return any(t in text for t in self.texts)


def _rows_without(text: str | None, person: _Person) -> str | None:
    """The CSV text without the rows that name the person (the header stays); ``None`` when
    no row does."""
    if not text:
        return None
    rows = list(csv.reader(io.StringIO(text)))
    kept = rows[:1] + [row for row in rows[1:] if not person.in_row(row)]
    if len(kept) == len(rows):
        return None
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(kept)
    return out.getvalue()


def expire(session: Session, before: datetime, dry_run: bool = False) -> int:
    """Retention: runs that ended before ``before`` keep their counts only; their rejected and
    warned rows (people's data) and any file left go. Returns how many runs that touched."""
    old = select(ImportRun).where(
        ImportRun.created_at < before,
        ImportRun.status.in_((DONE, FAILED, DRAFT)),
        (ImportRun.rejects.is_not(None)) | (ImportRun.warnings.is_not(None))
        | (ImportRun.content.is_not(None)),
    )  # fmt: skip
    runs = list(session.scalars(old))
    if not dry_run:
        for run in runs:
            run.rejects = run.warnings = run.content = None
            if run.status == DRAFT:
                run.status, run.error = FAILED, "never run; its file was removed by retention"
    return len(runs)
