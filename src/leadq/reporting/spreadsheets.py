"""Files people open in a spreadsheet: CSV in the reader's dialect and XLSX, with every
text cell made safe (lead data comes from the public; a cell must never run as a formula)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path

import xlsxwriter

from leadq.i18n import Language
from leadq.services.intake.imports import spreadsheet_safe

BOM = "\ufeff"
"""Excel reads a CSV file as UTF-8 only when the file starts with it."""
Cell = str | int | float | datetime | None
CHUNK = 64 * 1024


def csv_cell(value: Cell, lang: Language) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return lang.csv_number(round(value, 6))
    if isinstance(value, datetime):
        return value.isoformat()
    return spreadsheet_safe(str(value))


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Cell]],
             lang: Language) -> Iterator[str]:  # fmt: skip
    """The file in pieces of about 64 KiB, as ``lang``'s spreadsheets read CSV: its list
    separator and decimal mark (``;`` and ``,`` for Polish), a byte-order mark first."""
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv.writer(buffer, delimiter=lang.csv_delimiter)
    writer.writerow(header)
    for row in rows:
        writer.writerow([csv_cell(value, lang) for value in row])
        if buffer.tell() >= CHUNK:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def write_xlsx(path: Path, header: Sequence[str], rows: Iterable[Sequence[Cell]],
               lang: Language) -> int:  # fmt: skip
    """An XLSX workbook of one sheet, written row by row (constant memory); text stays text
    (no formulas, no links), times in the reader's zone. Returns the rows written."""
    options = {"constant_memory": True, "strings_to_formulas": False,
               "strings_to_urls": False, "strings_to_numbers": False}  # fmt: skip
    workbook = xlsxwriter.Workbook(str(path), options)
    try:
        sheet = workbook.add_worksheet()
        moment = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        bold = workbook.add_format({"bold": True})
        sheet.write_row(0, 0, list(header), bold)
        sheet.freeze_panes(1, 0)
        count = 0
        for count, row in enumerate(rows, start=1):
            for column, value in enumerate(row):
                _write(sheet, count, column, value, moment, lang)
    finally:
        workbook.close()
    return count


def _write(sheet: xlsxwriter.worksheet.Worksheet, row: int, column: int, value: Cell,
           moment: xlsxwriter.format.Format, lang: Language) -> None:  # fmt: skip
    if value is None:
        return
    if isinstance(value, datetime):
        local = value.astimezone(lang.zone).replace(tzinfo=None)
        sheet.write_datetime(row, column, local, moment)
    elif isinstance(value, int | float):
        sheet.write_number(row, column, value)
    else:
        sheet.write_string(row, column, value)
