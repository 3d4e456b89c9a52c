"""``leadq report`` and ``leadq costs import`` as a user runs them, mistakes included."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from leadq.domain.leads import LeadInput
from leadq.services.intake.leads import upsert_lead
from leadq.store.db import Database
from tests.analytics.dataset import POLICY, at, build
from tests.predictive.test_predict_cli import leadq

HOSTILE = ("<script>alert(1)</script>", '=HYPERLINK("http://evil.example")')


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """The fixed workspace in ``w.db``, plus two leads whose campaign names attack the report."""
    db = Database(f"sqlite:///{tmp_path / 'w.db'}")
    db.upgrade()
    build(db)
    with db.unit_of_work() as session:
        for number, campaign in enumerate(HOSTILE):
            data = LeadInput(email=f"x{number}@firm.example", campaign=campaign)
            upsert_lead(session, data, "test", at(3, 5), POLICY)
    db.dispose()
    return tmp_path


def read_csv(path: Path) -> list[dict[str, str]]:
    """As a spreadsheet opens it: the byte-order mark says UTF-8 (the workspace is English,
    so commas between cells)."""
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_report_writes_a_page_and_a_csv_per_dimension(workspace: Path) -> None:
    leadq(workspace, "report", "--out", "out", "--since", "2026-03-02", "--until", "2026-03-23")
    out = workspace / "out"
    assert sorted(p.name for p in out.iterdir()) == [
        "analytics-account_grade.csv", "analytics-campaign.csv", "analytics-segment.csv",
        "analytics-source.csv",
        "analytics-total.csv", "analytics-week.csv", "analytics.html",
    ]  # fmt: skip
    (total,) = read_csv(out / "analytics-total.csv")
    # the six leads of test_metrics plus the two hostile ones: 3 of 8 converted
    assert total == {
        "group": "all", "leads": "8", "qualified": "3", "converted": "3",
        "qualification_rate": "0.375", "conversion_rate": "0.375",
        "avg_days_to_conversion": "5.833333",  # (10 + 5 + 2.5) / 3
        "cost": "700.0", "cost_per_lead": "87.5",  # 700 / 8
        "revenue": "4890.5", "lifetime_value": "1630.166667",  # 4890.5 / 3
        "engagement_score": "2.25",  # 18 / 8: the new leads are scored 0
    }  # fmt: skip
    campaigns = {row["group"]: row for row in read_csv(out / "analytics-campaign.csv")}
    assert campaigns["spring"]["cost_per_lead"] == "166.666667"  # 500 / 3
    assert "'" + HOSTILE[1] in campaigns  # a formula is quoted for spreadsheets
    assert [r["group"] for r in read_csv(out / "analytics-week.csv")] == [
        "2026-W10", "2026-W11", "2026-W12"
    ]  # fmt: skip
    page = (out / "analytics.html").read_text(encoding="utf-8")
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    for heading in ("By total", "By source", "By campaign", "By segment", "By week"):
        assert heading in page
    assert "revenue / converted" in page and "qualified / leads" in page  # the formulas
    assert "http" not in page.replace("http://evil.example", "")  # no external assets


def test_report_for_chosen_dimensions_only(workspace: Path) -> None:
    leadq(workspace, "report", "--out", "out", "--by", "source", "--by", "week")
    assert sorted(p.name for p in (workspace / "out").iterdir()) == [
        "analytics-source.csv", "analytics-week.csv", "analytics.html"
    ]  # fmt: skip


@pytest.mark.parametrize(("args", "message"), [
    (("--by", "channel"), "leadq: --by: unknown dimension 'channel'; one of: total, source,"),
    (("--since", "yesterday"), "leadq: --since: 'yesterday' is not an ISO date or time"),
    (("--since", "2026-03-23", "--until", "2026-03-02"), "leadq: since: must be before until"),
])  # fmt: skip
def test_report_mistakes_are_one_line(workspace: Path, args: tuple[str, ...], message: str) -> None:
    result = leadq(workspace, "report", "--out", "out", *args, ok=False)
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1
    assert not (workspace / "out").exists()


def test_costs_import(tmp_path: Path) -> None:
    leadq(tmp_path, "init")
    good = tmp_path / "good.csv"
    good.write_text("campaign;spent_on;amount\nspring;2026-03-02;300,5\nspring;2026-03-03;10\n",
                    encoding="utf-8")  # fmt: skip
    assert "Imported 2 cost lines" in leadq(tmp_path, "costs", "import", "good.csv").stdout
    assert "Imported 2 cost lines" in leadq(tmp_path, "costs", "import", "good.csv").stdout
    leadq(tmp_path, "report", "--out", "out", "--by", "total")
    (total,) = read_csv(tmp_path / "out" / "analytics-total.csv")
    assert total["cost"] == "310.5"  # imported twice, counted once
    bad = tmp_path / "bad.csv"
    bad.write_text("campaign,spent_on,amount\nspring,2026-03-04,1\nspring,x,-1\nspring,,1\n",
                   encoding="utf-8")  # fmt: skip
    result = leadq(tmp_path, "costs", "import", "bad.csv", ok=False)
    assert result.stderr.count("\n") == 1
    assert "line 3: spent_on" in result.stderr and "line 3: amount" in result.stderr
    assert "line 4: spent_on" in result.stderr
    missing = leadq(tmp_path, "costs", "import", "nowhere.csv", ok=False)
    assert "nowhere.csv" in missing.stderr
