"""Synthetic CRM exports with a known signal, written the odd ways real exports are."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

import numpy as np

SOURCES = ["Polecenie", "Strona www", "Targi", "Reklama Google", "Śląsk partner"]
SOURCE_LIFT = {"Polecenie": 1.5, "Strona www": 0.0, "Targi": 0.5, "Reklama Google": -1.0,
               "Śląsk partner": -0.5}  # fmt: skip


def export_rows(rows: int, seed: int = 1) -> tuple[list[str], list[list[str]]]:
    """A lead export: a header and rows whose outcome depends on source, size, visits, newsletter.

    Besides the real signals it has what exports have: an identifier, an empty column, a constant
    column, a placeholder ``Select``, a status written after the sales call, dates in two formats.
    """
    rng = np.random.default_rng(seed)
    header = ["Lead ID", "Źródło leada", "Company size (employees)", "Visits / week",
              "Newsletter?", "Signed up on", "Last call (dd.mm.yyyy)", "Fax", "Region",
              "Lead Status", "Bought?"]  # fmt: skip
    body = []
    start = date(2025, 1, 1)
    for i in range(rows):
        source = SOURCES[int(rng.integers(len(SOURCES)))]
        size = int(rng.lognormal(4, 1.2))
        visits = float(rng.gamma(2.0, 1.5))
        newsletter = bool(rng.random() < 0.4)
        logit = SOURCE_LIFT[source] + 0.8 * np.log1p(size) - 5.0 + 0.5 * visits + 1.0 * newsletter
        bought = bool(rng.random() < 1 / (1 + np.exp(-logit)))
        signed = start + timedelta(days=int(rng.integers(0, 300)))
        status = ("Won - contract" if bought else "Lost - no budget") if rng.random() < 0.97 \
            else "Open"  # fmt: skip
        body.append([f"L-{100000 + i}", source, "Select" if rng.random() < 0.1 else str(size),
                     f"{visits:.2f}".replace(".", ","), "Tak" if newsletter else "Nie",
                     f"{signed.isoformat()}T{int(rng.integers(8, 18)):02d}:15:00Z",
                     (signed + timedelta(days=3)).strftime("%d.%m.%Y"), "", "Polska", status,
                     "yes" if bought else "no"])  # fmt: skip
    return header, body


def write(path: Path, header: list[str], body: list[list[str]], *, separator: str = ";",
          encoding: str = "cp1250") -> Path:  # fmt: skip
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, delimiter=separator)
        writer.writerow(header)
        writer.writerows(body)
    return path
