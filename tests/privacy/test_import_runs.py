"""What an import keeps about people — its rejected and warned rows, a staged file — follows
erasure and retention like the rest of the workspace."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from leadq.services.intake import uploads
from leadq.services.intake.policy import IntakePolicy
from leadq.services.privacy import subjects as privacy
from leadq.store.db import Database
from leadq.store.tables import ImportRun, Lead
from tests.privacy.person import found_anywhere

PERSON = "ola.nowak@example.org"
FILE = (
    "email,first_name,last_name,phone\n"
    f"{PERSON},Ola,Nowak,12\n"  # a phone that cannot be read: imported, with a warning
    "jan.kowal@example.org,Jan,Kowal,13\n"  # the same for someone else
    "not-an-address,Ola,Nowak,\n"  # no usable e-mail or phone: rejected
    "also-not,Jan,Kowal,\n"
    "lucja.zak@example.org,Łucja,Żak,14\n"
    "still-not,Łucja,Żak,\n"  # a name SQLite cannot lower-case, so it cannot narrow the search
).encode()
MAPPING = {"email": "email", "first_name": "first_name", "last_name": "last_name",
           "phone": "phone"}  # fmt: skip


def _imported(db: Database, now: datetime) -> int:
    run_id = db.run(lambda s: uploads.stage_upload(s, "leads.csv", FILE, "admin", now).id)
    content = uploads.start(db, run_id)
    uploads.run_import(db, run_id, content, MAPPING, IntakePolicy(), now)
    return run_id


def test_erasure_drops_the_persons_rows_from_imports_and_keeps_the_others(
    db: Database, now: datetime
) -> None:
    done = _imported(db, now)
    staged = db.run(lambda s: uploads.stage_upload(s, "again.csv", FILE, "admin", now).id)
    with db.reading() as session:
        run = session.get(ImportRun, done)
        assert run is not None and run.warnings and run.rejects
        assert "not-an-address,Ola,Nowak" in run.rejects and "also-not,Jan,Kowal" in run.rejects
        person = session.scalars(select(Lead.id).where(Lead.email == PERSON)).one()
    report = db.run(lambda s: privacy.erase_lead(s, person, "admin:tests", now))
    assert report.imports == 2 and report.counts()["imports"] == 2
    assert not found_anywhere(db, (PERSON, "Ola Nowak", "not-an-address"))
    with db.reading() as session:
        run, draft = session.get(ImportRun, done), session.get(ImportRun, staged)
        assert run is not None and draft is not None
        assert "also-not,Jan,Kowal" in (run.rejects or "")  # someone else's row stays
        assert run.warnings and run.summary  # warnings name lines, not people; counts stay
        assert (draft.status, draft.content, draft.error) == ("failed", None, uploads.ERASED_FILE)


def test_a_name_beyond_ascii_is_found_on_every_backend(db: Database, now: datetime) -> None:
    done = _imported(db, now)
    with db.reading() as session:
        person = session.scalars(select(Lead.id).where(Lead.email == "lucja.zak@example.org")).one()
    assert db.run(lambda s: privacy.erase_lead(s, person, "admin:tests", now)).imports == 1
    with db.reading() as session:
        rejects = (session.get(ImportRun, done) or ImportRun()).rejects or ""
    assert "still-not" not in rejects and "not-an-address,Ola,Nowak" in rejects


def test_retention_keeps_only_the_counts_of_old_imports(db: Database, now: datetime) -> None:
    old = _imported(db, now - timedelta(days=800))
    recent = _imported(db, now)
    policy = privacy.RetentionPolicy(inactive_months=24)
    dry = db.run(lambda s: privacy.retain(s, policy, now, True, "admin:tests"))
    with db.reading() as session:
        assert (session.get(ImportRun, old) or ImportRun()).rejects  # a dry run changes nothing
    applied = db.run(lambda s: privacy.retain(s, policy, now, False, "admin:tests"))
    assert dry.import_runs == applied.import_runs == 1
    with db.reading() as session:
        gone, kept = session.get(ImportRun, old), session.get(ImportRun, recent)
        assert gone is not None and kept is not None
        assert (gone.rejects, gone.warnings) == (None, None) and gone.summary
        assert kept.rejects and kept.warnings
