"""Read any CRM export: guess its encoding and separator, keep every cell as text."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from charset_normalizer import from_bytes

SEPARATORS = ",;\t|"
MAX_BYTES = 2 * 1024**3
SNIFF_BYTES = 1024 * 1024


class ExportError(ValueError):
    """The file cannot be read as a table; nothing was trained or written."""


@dataclass(frozen=True)
class Export:
    """An export's cells as text columns, and how the file was read."""

    frame: pl.DataFrame
    encoding: str
    separator: str


def read_export(path: Path, encoding: str | None = None, separator: str | None = None) -> Export:
    raw = _bytes(path)
    text, used = _decoded(path, raw, encoding)
    sep = separator or _separator(text)
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=sep))
    while rows and not any(cell.strip() for cell in rows[-1]):
        rows.pop()
    if len(rows) < 2:
        raise ExportError(f"{path}: no rows under the header")
    header = _header(rows[0])
    width = len(header)
    for line, row in enumerate(rows[1:], start=2):
        if len(row) > width and any(cell.strip() for cell in row[width:]):
            raise ExportError(f"{path}: line {line} has {len(row)} cells, the header {width}")
    columns = {name: [_cell(row, i) for row in rows[1:]] for i, name in enumerate(header)}
    frame = pl.DataFrame(columns, schema=dict.fromkeys(header, pl.String))
    unnamed = [n for n in header if n.startswith("\x00")]
    empty = [n for n in unnamed if frame[n].str.strip_chars().is_in(["", None]).all()]
    frame = frame.drop(empty).rename({n: f"column {header.index(n) + 1}" for n in unnamed
                                      if n not in empty})  # fmt: skip
    return Export(frame, used, sep)


def _bytes(path: Path) -> bytes:
    if not path.is_file():
        raise ExportError(f"{path}: no such file")
    if path.stat().st_size > MAX_BYTES:
        raise ExportError(f"{path}: larger than {MAX_BYTES // 1024**3} GiB; sample it first")
    raw = path.read_bytes()
    if not raw.strip():
        raise ExportError(f"{path}: the file is empty")
    if b"\x00" in raw[:SNIFF_BYTES]:
        raise ExportError(f"{path}: not a text file (it holds NUL bytes); export it as CSV")
    return raw


def _decoded(path: Path, raw: bytes, encoding: str | None) -> tuple[str, str]:
    candidates = [encoding] if encoding else ["utf-8-sig"]
    if not encoding:
        guess = from_bytes(raw[:SNIFF_BYTES]).best()
        candidates += [guess.encoding] if guess is not None else []
    for candidate in candidates:
        try:
            return raw.decode(candidate), candidate
        except LookupError:
            raise ExportError(f"--encoding {candidate!r}: unknown encoding") from None
        except UnicodeDecodeError as exc:
            if encoding:
                raise ExportError(f"{path}: not {encoding} text at byte {exc.start}") from None
    raise ExportError(f"{path}: cannot tell its encoding; pass --encoding, e.g. cp1250")


def _separator(text: str) -> str:
    sample = "\n".join(text[:SNIFF_BYTES].splitlines()[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters=SEPARATORS).delimiter
    except csv.Error:
        first = sample.splitlines()[0] if sample else ""
        return max(SEPARATORS, key=first.count)


def _header(cells: list[str]) -> list[str]:
    """Trimmed names; blank ones get a placeholder, repeated ones a number."""
    names: list[str] = []
    for position, cell in enumerate(cells, start=1):
        name = cell.strip().lstrip("\ufeff") or f"\x00{position}"
        base, copy = name, 2
        while name in names:
            name, copy = f"{base} ({copy})", copy + 1
        names.append(name)
    return names


def _cell(row: list[str], index: int) -> str | None:
    return row[index] if index < len(row) else None
