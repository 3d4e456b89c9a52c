"""``leadq lead show``: the lead card of a workspace built through the services."""

from __future__ import annotations

from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from leadq.domain.leads import LeadInput
from leadq.services.intake.leads import upsert_lead
from leadq.services.intake.policy import IntakePolicy
from leadq.services.qualification import decisions as qualification
from leadq.services.qualification.decisions import OverrideRequest
from leadq.services.qualification.rules import current_rules
from leadq.services.scoring import bulk
from leadq.services.scoring import rescoring as scoring
from leadq.store.db import Database
from tests.cli import Result, invoke


def _show(url: str, lead_id: str) -> Result:
    return invoke(Path.cwd(), ["lead", "show", lead_id], {"LEADQ_DATABASE_URL": url})


def _line(output: str, *parts: str) -> str:
    """The one output line that holds every part."""
    found = [line for line in output.splitlines() if all(p in line for p in parts)]
    assert len(found) == 1, (parts, output)
    return found[0]


def _workspace(url: str, model: bool) -> None:
    """One CEO of a 300-person company: classic gives 15 points (warm), so a MQL."""
    db = Database(url)
    db.upgrade()
    now = datetime.now(UTC)
    if model:
        text = (resources.files("leadq.models") / "classic.yaml").read_text("utf-8")
        with db.unit_of_work() as session:
            scoring.add_model(session, text, "classic.yaml", now)
            scoring.activate(session, "classic", now)
        bulk.rescore_everyone(db, now, "model activated")
    lead = LeadInput(email="ceo@acme.com", first_name="Ada", job_title="CEO", company_size=300)
    with db.unit_of_work() as session:
        upsert_lead(session, lead, "tests", now, IntakePolicy())
    db.dispose()


def _qualify(url: str) -> None:
    """Sales accepts the lead, BANT fails on the budget, and a person adds 4 points."""
    db, rules, now = Database(url), current_rules(), datetime.now(UTC)
    with db.unit_of_work() as session:
        qualification.accept(session, rules, 1, "anna", now)
    with db.unit_of_work() as session:
        answers = {"budget": 500, "need": True}
        qualification.answer(session, rules, 1, "bant", answers, "anna", now)
    with db.unit_of_work() as session:
        request = OverrideRequest(kind="points", reason="met at the fair", points=4)
        qualification.add_override(session, rules, 1, request, "anna", now)
    db.dispose()


def test_the_card_shows_score_history_verdicts_and_overrides(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'leadq.db'}"
    _workspace(url, model=True)
    _qualify(url)
    result = _show(url, "1")
    assert result.returncode == 0, result.stderr
    card = result.stdout
    assert "ceo@acme.com" in card and "CEO (c_level)" in card
    _line(card, "stage", "sal since")
    _line(card, "Score 19", "warm", "classic@1")
    _line(card, "iql → mql", "rule:mql_by_grade")
    _line(card, "mql → sal", "anna", "accepted by sales")
    _line(card, "decision_maker", "Decision-making position", "c_level", "9")
    _line(card, "override:1", "manual adjustment: met at the fair", "4")
    _line(card, "BANT", "not_qualified", "50% answered")
    _line(card, "✗ budget", "500", "needs")
    _line(card, "missing: authority, timing")
    _line(card, "not started:", "ANUM", "SPIN")
    _line(card, "points", "+4 points", "met at the fair", "anna", "never")


def test_without_a_model_the_card_says_so(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'leadq.db'}"
    _workspace(url, model=False)
    result = _show(url, "1")
    assert result.returncode == 0, result.stderr
    _line(result.stdout, "Score", "no active scoring model")
    _line(result.stdout, "stage", "iql since")
    _line(result.stdout, "not started:", "BANT")
    _line(result.stdout, "Overrides", "none active")


def test_an_unknown_or_bad_id_is_refused_without_traceback(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'leadq.db'}"
    _workspace(url, model=False)
    missing = _show(url, "999")
    assert missing.returncode != 0 and missing.stdout == ""
    assert missing.stderr.count("\n") == 1 and "lead 999 not found" in missing.stderr
    assert "Traceback" not in missing.stderr
    bad = _show(url, "abc")
    assert bad.returncode != 0 and "Traceback" not in bad.stderr, bad.stderr
