"""The analytics report: one self-contained HTML page (every dimension's table and the
formulas) and one CSV file per dimension, safe to open in a spreadsheet."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import astuple, fields
from datetime import datetime
from pathlib import Path
from typing import IO

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from leadq.config import get_settings
from leadq.i18n import Language
from leadq.i18n.templates import install
from leadq.reporting.spreadsheets import csv_text
from leadq.services.analytics.metrics import FORMULAS, Dimension, Metrics

_pages = Environment(loader=PackageLoader("leadq.reporting", "templates"),
                     autoescape=select_autoescape(["html", "j2"]),
                     undefined=StrictUndefined)  # fmt: skip
install(_pages)
COLUMNS = tuple(f.name for f in fields(Metrics))
RATES = frozenset({"qualification_rate", "conversion_rate"})
MONEY = frozenset({"cost", "cost_per_lead", "revenue", "lifetime_value"})


def render(tables: Mapping[Dimension, Sequence[Metrics]], since: datetime | None,
           until: datetime | None, generated: datetime,
           lang: Language | None = None) -> str:  # fmt: skip
    """The page in ``lang`` (default: the workspace's language): rates, money and counts
    in its local forms, times in its zone."""
    lang = lang or get_settings().language()
    # the formulas are msgids when the catalogue has them (leadq.services.analytics.metrics)
    formulas = [(name, lang.gettext(formula)) for name, formula in FORMULAS]
    return _pages.get_template("analytics.html.j2").render(
        tables=tables, columns=COLUMNS, rates=RATES, money=MONEY, formulas=formulas,
        since=since, until=until, generated=generated, lang=lang,
    )  # fmt: skip


def write_csv(handle: IO[str], rows: Sequence[Metrics], lang: Language) -> None:
    """One header line (the columns' codes) and a line per group, the way ``lang``'s
    spreadsheets read CSV: its list separator and decimal mark (``;`` and ``,`` for Polish),
    a byte-order mark first; text cells are made safe for spreadsheets."""
    for piece in csv_text(COLUMNS, (astuple(row) for row in rows), lang):
        handle.write(piece)


def write_report(folder: Path, tables: Mapping[Dimension, Sequence[Metrics]],
                 since: datetime | None, until: datetime | None, generated: datetime,
                 lang: Language | None = None) -> list[Path]:  # fmt: skip
    """``analytics.html`` and ``analytics-<dimension>.csv`` in ``folder``, in ``lang`` (default
    the workspace's); the paths written."""
    lang = lang or get_settings().language()
    folder.mkdir(parents=True, exist_ok=True)
    page = folder / "analytics.html"
    page.write_text(render(tables, since, until, generated, lang), encoding="utf-8")
    written = [page]
    for by, rows in tables.items():
        written.append(folder / f"analytics-{by}.csv")
        with written[-1].open("w", encoding="utf-8", newline="") as handle:
            write_csv(handle, rows, lang)
    return written
