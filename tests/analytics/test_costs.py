"""Importing campaign costs from CSV: the formats people export, and every way a file can be
wrong — each bad line named with its number and reason, and then nothing stored."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from leadq.services.analytics import costs
from leadq.services.errors import InvalidInput
from leadq.store.db import Database
from leadq.store.tables import CampaignCost
from tests.analytics.dataset import END


def run(db: Database, path: Path) -> int:
    with db.unit_of_work() as session:
        return costs.import_costs(session, path, END)


def stored(db: Database) -> list[tuple[str, str, date, float, str | None]]:
    with db.reading() as session:
        rows = session.scalars(select(CampaignCost).order_by(CampaignCost.campaign,
                                                             CampaignCost.source,
                                                             CampaignCost.spent_on))  # fmt: skip
        return [(r.campaign, r.source, r.spent_on, r.amount, r.currency) for r in rows]


def refused(db: Database, path: Path) -> list[str]:
    """The errors as ``field: reason``; and proof that nothing was stored."""
    with pytest.raises(InvalidInput) as caught:
        run(db, path)
    assert stored(db) == []
    return [f"{e.field}: {e.reason}" for e in caught.value.errors]


def write(tmp_path: Path, text: str | bytes, name: str = "costs.csv") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_a_plain_file_with_optional_columns(db: Database, tmp_path: Path) -> None:
    path = write(tmp_path, "campaign,spent_on,amount,source,currency\n"
                           "spring,2026-03-02,300,,eur\n"
                           "\n"
                           "spring,2026-03-02,120.5,paid_search,EUR\n"
                           '"autumn, big",2026-03-03,0,,\n')  # fmt: skip
    assert run(db, path) == 3
    assert stored(db) == [
        ("autumn, big", "", date(2026, 3, 3), 0.0, None),
        ("spring", "", date(2026, 3, 2), 300.0, "EUR"),
        ("spring", "paid_search", date(2026, 3, 2), 120.5, "EUR"),
    ]


def test_semicolons_decimal_comma_bom_and_crlf(db: Database, tmp_path: Path) -> None:
    text = "\ufeffCampaign;Spent_On;Amount;Source\r\nwiosna;2026-03-02;1 234,56;facebook\r\n"
    assert run(db, write(tmp_path, text.encode("utf-8"))) == 1
    assert stored(db) == [("wiosna", "facebook", date(2026, 3, 2), 1234.56, None)]


def test_importing_again_replaces_instead_of_adding(db: Database, tmp_path: Path) -> None:
    path = write(tmp_path, "campaign,spent_on,amount\nspring,2026-03-02,300\n")
    assert run(db, path) == 1
    assert run(db, path) == 1
    assert stored(db) == [("spring", "", date(2026, 3, 2), 300.0, None)]
    corrected = write(tmp_path, "campaign,spent_on,amount\nspring,2026-03-02,350\n", "v2.csv")
    run(db, corrected)
    assert stored(db) == [("spring", "", date(2026, 3, 2), 350.0, None)]


def test_every_bad_line_is_named_and_nothing_is_stored(db: Database, tmp_path: Path) -> None:
    path = write(tmp_path, "campaign,spent_on,amount,source\n"
                           "spring,2026-03-02,300,\n"         # 2: fine, yet not stored
                           "spring,02/03/2026,300,\n"         # 3
                           "spring,2026-02-30,300,\n"         # 4: no such day
                           "spring,2026-03-04,-5,\n"          # 5
                           "spring,2026-03-05,NaN,\n"         # 6
                           "spring,2026-03-06,lots,\n"        # 7
                           f"{'x' * 256},2026-03-07,1,\n"     # 8
                           "spring,2026-03-08,1,\n"           # 9 (ok)
                           ",2026-03-09,1,\n"                 # 10
                           "spring,2026-03-10,1,2,3\n"        # 11
                           "spring,2026-03-11,\"1,500\",\n"   # 12: 1500 or 1.5?
                           "spring,2026-03-12,1e9,\n")  # 13  # fmt: skip
    assert refused(db, path) == [
        "line 3: spent_on: '02/03/2026' is not a date YYYY-MM-DD",
        "line 4: spent_on: '2026-02-30' is not a date YYYY-MM-DD",
        "line 5: amount: '-5' is negative; costs are ≥ 0",
        "line 6: amount: 'NaN' is not a number",
        "line 7: amount: 'lots' is not a number",
        "line 8: campaign: over 255 characters",
        "line 10: campaign: missing",
        "line 11: 5 fields, the header has 4",
        "line 12: amount: '1,500' is ambiguous; write 1500 or 1.5",
        "line 13: amount: '1e9' is not a number",
    ]


def test_a_repeated_line_is_an_error_not_a_guess(db: Database, tmp_path: Path) -> None:
    path = write(tmp_path, "campaign,spent_on,amount\nspring,2026-03-02,1\nspring,2026-03-02,2\n")
    assert refused(db, path) == ["line 3: repeats line 2 (same campaign, source and spent_on)"]


@pytest.mark.parametrize(("content", "error"), [
    ("", "file: empty, expected a header: campaign, spent_on, amount"),
    ("\ufeff \n\n", "file: empty, expected a header: campaign, spent_on, amount"),
    ("campaign,spent_on,amount\n", "file: no cost lines below the header"),
    ("campaign,day,amount\nspring,2026-03-02,1\n",
     "header: missing column(s) spent_on; unknown column(s) 'day'; "
     "allowed: campaign, spent_on, amount, source, currency"),
    ("campaign,spent_on,amount,amount\n", "header: repeated column(s) amount"),
    ("campaign,spent_on,amount,currency\nspring,2026-03-02,1,euro\n",
     "line 2: currency: 'euro' is not a 3-letter code (e.g. EUR)"),
    ("campaign,spent_on,amount\nspring\x01,2026-03-02,1\n",
     "line 2: campaign: control characters are not allowed"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "file: binary data, expected CSV text"),
    ("campaign,spent_on,amount\nwiosna,2026-03-02,1\nzima\xf3,2026-03-03,1\n".encode("latin-1"),
     "line 3: not UTF-8 text"),
])  # fmt: skip
def test_files_that_are_not_cost_files(
    db: Database, tmp_path: Path, content: str | bytes, error: str
) -> None:
    assert refused(db, write(tmp_path, content)) == [error]


def test_size_limit_and_missing_file(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(costs, "MAX_FILE_BYTES", 2 * 2**20)
    big = "campaign,spent_on,amount\n" + "spring,2026-03-02,1\n" * 120_000  # 2.4 MB
    assert refused(db, write(tmp_path, big)) == ["file: over 2 MB"]
    assert refused(db, tmp_path / "nowhere.csv") == [
        f"file: {tmp_path / 'nowhere.csv'}: No such file or directory"
    ]


def test_at_most_a_hundred_errors_are_listed(db: Database, tmp_path: Path) -> None:
    path = write(tmp_path, "campaign,spent_on,amount\n" + "spring,2026-03-02,x\n" * 150)
    errors = refused(db, path)
    assert len(errors) == 101 and errors[-1] == "file: and 50 more bad lines"
    assert errors[0] == "line 2: amount: 'x' is not a number"
