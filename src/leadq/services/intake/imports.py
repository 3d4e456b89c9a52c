"""CSV import and export: every row is imported, merged or rejected with its line and reason.

Rows are committed in chunks, and every write is idempotent (leads merge by dedup key,
events carry an idempotency key derived from the row when the file has none), so running
an import again — or after a crash half-way — creates nothing twice.
"""

from __future__ import annotations

import codecs
import csv
import functools
import gc
import json
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any, ParamSpec, TypeVar

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadq.domain.boundary import problems, text_problem
from leadq.domain.leads import (
    ATTRIBUTE_PREFIX,
    PROFILE_FIELDS,
    InvalidContact,
    LeadInput,
    slug,
)
from leadq.services.automation import reactions as automation
from leadq.services.errors import FieldError, InvalidInput, LeadqError
from leadq.services.intake import presets
from leadq.services.intake.event_files import EventReader, named_leads
from leadq.services.intake.events import EventRow, record_rows
from leadq.services.intake.leads import PLACEHOLDER_SOURCE, Arrival, History, Outcome, upsert_leads
from leadq.services.intake.policy import IntakePolicy
from leadq.services.intake.presets import CREATED_AT, IMPORT_FIELDS, STATUS, Preset
from leadq.services.scoring import queue
from leadq.store.db import Database
from leadq.store.sql import compared_columns, refresh_statistics
from leadq.store.tables import Base, Company, Event, Lead

CHUNK_ROWS = 500
"""Lead rows per transaction."""
EVENT_CHUNK_ROWS = 50_000
"""Event rows per transaction (an event row costs a fraction of a lead row). Each chunk asks
for its leads' rescoring once: at 5,000 rows, a file of 100,000 events of 5,000 people queued
a request per event, and the chunks took a fifth longer; 1,000,000 events of 20,000 people
took 63 s on SQLite in chunks of 20,000 (650,000 requests), 56 s in chunks of 50,000."""
EXPORT_ONLY = (
    "id",
    "stage",
    "channels",
    "company_id",
    "score",
    "grade",
    "fit_grade",
    "engagement_grade",
    "model",
    "created_at",
    "updated_at",
    "last_activity_at",
)
FLAG_COLUMNS = ("do_not_email", "do_not_call")
"""Columns that set Do Not Email / Do Not Call (yes/true/1); an import never clears them."""
LEAD_TARGETS = (*PROFILE_FIELDS, *FLAG_COLUMNS)
IGNORE = "-"
"""A mapping target that leaves the column out."""
FIELD_LIST = ", ".join((*PROFILE_FIELDS, *FLAG_COLUMNS, "status", "created_at"))


class ImportError_(LeadqError):
    """The file as a whole cannot be imported (encoding, header, mapping); nothing was written."""


@dataclass
class Summary:
    created: int = 0
    merged: int = 0
    unchanged: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    warned: int = 0
    automation_withheld: int = 0
    """Leads the automation rules did not react to (``LEADQ_IMPORT_AUTOMATION``)."""
    preset: str | None = None
    unmapped_statuses: Counter[str] = field(default_factory=Counter)
    """CRM statuses the preset's table does not know: those leads start as new leads."""
    ignored_columns: list[str] = field(default_factory=list)
    rejects_file: Path | None = None
    warnings_file: Path | None = None


@dataclass(frozen=True)
class Row:
    line: int
    values: dict[str, str]
    raw: list[str]


Progress = Callable[[int], None]
T = TypeVar("T")
P = ParamSpec("P")


def count_lines(path: Path, encoding: str) -> int:
    """Lines in the file; reading it whole first proves the encoding before anything is written."""
    try:
        decoder = codecs.getincrementaldecoder(encoding)()
    except LookupError:
        raise ImportError_(f"unknown encoding {encoding!r}") from None
    lines = offset = 0
    try:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                try:
                    lines += decoder.decode(block).count("\n")
                except UnicodeDecodeError as exc:
                    line = lines + block[: exc.start].count(b"\n") + 1
                    raise ImportError_(
                        f"{path}: not {encoding} text at line {line} (byte {offset + exc.start});"
                        " pass --encoding, e.g. cp1250 or latin-1"
                    ) from None
                offset += len(block)
    except OSError as exc:
        raise ImportError_(f"{path}: {exc.strerror or exc}") from None
    return lines


def _open(path: Path, encoding: str) -> IO[str]:
    return path.open(
        encoding="utf-8-sig" if encoding.lower() in ("utf-8", "utf8") else encoding, newline=""
    )


def _records(
    reader: Any, header: list[str], progress: Progress | None
) -> Iterator[Row | tuple[int, list[str], str]]:
    """Rows keyed by header, or ``(line, raw, reason)`` for a row that cannot be read."""
    names_storable = text_problem("".join(header)) is None
    for line, raw in numbered_rows(reader, progress):
        if isinstance(raw, str):
            yield line, [], raw
        elif len(raw) != len(header):
            yield line, raw, f"row has {len(raw)} fields, header has {len(header)}"
        else:
            values = {h: from_spreadsheet_safe(v) for h, v in zip(header, raw, strict=True)}
            # one look at the whole row's text; only a row that fails it is walked cell by cell
            # for the name of the cell (undoing a formula's quote adds no character)
            storable = names_storable and text_problem("".join(raw)) is None
            found = None if storable else next(problems(values), None)
            if found is not None:
                yield line, raw, f"{found[0]}: {found[1]}"
            else:
                yield Row(line, {h: v for h, v in values.items() if v.strip()}, raw)


def numbered_rows(reader: Any, progress: Progress | None = None,
                  ) -> Iterator[tuple[int, list[str] | str]]:  # fmt: skip
    """``(first line number, cells)`` of each non-blank row of a CSV reader, or ``(line,
    reason)`` for one the CSV module cannot read; reading goes on after it."""
    line = reader.line_num + 1
    while True:
        try:
            raw = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield line, f"unreadable CSV: {exc}"
            line = reader.line_num + 1
            continue
        if progress:
            progress(reader.line_num - line + 1)
        if any(cell.strip() for cell in raw):
            yield line, raw
        line = reader.line_num + 1


class _Rejects:
    """The reject file: the line number, the reason, then the row as it was."""

    def __init__(self, path: Path, header: list[str]) -> None:
        self.path = path
        self.header = header
        self.count = 0
        self._handle: IO[str] | None = None
        self._writer: Any = None

    def add(self, line: int, raw: list[str], reason: str) -> None:
        if self._handle is None:
            self._handle = self.path.open("w", encoding="utf-8", newline="")
            self._writer = csv.writer(self._handle)
            self._writer.writerow(["line", "reason", *self.header])
        self._writer.writerow([line, reason, *raw])
        self.count += 1

    def close(self) -> Path | None:
        if self._handle is None:
            self.path.unlink(missing_ok=True)
            return None
        self._handle.close()
        return self.path


class _Warnings(_Rejects):
    """The warnings file: rows stored with a value set aside, by line, field and reason."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, [])

    def warn(self, line: int, warning: FieldError) -> None:
        if self._handle is None:
            self._handle = self.path.open("w", encoding="utf-8", newline="")
            self._writer = csv.writer(self._handle)
            self._writer.writerow(["line", "field", "reason"])
        self._writer.writerow([line, warning.field, warning.reason])
        self.count += 1


class _RareCollections:
    """Python's cycle collector runs after every 700 new objects and walks the young ones: an
    import makes tens of millions (rows, dicts, models) that hold no cycles, and the walks
    took a tenth of its time. While imports run it runs a hundred times less often; imports
    overlap in the server (uploads), so the last one to end puts the threshold back."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running = 0
        self._saved = gc.get_threshold()

    def __call__(self, function: Callable[P, T]) -> Callable[P, T]:
        @functools.wraps(function)
        def rarely(*args: P.args, **kwargs: P.kwargs) -> T:
            with self._lock:
                if self._running == 0:
                    self._saved = gc.get_threshold()
                    young, *older = self._saved
                    gc.set_threshold(young * 100, *older)
                self._running += 1
            try:
                return function(*args, **kwargs)
            finally:
                with self._lock:
                    self._running -= 1
                    if self._running == 0:
                        gc.set_threshold(*self._saved)

        return rarely


rarely_collecting = _RareCollections()


def _header(reader: Any, path: Path) -> list[str]:
    try:
        header = next(reader)
    except StopIteration:
        raise ImportError_(f"{path}: empty file, expected a header row") from None
    except csv.Error as exc:
        raise ImportError_(f"{path}: unreadable header: {exc}") from None
    header = [h.strip() for h in header]
    if not any(header) or any(not h for h in header):
        raise ImportError_(f"{path}: header has an empty column name")
    duplicates = sorted({h for h in header if header.count(h) > 1})
    if duplicates:
        raise ImportError_(f"{path}: header repeats column(s) {', '.join(duplicates)}")
    return header


def header_of(path: Path, encoding: str = "utf-8") -> tuple[list[str], int]:
    """The file's column names and its number of lines, once the whole file has proved
    readable in ``encoding``."""
    lines = count_lines(path, encoding)
    with _open(path, encoding) as handle:
        return _header(csv.reader(handle), path), lines


def _errors(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"]) or "row"
        parts.append(f"{where}: {str(error['msg']).removeprefix('Value error, ')}")
    return "; ".join(parts)


# -- leads -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """How a file's columns become a lead: the fields each fills, and how to read its status
    and dates (the preset, and the user's own status → stage table)."""

    targets: dict[str, str]
    ignored: list[str]
    preset: Preset
    stages: dict[str, str] = field(default_factory=dict)


def lead_columns(header: list[str], mapping: dict[str, str], preset: Preset | None = None,
                 need_contact: bool = True) -> tuple[dict[str, str], list[str]]:  # fmt: skip
    """Which lead field each column fills: ``--map`` first, then the preset, then canonical
    names, else a custom attribute. Export-only columns (id, stage, score…) are ignored and
    reported."""
    unknown = sorted(set(mapping) - set(header))
    if unknown:
        raise ImportError_(f"--map names column(s) not in the header: {', '.join(unknown)}")
    by_preset = preset.column_targets(header) if preset else {}
    chosen = {**by_preset, **mapping}
    targets: dict[str, str] = {}
    ignored: list[str] = []
    for column in header:
        target = chosen.get(column) or (
            column if column.startswith(ATTRIBUTE_PREFIX) else slug(column)
        )
        if target == IGNORE or (target in EXPORT_ONLY and column not in chosen):
            ignored.append(column)
        elif target in (*LEAD_TARGETS, *IMPORT_FIELDS) or target.startswith(ATTRIBUTE_PREFIX):
            targets[column] = target
        elif column in mapping:
            raise ImportError_(f"--map {column}={target}: no lead field {target!r}; the fields"
                               f" are {FIELD_LIST}, or attributes.NAME")  # fmt: skip
        else:
            targets[column] = ATTRIBUTE_PREFIX + column
    if need_contact and not {"email", "phone"} & set(targets.values()):
        raise ImportError_("no email or phone column: map one, e.g. --map 'E-mail=email'; the"
                           f" fields are {FIELD_LIST}")  # fmt: skip
    return targets, ignored


def plan(header: list[str], mapping: dict[str, str], preset_name: str | None = None,
         stages: dict[str, str] | None = None, need_contact: bool = True) -> Plan:  # fmt: skip
    """The mapping for this header: the named preset, else the one the header fits, else
    leadq's own column names. ``need_contact=False`` gives a draft for a person to complete
    (no e-mail or phone column mapped yet)."""
    if preset_name is not None:
        preset = presets.presets().get(preset_name)
        if preset is None:
            raise ImportError_(f"--preset {preset_name!r}: the presets are"
                               f" {', '.join(presets.presets())}")  # fmt: skip
    else:
        preset = presets.detect(header) or presets.GENERIC
    for status, stage in (stages or {}).items():
        if stage not in presets.STAGES:
            raise ImportError_(f"--stage {status}={stage}: the stages are"
                               f" {', '.join(presets.STAGES)}")  # fmt: skip
    targets, ignored = lead_columns(header, mapping, preset, need_contact)
    return Plan(targets, ignored, preset, dict(stages or {}))


@dataclass(frozen=True)
class Prepared:
    lead: LeadInput
    line: int
    warnings: list[FieldError]
    history: History


def _lead_input(row: Row, chosen: Plan, policy: IntakePolicy) -> Prepared:
    data: dict[str, Any] = {"attributes": {}}
    for column, value in row.values.items():
        target = chosen.targets.get(column)
        if target is None:
            continue
        if target.startswith(ATTRIBUTE_PREFIX):
            data["attributes"][target.removeprefix(ATTRIBUTE_PREFIX)] = value
        else:
            data[target] = value
    data.setdefault("source", PLACEHOLDER_SOURCE)
    history, warnings = _history(data, chosen)
    lead, field_warnings = _usable(data)
    lead, phone_warnings = policy.lenient(lead)
    return Prepared(lead, row.line, warnings + field_warnings + phone_warnings, history)


def _history(data: dict[str, Any], chosen: Plan) -> tuple[History, list[FieldError]]:
    """The row's creation time and status, taken out of ``data``; the status is kept as
    ``attributes.crm_status`` too, and a date that cannot be read is set aside."""
    warnings: list[FieldError] = []
    created = None
    if (text := data.pop(CREATED_AT, None)) is not None:
        try:
            created = chosen.preset.created(text)
        except ValueError as exc:
            data["attributes"][f"{CREATED_AT}_raw"] = text[:1000]
            warnings.append(FieldError(CREATED_AT, f"{exc}; kept as written in"
                                                   f" attributes.{CREATED_AT}_raw"))  # fmt: skip
    status = data.pop(STATUS, None)
    stage = None
    if status is not None:
        data["attributes"]["crm_status"] = status[:1000]
        stage = chosen.preset.stage_of(status, chosen.stages)
    return History(created, stage, status), warnings


def _usable(data: dict[str, Any]) -> tuple[LeadInput, list[FieldError]]:
    """The row as a lead, each value that cannot be its field's set aside as written in
    ``attributes.FIELD_raw`` with a warning; only a row left with neither a usable e-mail nor
    phone is refused (``ValidationError``)."""
    warnings: list[FieldError] = []
    for _ in range(len(PROFILE_FIELDS)):
        try:
            return LeadInput.model_validate(data), warnings
        except ValidationError as exc:
            bad = {str(e["loc"][0]): _reason(e) for e in exc.errors()
                   if e["loc"] and e["loc"][0] in PROFILE_FIELDS
                   and e["loc"][0] in data}  # fmt: skip
            if not bad and warnings:  # what was set aside left no way to reach the person
                set_aside = [FieldError(w.field, w.reason.split("; kept as written")[0])
                             for w in warnings]  # fmt: skip
                no_way = FieldError("row", "no usable e-mail or phone")
                raise InvalidInput([*set_aside, no_way]) from None
            if not bad:
                raise
            for name, reason in bad.items():
                data["attributes"][f"{name}_raw"] = str(data.pop(name))[:1000]
                warnings.append(FieldError(name, f"{reason}; kept as written in"
                                                 f" attributes.{name}_raw"))  # fmt: skip
    raise AssertionError("every field was set aside")  # each pass removes one at least


def _reason(error: Any) -> str:
    return str(error["msg"]).removeprefix("Value error, ")


@contextmanager
def _reading(
    path: Path, encoding: str, rejects_path: Path, summary: Summary
) -> Iterator[tuple[Any, list[str], _Rejects]]:
    """The CSV reader, its header and the reject file; the summary gets the reject count."""
    count_lines(path, encoding)
    with _open(path, encoding) as handle:
        reader = csv.reader(handle)
        header = _header(reader, path)
        rejects = _Rejects(rejects_path, header)
        yield reader, header, rejects
    summary.rejected = rejects.count
    summary.rejects_file = rejects.close()


def _chunks(
    reader: Any,
    header: list[str],
    rejects: _Rejects,
    progress: Progress | None,
    prepare: Callable[[Row], T],
    size: int,
) -> Iterator[list[T]]:
    """Prepared rows in chunks of ``size``; a row that cannot be read or prepared goes
    to the reject file, in line order."""
    chunk: list[T] = []
    for record in _records(reader, header, progress):
        if not isinstance(record, Row):
            rejects.add(*record)
            continue
        try:
            chunk.append(prepare(record))
        except ValidationError as exc:
            rejects.add(record.line, record.raw, _errors(exc))
        except InvalidInput as exc:
            rejects.add(record.line, record.raw, str(exc))
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@rarely_collecting
def import_leads(
    db: Database,
    path: Path,
    mapping: dict[str, str],
    policy: IntakePolicy,
    now: datetime,
    rejects_path: Path,
    encoding: str = "utf-8",
    progress: Progress | None = None,
    warnings_path: Path | None = None,
    preset_name: str | None = None,
    stages: dict[str, str] | None = None,
) -> Summary:
    summary = Summary()
    actor = f"import:{path.name}"
    with _reading(path, encoding, rejects_path, summary) as (reader, header, rejects):
        chosen = plan(header, mapping, preset_name, stages)
        summary.ignored_columns, summary.preset = chosen.ignored, chosen.preset.name

        def prepare(row: Row) -> Prepared:
            return _lead_input(row, chosen, policy)

        warned = _Warnings(warnings_path or _beside(path, "warnings"))
        history: set[int] = set()
        chunks = _chunks(reader, header, rejects, progress, prepare, CHUNK_ROWS)
        for count, leads in enumerate(chunks, start=1):
            for item in leads:
                for warning in item.warnings:
                    warned.warn(item.line, warning)
                if item.history.status and item.history.stage is None:
                    summary.unmapped_statuses[item.history.status] += 1
            _store_leads(db, leads, actor, now, policy, summary, history)
            _as_it_grows(db, count, Lead, Company)
        summary.warned, summary.warnings_file = warned.count, warned.close()
    db.run(lambda session: refresh_statistics(session, Lead, Company))
    summary.automation_withheld = len(history)
    return summary


def preview(path: Path, mapping: dict[str, str], policy: IntakePolicy, encoding: str = "utf-8",
            preset_name: str | None = None, stages: dict[str, str] | None = None,
            rows: int = 5) -> tuple[Plan, list[tuple[int, Prepared | str]]]:  # fmt: skip
    """What an import would do, writing nothing: the plan and the first rows as leads (or the
    reason each would be rejected)."""
    count_lines(path, encoding)
    with _open(path, encoding) as handle:
        reader = csv.reader(handle)
        header = _header(reader, path)
        chosen = plan(header, mapping, preset_name, stages)
        shown: list[tuple[int, Prepared | str]] = []
        for record in _records(reader, header, None):
            if len(shown) >= rows:
                break
            if not isinstance(record, Row):
                shown.append((record[0], record[2]))
                continue
            try:
                shown.append((record.line, _lead_input(record, chosen, policy)))
            except ValidationError as exc:
                shown.append((record.line, _errors(exc)))
            except InvalidInput as exc:
                shown.append((record.line, str(exc)))
    return chosen, shown


def _beside(path: Path, kind: str) -> Path:
    """``FILE.KIND.csv`` in the input's folder."""
    return path.with_name(f"{path.stem}.{kind}.csv")


def _store_leads(
    db: Database,
    chunk: list[Prepared],
    actor: str,
    now: datetime,
    policy: IntakePolicy,
    summary: Summary,
    history: set[int],
) -> None:
    """One chunk in one transaction. ``history`` gathers, over the whole file, the leads whose
    happenings automation is not to react to: once a file dates a person, they are history."""
    if not chunk:
        return

    def work(session: Session) -> tuple[list[Outcome], set[int]]:
        arrivals = [Arrival(item.lead, item.history) for item in chunk]
        results = upsert_leads(session, arrivals, actor, now, policy, vectorised=True)
        # kept apart until the commit: a retried chunk starts afresh
        pairs = zip(results, chunk, strict=True)
        dated = {r.lead.id for r, item in pairs if _withheld(item, policy)}
        automation.withhold(session, history | dated)
        return [r.outcome for r in results], dated

    outcomes, dated = db.run(work)
    history |= dated
    for outcome in outcomes:
        setattr(summary, outcome.value, getattr(summary, outcome.value) + 1)


LOOKED_UP: dict[type[Base], tuple[str, ...]] = {
    Lead: ("id", "email", "phone", "company_id", "merged_into_id", "erased_at"),
    Company: ("id", "domain"),
    Event: ("id", "lead_id", "idempotency_key"),
}
"""The columns an import's own statements find rows by: the statistics it refreshes as a
table grows (once it is done, every column's)."""


def _as_it_grows(db: Database, chunks: int, *models: type[Base]) -> None:
    """Refresh the tables' statistics after chunk 1, 2, 4, 8…: as often as they may have
    doubled (a bulk load planned on an empty table's statistics scans it whole per row it
    joins; the accounts' lookup by domain, planned once for every chunk, scanned 5,000
    accounts per chunk: 3 s of a 40,000-lead import)."""
    if chunks & (chunks - 1) != 0:
        return

    def refresh(session: Session) -> None:
        for model in models:
            refresh_statistics(session, model, columns=LOOKED_UP[model])

    db.run(refresh)


def _withheld(item: Prepared, policy: IntakePolicy) -> bool:
    """Whether automation leaves this row's lead alone: ``new-only`` withholds the leads of
    rows another CRM dates (the history a migration brings), ``none`` every row's."""
    if policy.import_automation == "none":
        return True
    return policy.import_automation == "new-only" and item.history.created_at is not None


# -- events ------------------------------------------------------------------------------------


RESCORE_BATCH = 2_000
"""Leads an events import rescores per transaction once its events are stored."""


@rarely_collecting
def import_events(
    db: Database,
    path: Path,
    policy: IntakePolicy,
    now: datetime,
    rejects_path: Path,
    encoding: str = "utf-8",
    progress: Progress | None = None,
) -> Summary:
    """Store the file's events chunk by chunk, each chunk with a rescoring request per lead
    (the queue the API's events use), then rescore every lead the file touched once, as of
    ``now``: a lead with events all through the file is not rescored per chunk. A killed
    import leaves its requests to any drainer (``leadq serve``, ``leadq worker``, the rerun)."""
    summary = Summary()
    with _reading(path, encoding, rejects_path, summary) as (reader, header, rejects):
        if "type" not in header or "occurred_at" not in header:
            raise ImportError_(f"{path}: an events file needs 'type' and 'occurred_at' columns")
        if not {"lead_id", "email", "phone"} & set(header):
            raise ImportError_(f"{path}: name the lead with a 'lead_id', 'email' or 'phone' column")
        chunks = _chunks(reader, header, rejects, progress, lambda row: row, EVENT_CHUNK_ROWS)
        for count, rows in enumerate(chunks, start=1):
            _store_events(db, rows, policy, now, rejects, summary)
            _as_it_grows(db, count, Event)
    db.run(_refresh_after_events)
    queue.drain(db, lambda: now, RESCORE_BATCH, vectorised=True)
    return summary


def _refresh_after_events(session: Session) -> None:
    """Events move their leads' activity, scores and stages, never what the search index or
    the JSON hold: those statistics stand (a whole ``ANALYZE leads`` took 1.2 s at 36,000
    leads, the columns statements compare 0.7 s)."""
    refresh_statistics(session, Lead, columns=compared_columns(Lead))
    refresh_statistics(session, Event)


def _store_events(
    db: Database,
    chunk: list[Row],
    policy: IntakePolicy,
    now: datetime,
    rejects: _Rejects,
    summary: Summary,
) -> None:
    if not chunk:
        return

    def work(session: Session) -> tuple[int, int, list[tuple[Row, str]]]:
        reader = EventReader(named_leads(session, [row.values for row in chunk], policy),
                             policy, now)  # fmt: skip
        valid: list[EventRow] = []
        refused: list[tuple[Row, str]] = []
        for row in chunk:
            try:
                valid.append(reader.row(row.values))
            except ValidationError as exc:
                refused.append((row, _errors(exc)))
            except (ValueError, InvalidContact) as exc:
                refused.append((row, str(exc)))
        recorded = record_rows(session, valid, now, policy.clock_skew, queued=True)
        return recorded.accepted, recorded.duplicates, refused

    accepted, duplicates, refused = db.run(work)
    summary.accepted += accepted
    summary.duplicates += duplicates
    for row, reason in refused:
        rejects.add(row.line, row.raw, reason)


# -- export ------------------------------------------------------------------------------------


def export_leads(session: Session, out: IO[str]) -> int:
    """All leads as CSV with canonical headers; custom fields as ``attributes.<name>`` columns,
    so the file imports back into leadq as it is."""
    attribute_names: set[str] = set()
    for attributes in session.scalars(select(Lead.attributes)):
        attribute_names.update(attributes)
    extra = sorted(attribute_names)
    writer = csv.writer(out)
    writer.writerow(
        [
            "id",
            *PROFILE_FIELDS,
            "stage",
            "channels",
            "score",
            "grade",
            "created_at",
            "last_activity_at",
            *(ATTRIBUTE_PREFIX + a for a in extra),
        ]
    )
    count = 0
    for lead in session.scalars(select(Lead).order_by(Lead.id).execution_options(yield_per=1000)):
        writer.writerow(
            [
                lead.id,
                *(_cell(getattr(lead, f)) for f in PROFILE_FIELDS),
                lead.stage,
                ";".join(lead.channels),
                _cell(lead.score),
                _cell(lead.grade),
                lead.created_at.isoformat(),
                _cell(lead.last_activity_at),
                *(_cell(lead.attributes.get(a)) for a in extra),
            ]
        )
        count += 1
    return count


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return spreadsheet_safe(str(value))


_FORMULA = re.compile(r"^[=@\t\r]|^[+-](?![\d\s().-]*$)")


def spreadsheet_safe(text: str) -> str:
    """Quote a cell a spreadsheet would run as a formula (``=HYPERLINK(…)``, ``@SUM``): lead
    data comes from the public, and exports are opened in Excel. Numbers and phone numbers
    (``+48 601…``, ``-5``) are left alone."""
    return "'" + text if _FORMULA.match(text) else text


def from_spreadsheet_safe(text: str) -> str:
    """Undo ``spreadsheet_safe``, so an exported file imports back unchanged."""
    return text[1:] if text.startswith("'") and _FORMULA.match(text[1:]) else text
