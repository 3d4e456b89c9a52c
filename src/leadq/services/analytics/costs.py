"""Campaign costs: what each campaign cost, per day or period and source, for cost per lead.

A cost file is all or nothing: every bad line is reported with its number and reason and
then nothing is stored. Storing is an upsert on (campaign, source, day), so importing the
same file twice counts each cost once."""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from leadq.services.errors import FieldError, InvalidInput
from leadq.services.intake.imports import numbered_rows
from leadq.store.sql import dialect_insert
from leadq.store.tables import CampaignCost

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_AMOUNT = 1e15
MAX_ERRORS = 100
REQUIRED = ("campaign", "spent_on", "amount")
OPTIONAL = ("source", "currency")
LENGTHS = {"campaign": 255, "source": 100}
CHUNK = 1000
_NUMBER = re.compile(r"^\+?\d+(?:[.,]\d+)?$")
_THOUSANDS = re.compile(r"^[1-9]\d{0,2}(?:[.,]\d{3})+$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CURRENCY = re.compile(r"^[A-Za-z]{3}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SPACES = str.maketrans("", "", " \u00a0\u202f")


@dataclass(frozen=True)
class CostLine:
    campaign: str
    spent_on: date
    amount: float
    source: str = ""
    currency: str | None = None

    @property
    def key(self) -> tuple[str, str, date]:
        return self.campaign, self.source, self.spent_on


def record_costs(session: Session, lines: Sequence[CostLine], now: datetime) -> int:
    """Store many costs at once, each replacing the one booked for its campaign, source and
    day; the lines must not repeat a key (``duplicates`` finds those)."""
    statement = dialect_insert(session, CampaignCost)
    statement = statement.on_conflict_do_update(
        index_elements=["campaign", "source", "spent_on"],
        set_={"amount": statement.excluded.amount, "currency": statement.excluded.currency,
              "imported_at": statement.excluded.imported_at},
    )  # fmt: skip
    for start in range(0, len(lines), CHUNK):
        rows = [{"campaign": x.campaign, "source": x.source, "spent_on": x.spent_on,
                 "amount": x.amount, "currency": x.currency, "imported_at": now}
                for x in lines[start : start + CHUNK]]  # fmt: skip
        session.execute(statement, rows)
    return len(lines)


def duplicates(lines: Sequence[CostLine], names: Sequence[str]) -> list[FieldError]:
    """A line that repeats an earlier one's campaign, source and day: which one wins would
    be a guess, so both are reported."""
    first: dict[tuple[str, str, date], str] = {}
    errors = []
    for line, name in zip(lines, names, strict=True):
        if line.key in first:
            reason = f"repeats {first[line.key]} (same campaign, source and spent_on)"
            errors.append(FieldError(name, reason))
        else:
            first[line.key] = name
    return errors


# -- CSV ---------------------------------------------------------------------------------------


def import_costs(session: Session, path: Path, now: datetime) -> int:
    """Import a cost CSV file (see docs/analytics.md); returns how many lines it stored."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise InvalidInput([FieldError("file", f"over {MAX_FILE_BYTES // 2**20} MB")])
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInput([FieldError("file", f"{path}: {exc.strerror or exc}")]) from None
    return import_cost_data(session, data, now)


def import_cost_data(session: Session, data: bytes, now: datetime) -> int:
    """Import the bytes of a cost CSV file: all lines, or none and every reason."""
    lines, names = parse_costs(data)
    errors = duplicates(lines, names)
    if errors:
        raise InvalidInput(_capped(errors))
    return record_costs(session, lines, now)


def parse_costs(data: bytes) -> tuple[list[CostLine], list[str]]:
    """The file's cost lines and their names (``line 7``); ``InvalidInput`` lists the bad
    lines (the first 100) when there is any."""
    if len(data) > MAX_FILE_BYTES:
        raise InvalidInput([FieldError("file", f"over {MAX_FILE_BYTES // 2**20} MB")])
    text = _text(data)
    first = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""),
                        delimiter=";" if first.count(";") > first.count(",") else ",")  # fmt: skip
    header = _header(reader)
    lines: list[CostLine] = []
    names: list[str] = []
    errors: list[FieldError] = []
    for number, raw in numbered_rows(reader):
        name = f"line {number}"
        if isinstance(raw, str):
            errors.append(FieldError(name, raw))
            continue
        if len(raw) != len(header):
            errors.append(FieldError(name, f"{len(raw)} fields, the header has {len(header)}"))
            continue
        parsed = _line(dict(zip(header, raw, strict=True)))
        if isinstance(parsed, CostLine):
            lines.append(parsed)
            names.append(name)
        else:
            errors += [FieldError(name, reason) for reason in parsed]
    if errors:
        raise InvalidInput(_capped(errors))
    if not lines:
        raise InvalidInput([FieldError("file", "no cost lines below the header")])
    return lines, names


def _capped(errors: list[FieldError]) -> list[FieldError]:
    if len(errors) <= MAX_ERRORS:
        return errors
    more = FieldError("file", f"and {len(errors) - MAX_ERRORS} more bad lines")
    return [*errors[:MAX_ERRORS], more]


def _text(data: bytes) -> str:
    if b"\x00" in data:
        raise InvalidInput([FieldError("file", "binary data, expected CSV text")])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InvalidInput([FieldError(f"line {line}", "not UTF-8 text")]) from None
    if not text.strip():
        raise InvalidInput([FieldError("file", f"empty, expected a header: {', '.join(REQUIRED)}")])
    return text


def _header(reader: Any) -> list[str]:
    try:
        header = [name.strip().lower() for name in next(reader)]
    except csv.Error as exc:
        raise InvalidInput([FieldError("line 1", f"unreadable header: {exc}")]) from None
    problems = []
    if missing := [name for name in REQUIRED if name not in header]:
        problems.append(f"missing column(s) {', '.join(missing)}")
    if unknown := [name for name in header if name not in REQUIRED + OPTIONAL]:
        shown = ", ".join(repr(name[:40]) for name in unknown[:10])
        problems.append(f"unknown column(s) {shown}; allowed: {', '.join(REQUIRED + OPTIONAL)}")
    if repeated := sorted({name for name in header if header.count(name) > 1}):
        problems.append(f"repeated column(s) {', '.join(repeated)}")
    if problems:
        raise InvalidInput([FieldError("header", "; ".join(problems))])
    return header


def _line(cells: dict[str, str]) -> CostLine | list[str]:
    values = {name: value.strip() for name, value in cells.items()}
    reasons = []
    for name, limit in LENGTHS.items():
        value = values.get(name, "")
        if len(value) > limit:
            reasons.append(f"{name}: over {limit} characters")
        elif _CONTROL.search(value):
            reasons.append(f"{name}: control characters are not allowed")
    if not values["campaign"]:
        reasons.append("campaign: missing")
    day = _day(values["spent_on"], reasons)
    amount = _amount(values["amount"], reasons)
    currency = values.get("currency") or None
    if currency is not None and not _CURRENCY.match(currency):
        reasons.append(f"currency: {currency[:20]!r} is not a 3-letter code (e.g. EUR)")
    if reasons or day is None or amount is None:
        return reasons
    return CostLine(values["campaign"], day, amount, values.get("source", ""),
                    currency.upper() if currency else None)  # fmt: skip


def _day(value: str, reasons: list[str]) -> date | None:
    try:
        if _DAY.match(value):
            return date.fromisoformat(value)
    except ValueError:
        pass
    reasons.append(f"spent_on: {value[:40]!r} is not a date YYYY-MM-DD")
    return None


def _amount(value: str, reasons: list[str]) -> float | None:
    """A plain decimal ≥ 0, with a decimal point or comma; ``1,500`` and ``1.500`` are
    refused as ambiguous (thousands or decimals?), as are thousands separators."""
    plain = value.translate(_SPACES)
    if not plain:
        reasons.append("amount: missing")
        return None
    if plain.startswith("-") and _NUMBER.match(plain[1:]):
        reasons.append(f"amount: {value[:40]!r} is negative; costs are ≥ 0")
        return None
    if _THOUSANDS.match(plain):
        reasons.append(f"amount: {value[:40]!r} is ambiguous; write 1500 or 1.5")
        return None
    if not _NUMBER.match(plain):
        reasons.append(f"amount: {value[:40]!r} is not a number")
        return None
    amount = float(plain.replace(",", "."))
    if not math.isfinite(amount) or amount > MAX_AMOUNT:
        reasons.append(f"amount: {value[:40]!r} is over {MAX_AMOUNT:.0e}")
        return None
    return amount
