"""Imports from the CRMs people leave: every row with a usable identity is kept, a bad secondary
value is set aside with a warning, phones are read in the row's country, and the preset puts
names, status and creation time into leadq's own fields."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from leadq.services.intake.imports import ImportError_, import_leads
from leadq.services.intake.policy import IntakePolicy
from leadq.store.db import Database
from leadq.store.tables import Lead, PossibleDuplicate
from tests.cli import invoke
from tests.conftest import SHARED_DATA

EXPORTS = SHARED_DATA / "crm-exports"
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def _import(db: Database, path: Path, **options: object) -> object:
    rejects = path.with_name(f"{path.stem}.rejects.csv")
    return import_leads(db, path, {}, IntakePolicy(), NOW, rejects, **options)  # type: ignore[arg-type]


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _leads(db: Database) -> list[Lead]:
    with db.reading() as session:
        leads = list(session.scalars(select(Lead).order_by(Lead.id)))
        session.expunge_all()
    return leads


@pytest.mark.skipif(
    not EXPORTS.is_dir(), reason="../shared/data/crm-exports is not here (CI has it)"
)
@pytest.mark.parametrize(
    "name",
    ["salesforce-demo-Lead.csv", "salesforce-workshop-Lead.csv", "salesforce-workshop-Contact.csv"],
)
def test_real_exports_import_with_no_flags_and_lose_nobody(
    db: Database, tmp_path: Path, name: str
) -> None:
    path = tmp_path / name
    path.write_bytes((EXPORTS / name).read_bytes())
    rows = _rows(path)
    emails = {r["Email"].strip().lower() for r in rows if "@" in r["Email"]}
    summary = _import(db, path)
    leads = _leads(db)
    assert summary.rejected == 0 and len(leads) == len(emails)  # type: ignore[attr-defined]
    assert {lead.email for lead in leads} == emails  # nobody merged into anybody
    by_email = {lead.email: lead for lead in leads}
    for row in rows:
        lead = by_email[row["Email"].strip().lower()]
        assert (lead.first_name, lead.last_name) == (row["FirstName"] or None, row["LastName"])
        assert lead.job_title == (row["Title"] or None)
        if "Company" in row:
            assert lead.company == row["Company"]
        if row.get("LeadSource"):
            assert lead.source is not None and lead.source != "import"
        if row.get("CreatedDate"):
            assert lead.created_at < NOW and lead.created_at.year == int(row["CreatedDate"][:4])
        if row.get("Status"):
            assert lead.attributes["crm_status"] == row["Status"]
    assert not {"FirstName", "LastName", "Title", "LeadSource", "Status"} & {
        key for lead in leads for key in lead.attributes
    }
    with db.reading() as session:
        pairs = session.scalar(select(func.count()).select_from(PossibleDuplicate))
    shared = [p for p in (r["Phone"] for r in rows) if p]
    assert pairs or len(set(shared)) == len(shared)  # a shared number is flagged, not merged


def write(tmp_path: Path, text: str, name: str = "leads.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_bad_secondary_value_is_set_aside_and_only_rows_without_identity_are_rejected(
    db: Database, tmp_path: Path
) -> None:
    path = write(tmp_path, "email,phone,company_size,first_name\n"
                           "ann@acme.example,not a phone at all,12,Ann\n"
                           "broken-address,+48 601 234 567,many,Bob\n"
                           "nobody,12,,Cy\n"
                           "dee@acme.example,,50,Dee\n")  # fmt: skip
    summary = _import(db, path)
    assert (summary.created, summary.rejected, summary.warned) == (3, 1, 3)  # type: ignore[attr-defined]
    leads = {lead.first_name: lead for lead in _leads(db)}
    assert (
        leads["Ann"].phone is None and leads["Ann"].attributes["phone_raw"] == "not a phone at all"
    )
    assert leads["Bob"].email is None and leads["Bob"].phone == "+48601234567"
    assert leads["Bob"].attributes == {"email_raw": "broken-address", "company_size_raw": "many"}
    assert leads["Dee"].company_size == 50 and "Cy" not in leads
    warnings = list(csv.reader(tmp_path.joinpath("leads.warnings.csv").open()))
    assert warnings[0] == ["line", "field", "reason"]
    assert {(w[0], w[1]) for w in warnings[1:]} == {("2", "phone"), ("3", "email"),
                                                     ("3", "company_size")}  # fmt: skip
    rejects = list(csv.reader(tmp_path.joinpath("leads.rejects.csv").open()))
    assert [r[0] for r in rejects[1:]] == ["4"]  # beside the input, with its line


def test_phones_are_read_in_the_rows_own_country(db: Database, tmp_path: Path) -> None:
    path = write(tmp_path, "email,phone,country\n"
                           "a@firma.example,601 234 567,Polska\n"
                           "b@firma.example,0721 234 567,România\n"
                           "c@firma.example,8 (912) 345-67-89,Россия\n"
                           "d@firma.example,(512) 757-6000,United States\n"
                           "e@firma.example,601 234 568,\n")  # fmt: skip
    _import(db, path)
    phones = {lead.email: lead.phone for lead in _leads(db)}
    assert phones["a@firma.example"] == "+48601234567"
    assert phones["b@firma.example"] == "+40721234567"
    assert phones["c@firma.example"] == "+79123456789"
    assert phones["d@firma.example"] == "+15127576000"
    assert phones["e@firma.example"] is None  # no country, no default: set aside, not guessed


def test_the_default_region_reads_rows_without_a_country(db: Database, tmp_path: Path) -> None:
    path = write(tmp_path, "email,phone,country\ne@firma.example,601 234 568,\n"
                           "f@firma.example,(512) 757-6001,US\n")  # fmt: skip
    rejects = tmp_path / "r.csv"
    import_leads(db, path, {}, IntakePolicy(phone_region="PL"), NOW, rejects)
    phones = {lead.email: lead.phone for lead in _leads(db)}
    assert phones == {"e@firma.example": "+48601234568", "f@firma.example": "+15127576001"}


def test_colleagues_on_one_switchboard_in_a_file_stay_two_leads(
    db: Database, tmp_path: Path
) -> None:
    path = write(tmp_path, "Email,Phone,Country\nrose@acme.example,(512) 757-6000,US\n"
                           "sean@acme.example,(512) 757-6000,US\n")  # fmt: skip
    summary = _import(db, path)
    assert summary.created == 2  # type: ignore[attr-defined]
    with db.reading() as session:
        pair = session.scalars(select(PossibleDuplicate)).one()
    leads = _leads(db)
    assert {pair.lead_id, pair.other_id} == {lead.id for lead in leads}


SALESFORCE = ("Id,FirstName,LastName,Company,Title,Email,Phone,LeadSource,Status,IsConverted,"
              "CreatedDate,Country\n")  # fmt: skip


def test_status_and_creation_time_land_in_leadqs_fields(db: Database, tmp_path: Path) -> None:
    path = write(tmp_path, SALESFORCE
                 + "1,Ann,Lee,Acme,CEO,ann@acme.example,,Web,Working - Contacted,false,"
                   "2024-01-22T20:36:47.000+0000,US\n"
                 + "2,Bo,Kim,Acme,CTO,bo@acme.example,,Web,Closed - Converted,true,"
                   "02/24/26 02:18 AM,US\n"
                 + "3,Cy,Ray,Acme,CFO,cy@acme.example,,Web,Sleeping,false,,US\n")  # fmt: skip
    summary = _import(db, path, stages={"sleeping": "nurture"})
    assert summary.preset == "salesforce-lead" and not summary.unmapped_statuses  # type: ignore[attr-defined]
    leads = {lead.first_name: lead for lead in _leads(db)}
    assert leads["Ann"].stage == "sal" and leads["Ann"].created_at == datetime(
        2024, 1, 22, 20, 36, 47, tzinfo=UTC)  # fmt: skip
    assert leads["Bo"].stage == "opportunity"
    assert leads["Bo"].created_at == datetime(2026, 2, 24, 2, 18, tzinfo=UTC)
    assert leads["Cy"].stage == "nurture" and leads["Cy"].created_at == NOW
    assert leads["Ann"].attributes["crm_id"] == "1" and leads["Ann"].source == "web"


def test_unknown_statuses_are_counted_and_start_as_new_leads(db: Database, tmp_path: Path) -> None:
    path = write(tmp_path, SALESFORCE + "1,Ann,Lee,Acme,CEO,ann@acme.example,,Web,Sleeping,false"
                                        ",,US\n")  # fmt: skip
    summary = _import(db, path)
    assert summary.unmapped_statuses == {"Sleeping": 1}  # type: ignore[attr-defined]
    assert _leads(db)[0].stage == "iql"


def test_mistakes_name_what_exists(db: Database, tmp_path: Path) -> None:
    path = write(tmp_path, "mail,name\nx@y.example,X\n")
    with pytest.raises(ImportError_, match="the fields are email, phone, first_name"):
        _import(db, path)
    with pytest.raises(ImportError_, match=r"the presets are .*salesforce-lead"):
        _import(db, write(tmp_path, "email\nx@y.example\n", "b.csv"), preset_name="nope")
    with pytest.raises(ImportError_, match="the stages are iql, mql"):
        _import(db, write(tmp_path, "email\nx@y.example\n", "c.csv"), stages={"a": "hot"})


def test_the_command_previews_writes_nothing_and_lists_the_fields(tmp_path: Path) -> None:
    env = {"LEADQ_DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}"}
    assert invoke(tmp_path, ["init"], env).returncode == 0
    write(tmp_path, SALESFORCE + "1,Ann,Lee,Acme,CEO,ann@acme.example,(512) 757-6000,Web,"
                                 "Working - Contacted,false,,US\n")  # fmt: skip
    shown = invoke(tmp_path, ["import", "leads", "leads.csv", "--dry-run"], env)
    assert shown.returncode == 0, shown.stderr
    assert "salesforce-lead" in shown.stdout and "first_name" in shown.stdout
    assert "stage sal" in shown.stdout and "Nothing was written" in shown.stdout
    listed = invoke(tmp_path, ["export", "leads"], env)
    assert listed.stdout.strip().count("\n") == 0  # the header only: nothing imported
    helped = invoke(tmp_path, ["import", "leads", "--help"], env)
    assert "company_size" in helped.stdout and "created_at" in helped.stdout
    bad = invoke(tmp_path, ["import", "leads", "leads.csv", "--phone-region", "Atlantis"], env)
    assert bad.returncode != 0 and "not a country" in bad.stderr
    done = invoke(tmp_path, ["import", "leads", "leads.csv"], env)
    assert done.returncode == 0 and "1 created" in done.stdout
