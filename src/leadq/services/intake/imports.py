"""CSV import and export: every row is imported, merged or rejected with its line and reason.

Rows are committed in chunks, and every write is idempotent (leads merge by dedup key,
events carry an idempotency key derived from the row when the file has none), so running
an import again — or after a crash half-way — creates nothing twice.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any, TypeVar

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadq.domain.boundary import problems
from leadq.domain.events import EventInput, check_not_future
from leadq.domain.ids import REASON, canonical_id
from leadq.domain.leads import (
    ATTRIBUTE_PREFIX,
    PROFILE_FIELDS,
    InvalidContact,
    LeadInput,
    normalise_email,
    normalise_phone,
    slug,
)
from leadq.services.errors import InvalidInput, LeadqError
from leadq.services.intake.events import record_events
from leadq.services.intake.leads import Outcome, upsert_lead
from leadq.services.intake.policy import IntakePolicy
from leadq.store.db import Database
from leadq.store.tables import Lead

CHUNK_ROWS = 500
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
EVENT_COLUMNS = ("lead_id", "email", "phone", "type", "occurred_at", "channel", "idempotency_key")


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
    ignored_columns: list[str] = field(default_factory=list)
    rejects_file: Path | None = None


@dataclass(frozen=True)
class Row:
    line: int
    values: dict[str, str]
    raw: list[str]


Progress = Callable[[int], None]
T = TypeVar("T")


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
    for line, raw in numbered_rows(reader, progress):
        if isinstance(raw, str):
            yield line, [], raw
        elif len(raw) != len(header):
            yield line, raw, f"row has {len(raw)} fields, header has {len(header)}"
        else:
            values = {h: from_spreadsheet_safe(v) for h, v in zip(header, raw, strict=True)}
            found = next(problems(values), None)
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


def _errors(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"]) or "row"
        parts.append(f"{where}: {str(error['msg']).removeprefix('Value error, ')}")
    return "; ".join(parts)


# -- leads -------------------------------------------------------------------------------------


def lead_columns(header: list[str], mapping: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """Which lead field each column fills: ``--map`` first, then canonical names, else a
    custom attribute. Export-only columns (id, stage, score…) are ignored and reported."""
    unknown = sorted(set(mapping) - set(header))
    if unknown:
        raise ImportError_(f"--map names column(s) not in the header: {', '.join(unknown)}")
    targets: dict[str, str] = {}
    ignored: list[str] = []
    for column in header:
        target = mapping.get(column) or (
            column if column.startswith(ATTRIBUTE_PREFIX) else slug(column)
        )
        if target in EXPORT_ONLY and column not in mapping:
            ignored.append(column)
        elif target in (*PROFILE_FIELDS, *FLAG_COLUMNS) or target.startswith(ATTRIBUTE_PREFIX):
            targets[column] = target
        elif column in mapping:
            raise ImportError_(f"--map {column}={target}: no lead field {target!r}")
        else:
            targets[column] = ATTRIBUTE_PREFIX + column
    if not {"email", "phone"} & set(targets.values()):
        raise ImportError_("no email or phone column: map one, e.g. --map 'E-mail=email'")
    return targets, ignored


def _lead_input(row: Row, targets: dict[str, str], policy: IntakePolicy) -> LeadInput:
    data: dict[str, Any] = {"attributes": {}}
    for column, value in row.values.items():
        target = targets.get(column)
        if target is None:
            continue
        if target.startswith(ATTRIBUTE_PREFIX):
            data["attributes"][target.removeprefix(ATTRIBUTE_PREFIX)] = value
        else:
            data[target] = value
    data.setdefault("source", "import")
    return policy.normalised(LeadInput.model_validate(data))


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
) -> Iterator[list[T]]:
    """Prepared rows in chunks of ``CHUNK_ROWS``; a row that cannot be read or prepared goes
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
        if len(chunk) >= CHUNK_ROWS:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def import_leads(
    db: Database,
    path: Path,
    mapping: dict[str, str],
    policy: IntakePolicy,
    now: datetime,
    rejects_path: Path,
    encoding: str = "utf-8",
    progress: Progress | None = None,
) -> Summary:
    summary = Summary()
    actor = f"import:{path.name}"
    with _reading(path, encoding, rejects_path, summary) as (reader, header, rejects):
        targets, summary.ignored_columns = lead_columns(header, mapping)

        def prepare(row: Row) -> LeadInput:
            return _lead_input(row, targets, policy)

        for leads in _chunks(reader, header, rejects, progress, prepare):
            _store_leads(db, leads, actor, now, policy, summary)
    return summary


def _store_leads(
    db: Database,
    chunk: list[LeadInput],
    actor: str,
    now: datetime,
    policy: IntakePolicy,
    summary: Summary,
) -> None:
    if not chunk:
        return

    def work(session: Session) -> list[Outcome]:
        return [upsert_lead(session, lead, actor, now, policy).outcome for lead in chunk]

    for outcome in db.run(work):
        setattr(summary, outcome.value, getattr(summary, outcome.value) + 1)


# -- events ------------------------------------------------------------------------------------


def _property(value: str) -> Any:
    """Numbers stay numbers (``35`` → 35) unless that would change the text (``007``)."""
    for kind in (int, float):
        try:
            number = kind(value)
        except ValueError:
            continue
        if str(number) == value:
            return number
    return value


def derived_key(lead_id: int, kind: str, occurred_at: datetime, properties: dict[str, Any]) -> str:
    """The same row always yields the same key, so a re-run import stores nothing twice."""
    text = json.dumps([lead_id, kind, occurred_at.isoformat(), properties], sort_keys=True)
    return "csv:" + hashlib.sha256(text.encode()).hexdigest()[:40]


def import_events(
    db: Database,
    path: Path,
    policy: IntakePolicy,
    now: datetime,
    rejects_path: Path,
    encoding: str = "utf-8",
    progress: Progress | None = None,
) -> Summary:
    summary = Summary()
    with _reading(path, encoding, rejects_path, summary) as (reader, header, rejects):
        if "type" not in header or "occurred_at" not in header:
            raise ImportError_(f"{path}: an events file needs 'type' and 'occurred_at' columns")
        if not {"lead_id", "email", "phone"} & set(header):
            raise ImportError_(f"{path}: name the lead with a 'lead_id', 'email' or 'phone' column")
        for rows in _chunks(reader, header, rejects, progress, lambda row: row):
            _store_events(db, rows, policy, now, rejects, summary)
    return summary


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
        valid: list[EventInput] = []
        refused: list[tuple[Row, str]] = []
        for row in chunk:
            try:
                valid.append(_event_input(session, row, policy, now))
            except ValidationError as exc:
                refused.append((row, _errors(exc)))
            except (ValueError, InvalidContact) as exc:
                refused.append((row, str(exc)))
        recorded = record_events(session, valid, now, policy.clock_skew)
        return recorded.accepted, recorded.duplicates, refused

    accepted, duplicates, refused = db.run(work)
    summary.accepted += accepted
    summary.duplicates += duplicates
    for row, reason in refused:
        rejects.add(row.line, row.raw, reason)


def _event_input(session: Session, row: Row, policy: IntakePolicy, now: datetime) -> EventInput:
    values = dict(row.values)
    lead_id = _resolve_lead(session, values, policy)
    properties = {k: _property(v) for k, v in values.items() if k not in EVENT_COLUMNS}
    event = EventInput.model_validate(
        {
            "lead_id": lead_id,
            "type": values.get("type"),
            "occurred_at": values.get("occurred_at"),
            "channel": values.get("channel"),
            "properties": properties,
            "idempotency_key": values.get("idempotency_key"),
        }
    )
    try:
        check_not_future(event.occurred_at, now, policy.clock_skew)
    except ValueError as exc:
        raise ValueError(f"occurred_at: {exc}") from None
    if event.idempotency_key is None:
        key = derived_key(lead_id, event.type, event.occurred_at, properties)
        event = event.model_copy(update={"idempotency_key": key})
    return event


def _resolve_lead(session: Session, values: dict[str, str], policy: IntakePolicy) -> int:
    if "lead_id" in values:
        raw = values["lead_id"].strip()
        try:
            found = session.get(Lead, canonical_id(raw))
        except ValueError:
            raise ValueError(f"lead_id: not a lead id: {raw!r} ({REASON})") from None
    elif "email" in values:
        try:
            email = normalise_email(values["email"])
        except InvalidContact as exc:
            raise ValueError(f"email: {exc}") from None
        found = session.scalars(select(Lead).where(Lead.email == email)).first()
    elif "phone" in values:
        try:
            phone = normalise_phone(values["phone"], policy.phone_region)
        except InvalidContact as exc:
            raise ValueError(f"phone: {exc}") from None
        found = session.scalars(select(Lead).where(Lead.phone == phone)).first()
    else:
        raise ValueError("lead_id: empty; give lead_id, email or phone")
    if found is None:
        ref = next(values[k] for k in ("lead_id", "email", "phone") if k in values)
        raise ValueError(f"no lead {ref!r}")
    return found.id


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
