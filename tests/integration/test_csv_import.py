"""CSV import and export on a real database: rejects with line and reason, re-runs are no-ops."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from leadq.services.errors import LeadqError
from leadq.services.intake.imports import export_leads, import_events, import_leads
from leadq.services.intake.policy import IntakePolicy
from leadq.store.db import Database
from leadq.store.tables import Event, Lead

POLICY = IntakePolicy(phone_region="PL")
LEADS_CSV = """E-mail Address,first_name,Phone,Job Title,company_size,Lead Score,Favourite Tool
anna@firma.pl,Anna,601 234 567,Prezes Zarządu,250,77,
bad-address,Bob,,,,,
piotr@firma.pl,Piotr,,Kierownik,12,3
,Nobody,,,,,
ANNA@firma.pl,Anna,,,,,Excel
jan@gmail.com,"Jan
Kowalski",,CEO,many,,
ola@firma.pl,Ola,,Kierownik,12,3,
"""


def write(tmp_path: Path, text: str, name: str = "leads.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def rejects_of(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def run_leads(db: Database, path: Path, tmp_path: Path, **mapping: str):  # type: ignore[no-untyped-def]
    maps = {"E-mail Address": "email", "Lead Score": "attributes.legacy_score", **mapping}
    return import_leads(db, path, maps, POLICY, datetime.now(UTC), tmp_path / "rejects.csv")


def count(db: Database, table: type) -> int:
    with db.reading() as session:
        return session.scalar(select(func.count()).select_from(table)) or 0


def test_import_reports_created_merged_rejected_with_lines(db: Database, tmp_path: Path) -> None:
    summary = run_leads(db, write(tmp_path, LEADS_CSV), tmp_path)
    assert (summary.created, summary.merged, summary.unchanged, summary.rejected) == (3, 1, 0, 3)
    rejects = rejects_of(tmp_path / "rejects.csv")
    assert [r["line"] for r in rejects] == ["3", "4", "5"]  # no usable e-mail or phone, or torn
    assert "email: " in rejects[0]["reason"] and "not a valid e-mail" in rejects[0]["reason"]
    assert rejects[1]["reason"] == "row has 6 fields, header has 7"
    assert "email or a phone" in rejects[2]["reason"]
    assert summary.warned == 1  # a size that is no count is set aside; the row is kept
    warned = rejects_of(tmp_path / "leads.warnings.csv")
    assert [(w["line"], w["field"]) for w in warned] == [("7", "company_size")]  # its start line
    with db.reading() as session:
        jan = session.scalars(select(Lead).where(Lead.email == "jan@gmail.com")).one()
    assert jan.company_size is None and jan.attributes["company_size_raw"] == "many"
    assert rejects[0]["first_name"] == "Bob"  # the row as it was, to fix and re-import
    with db.reading() as session:
        anna = session.scalars(select(Lead).where(Lead.email == "anna@firma.pl")).one()
    assert anna.phone == "+48601234567" and anna.seniority == "c_level"
    assert anna.attributes == {"legacy_score": "77", "Favourite Tool": "Excel"}
    assert anna.channels == ["import"]


def test_rerunning_an_import_creates_nothing_twice(db: Database, tmp_path: Path) -> None:
    path = write(tmp_path, LEADS_CSV)
    run_leads(db, path, tmp_path)
    again = run_leads(db, path, tmp_path)
    assert (again.created, again.merged, again.unchanged, again.rejected) == (0, 0, 4, 3)
    assert count(db, Lead) == 3


def test_file_level_problems_write_nothing(db: Database, tmp_path: Path) -> None:
    cases = {
        "empty.csv": ("", "empty file"),
        "nocontact.csv": ("name,city\nAnn,Oslo\n", "no email or phone column"),
        "dupe.csv": ("email,email\na@b.pl,c@d.pl\n", "repeats column"),
        "blankhead.csv": ("email,,city\na@b.pl,x,y\n", "empty column name"),
    }
    for name, (text, reason) in cases.items():
        with pytest.raises(LeadqError, match=reason):
            import_leads(
                db, write(tmp_path, text, name), {}, POLICY, datetime.now(UTC), tmp_path / "r.csv"
            )
    latin = write(tmp_path, "email,city\nzofia@firma.pl,Łódź\n", "cp.csv", encoding="cp1250")
    with pytest.raises(LeadqError, match="not utf-8 text at line 2"):
        import_leads(db, latin, {}, POLICY, datetime.now(UTC), tmp_path / "r.csv")
    with pytest.raises(LeadqError, match="not in the header"):
        import_leads(
            db,
            write(tmp_path, "email\na@b.pl\n", "m.csv"),
            {"Mail": "email"},
            POLICY,
            datetime.now(UTC),
            tmp_path / "r.csv",
        )
    with pytest.raises(LeadqError, match="no lead field"):
        import_leads(
            db,
            write(tmp_path, "email,x\na@b.pl,1\n", "n.csv"),
            {"x": "colour"},
            POLICY,
            datetime.now(UTC),
            tmp_path / "r.csv",
        )
    assert count(db, Lead) == 0
    imported = import_leads(
        db, latin, {}, POLICY, datetime.now(UTC), tmp_path / "r.csv", encoding="cp1250"
    )
    assert imported.created == 1
    with db.reading() as session:
        assert session.scalars(select(Lead.city)).one() == "Łódź"


def test_export_imports_back_into_an_empty_workspace(db: Database, tmp_path: Path) -> None:
    run_leads(db, write(tmp_path, LEADS_CSV), tmp_path)
    buffer = io.StringIO()
    with db.reading() as session:
        assert export_leads(session, buffer) == 3
        before = {
            lead.email: (lead.phone, lead.job_title, lead.attributes)
            for lead in session.scalars(select(Lead))
        }
    exported = write(tmp_path, buffer.getvalue(), "export.csv")
    fresh = Database(f"sqlite:///{tmp_path / 'fresh.db'}")
    fresh.upgrade()
    summary = import_leads(fresh, exported, {}, POLICY, datetime.now(UTC), tmp_path / "r.csv")
    assert (summary.created, summary.rejected) == (3, 0)
    assert "id" in summary.ignored_columns and "stage" in summary.ignored_columns
    with fresh.reading() as session:
        after = {
            lead.email: (lead.phone, lead.job_title, lead.attributes)
            for lead in session.scalars(select(Lead))
        }
    assert after == before


def test_events_import_resolves_leads_and_is_idempotent(db: Database, tmp_path: Path) -> None:
    run_leads(db, write(tmp_path, LEADS_CSV), tmp_path)
    day = (datetime.now(UTC) - timedelta(days=1)).replace(microsecond=0).isoformat()
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    text = (
        "email,type,occurred_at,asset_type,seconds,zip\n"
        f"anna@firma.pl,content_download,{day},whitepaper,,\n"
        f"OLA@firma.pl,page_view,{day},,35,007\n"
        f"ghost@firma.pl,page_view,{day},,,\n"
        f"anna@firma.pl,page_view,2026-01-01T10:00:00,,,\n"
        f"anna@firma.pl,page_view,{future},,,\n"
        f"anna@firma.pl,not a type,{day},,,\n"
        f"anna@firma.pl,page_view,{day},,35,007,extra\n"
    )
    path = write(tmp_path, text, "events.csv")
    summary = import_events(db, path, POLICY, datetime.now(UTC), tmp_path / "er.csv")
    assert (summary.accepted, summary.duplicates, summary.rejected) == (2, 0, 5)
    reasons = {r["line"]: r["reason"] for r in rejects_of(tmp_path / "er.csv")}
    assert reasons["4"] == "no lead 'ghost@firma.pl'"
    assert "timezone" in reasons["5"]
    assert "future" in reasons["6"]
    assert reasons["7"].startswith("type:")
    assert reasons["8"] == "row has 7 fields, header has 6"
    with db.reading() as session:
        view = session.scalars(select(Event).where(Event.type == "page_view")).one()
    assert view.properties == {"seconds": 35, "zip": "007"}
    again = import_events(db, path, POLICY, datetime.now(UTC), tmp_path / "er.csv")
    assert (again.accepted, again.duplicates) == (0, 2)
    assert count(db, Event) == 2


def test_events_file_must_name_type_time_and_lead(db: Database, tmp_path: Path) -> None:
    for text in ("email,occurred_at\n", "type,occurred_at\n"):
        with pytest.raises(LeadqError):
            import_events(
                db, write(tmp_path, text, "e.csv"), POLICY, datetime.now(UTC), tmp_path / "r.csv"
            )


def test_export_defuses_spreadsheet_formulas_and_imports_them_back(
    db: Database, tmp_path: Path
) -> None:
    hostile = '=HYPERLINK("http://evil.example","click")'
    source = io.StringIO()
    csv.writer(source).writerows(
        [["email", "first_name", "last_name", "phone"],
         ["f@firma.pl", hostile, "@SUM(A1)", "+48 601 234 567"]]
    )  # fmt: skip
    import_leads(db, write(tmp_path, source.getvalue()), {}, POLICY, datetime.now(UTC),
                 tmp_path / "r.csv")  # fmt: skip
    buffer = io.StringIO()
    with db.reading() as session:
        export_leads(session, buffer)
    row = next(csv.DictReader(io.StringIO(buffer.getvalue())))
    assert row["first_name"] == "'" + hostile
    assert row["last_name"] == "'@SUM(A1)"
    assert row["phone"] == "+48601234567"  # a phone number is not a formula
    fresh = Database(f"sqlite:///{tmp_path / 'fresh.db'}")
    fresh.upgrade()
    exported = write(tmp_path, buffer.getvalue(), "export.csv")
    import_leads(fresh, exported, {}, POLICY, datetime.now(UTC), tmp_path / "r.csv")
    with fresh.reading() as session:
        lead = session.scalars(select(Lead)).one()
    assert (lead.first_name, lead.last_name) == (hostile, "@SUM(A1)")


def test_oversized_and_hostile_cells_are_rejected_by_line(db: Database, tmp_path: Path) -> None:
    huge = "x" * 200_000
    text = (
        "email,job_title,attributes.note\n"
        f"a@firma.pl,{'t' * 300},ok\n"
        f'b@firma.pl,CEO,"{huge}"\n'
        "c@firma.pl,'; DROP TABLE leads;--,<script>alert(1)</script>\n"
    )
    summary = import_leads(db, write(tmp_path, text), {}, POLICY, datetime.now(UTC),
                           tmp_path / "r.csv")  # fmt: skip
    assert (summary.created, summary.rejected, summary.warned) == (2, 1, 1)
    reasons = {r["line"]: r["reason"] for r in rejects_of(tmp_path / "r.csv")}
    assert list(reasons) == ["3"] and "field larger than field limit" in reasons["3"]
    warned = rejects_of(tmp_path / "leads.warnings.csv")
    assert warned[0]["field"] == "job_title" and "255" in warned[0]["reason"]
    with db.reading() as session:
        long, lead = session.scalars(select(Lead).order_by(Lead.id)).all()
    assert long.job_title is None and long.attributes["job_title_raw"] == "t" * 300
    assert lead.job_title == "'; DROP TABLE leads;--"
    assert lead.attributes == {"note": "<script>alert(1)</script>"}


def test_excel_style_files_import(db: Database, tmp_path: Path) -> None:
    """A byte-order mark and CRLF line ends, as spreadsheet programs write them."""
    path = tmp_path / "excel.csv"
    path.write_bytes("email,city\r\nzofia@firma.pl,Łódź\r\n".encode("utf-8-sig"))
    summary = import_leads(db, path, {}, POLICY, datetime.now(UTC), tmp_path / "r.csv")
    assert (summary.created, summary.rejected) == (1, 0)
    with db.reading() as session:
        assert session.scalars(select(Lead.city)).one() == "Łódź"


def test_event_rows_with_impossible_lead_ids_are_rejected(db: Database, tmp_path: Path) -> None:
    day = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    text = f"lead_id,type,occurred_at\n{2**64},page_view,{day}\n-3,page_view,{day}\n"
    summary = import_events(db, write(tmp_path, text, "e.csv"), POLICY, datetime.now(UTC),
                            tmp_path / "r.csv")  # fmt: skip
    assert summary.rejected == 2
    assert all("not a lead id" in r["reason"] for r in rejects_of(tmp_path / "r.csv"))
