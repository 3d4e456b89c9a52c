"""The analytics report: one self-contained HTML page (every dimension's table and the
formulas) and one CSV file per dimension, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import astuple, fields
from datetime import datetime
from pathlib import Path
from typing import IO

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from leadq.services.analytics.metrics import FORMULAS, Dimension, Metrics
from leadq.services.intake.imports import spreadsheet_safe

_pages = Environment(loader=PackageLoader("leadq.reporting", "templates"),
                     autoescape=select_autoescape(["html", "j2"]),
                     undefined=StrictUndefined)  # fmt: skip
COLUMNS = tuple(f.name for f in fields(Metrics))
RATES = frozenset({"qualification_rate", "conversion_rate"})
MONEY = frozenset({"cost", "cost_per_lead", "revenue", "lifetime_value"})


def shown(name: str, value: object) -> str:
    """A cell as people read it: rates in %, money and days with two decimals, ``—`` for none."""
    if value is None:
        return "—"
    if isinstance(value, float):
        if name in RATES:
            return f"{value:.1%}"
        return f"{value:,.2f}" if name in MONEY else f"{value:.2f}"
    return str(value)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(round(value, 6))
    return spreadsheet_safe(str(value))


def render(tables: Mapping[Dimension, Sequence[Metrics]], since: datetime | None,
           until: datetime | None, generated: datetime) -> str:  # fmt: skip
    rows = {by: [[shown(n, v) for n, v in zip(COLUMNS, astuple(m), strict=True)] for m in found]
            for by, found in tables.items()}  # fmt: skip
    return _pages.get_template("analytics.html.j2").render(
        tables=rows, columns=COLUMNS, formulas=FORMULAS, since=since, until=until,
        generated=generated,
    )  # fmt: skip


def write_csv(handle: IO[str], rows: Sequence[Metrics]) -> None:
    """One header line and a line per group; text cells are made safe for spreadsheets."""
    writer = csv.writer(handle)
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([_cell(value) for value in astuple(row)])


def write_report(folder: Path, tables: Mapping[Dimension, Sequence[Metrics]],
                 since: datetime | None, until: datetime | None,
                 generated: datetime) -> list[Path]:  # fmt: skip
    """``analytics.html`` and ``analytics-<dimension>.csv`` in ``folder``; the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    page = folder / "analytics.html"
    page.write_text(render(tables, since, until, generated), encoding="utf-8")
    written = [page]
    for by, rows in tables.items():
        written.append(folder / f"analytics-{by}.csv")
        with written[-1].open("w", encoding="utf-8", newline="") as handle:
            write_csv(handle, rows)
    return written
