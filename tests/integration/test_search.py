"""Search finds a lead by any part of its e-mail, name, company or phone, whatever the case,
with or without accents, and a phone however it is spaced — on SQLite and PostgreSQL, with
the database's folding equal to the application's letter for letter. On PostgreSQL, EXPLAIN
shows each list order and the search read from their indexes, so a lost index fails here."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Select, String, select, text
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import Function

from leadq.domain.leads import LeadInput
from leadq.domain.search import ACCENTED, SQL_FUNCTION, fold, search_text
from leadq.services.intake.leads import upsert_lead
from leadq.services.intake.listing import SORTS, LeadFilter, list_leads, listing
from leadq.services.intake.policy import IntakePolicy
from leadq.store.db import Database
from leadq.store.tables import Lead
from tests.conftest import fresh_database

NOW = datetime(2026, 11, 30, tzinfo=UTC)
PEOPLE = [
    {"email": "zofia@firma.pl", "first_name": "Zofia", "last_name": "Kamińska",
     "company": "Łódzkie Zakłady", "phone": "+48 601 234 567"},
    {"email": "stefan@intreprindere.ro", "first_name": "Ștefan", "last_name": "Ionescu",
     "company": "Întreprinderea Ştefănescu"},
    {"email": "semen@zavod.ru", "first_name": "Семён", "last_name": "Кузнецов",
     "company": "ЗАВОД ЁЛКА"},
    {"email": "kaminski@firma.pl", "first_name": "Jan", "last_name": "Kamiński",
     "phone": "+48 22 555 01 02"},
]  # fmt: skip


def _emails(db: Database, typed: str) -> list[str]:
    with db.reading() as session:
        page = list_leads(session, LeadFilter(text=typed), sort="created_at", limit=50)
    return sorted(lead.email or "" for lead in page.leads)


@pytest.fixture
def people(db: Database) -> Database:
    with db.unit_of_work() as session:
        for person in PEOPLE:
            upsert_lead(session, LeadInput.model_validate(person), "test", NOW, IntakePolicy())
    return db


@pytest.mark.parametrize(("typed", "found"), [
    ("kaminska", ["zofia@firma.pl"]),
    ("KAMIŃSKA", ["zofia@firma.pl"]),
    ("kamin", ["kaminski@firma.pl", "zofia@firma.pl"]),
    ("zofia kam", ["zofia@firma.pl"]),  # first and last name as one types them
    ("lodzkie", ["zofia@firma.pl"]),
    ("stefanescu", ["stefan@intreprindere.ro"]),  # cedilla ş in the company
    ("ștefan", ["stefan@intreprindere.ro"]),  # comma ș typed, also read plain
    ("intreprinderea", ["stefan@intreprindere.ro"]),
    ("семен", ["semen@zavod.ru"]),
    ("СЕМЁН", ["semen@zavod.ru"]),
    ("елка", ["semen@zavod.ru"]),
    ("601 234 567", ["zofia@firma.pl"]),
    ("(601) 234-567", ["zofia@firma.pl"]),
    ("+48 22 555", ["kaminski@firma.pl"]),
    ("@FIRMA.pl", ["kaminski@firma.pl", "zofia@firma.pl"]),
    ("kamienska", []),
    ("%", []),
    ("_", []),
    ("\\", []),
    ("k" * 500, []),
])  # fmt: skip
@pytest.mark.usefixtures("people")
def test_search_by_what_a_person_types(db: Database, typed: str, found: list[str]) -> None:
    assert _emails(db, typed) == found


def test_the_database_folds_every_letter_as_the_application_does(db: Database) -> None:
    letters = list(ACCENTED + "AZaz09@.+-_ ßÆæŒœЖжΩω中")
    random.Random(7).shuffle(letters)
    word = "".join(letters)
    parts = (word, word[::-1], None, word[:40], "+48601234567")
    with db.reading() as session:
        folded = session.scalar(
            Function(SQL_FUNCTION, *parts, type_=String()).select()
        )  # fmt: skip
    assert folded == search_text(*parts)
    assert fold("ĄŁŻ") == "alz"


def _plan(session: Session, query: Select[Any]) -> str:
    compiled = query.compile(session.get_bind(), compile_kwargs={"literal_binds": True})
    return "\n".join(row[0] for row in session.execute(text(f"EXPLAIN {compiled}")))


FILTERS = [LeadFilter(), LeadFilter(grade="hot"), LeadFilter(stage="mql"),
           LeadFilter(owner="olga"), LeadFilter(source="event")]  # fmt: skip


def test_each_list_order_and_the_search_read_an_index(request: pytest.FixtureRequest,
                                                      tmp_path: Path) -> None:  # fmt: skip
    """With sequential scans and sorts priced out, a plan without the intended index means
    the index does not fit the query (a changed order, expression or folding)."""
    db = fresh_database("postgresql", request, tmp_path)
    with db.unit_of_work() as session:
        session.execute(text("SET LOCAL enable_seqscan = off"))
        session.execute(text("SET LOCAL enable_sort = off"))
        for sort, (_, descending) in SORTS.items():
            for where in FILTERS if descending else ():
                plan = _plan(session, listing(where, sort, 51))
                assert "Index Scan" in plan and "ix_leads_by_" in plan, (sort, where, plan)
        found = select(Lead.id).where(*LeadFilter(text="lead777@").conditions())
        assert "ix_leads_search" in _plan(session, found)


PIECES = ["", " ", "Anna", "KAMIŃSKA", "Ștefănescu", "Семён", "ŁÓDŹ", "o'brien", "x@firma.pl",
          "+48601234567", "ß", "中", "İı", "\t", "ÆØÅ", "ёЁ", "a\\b", "%_"]  # fmt: skip


@given(st.lists(st.none() | st.lists(st.sampled_from(PIECES), max_size=4).map("".join),
                min_size=5, max_size=5))  # fmt: skip
@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
def test_the_database_folds_any_mix_of_parts_as_the_application_does(
    db: Database, parts: list[str | None]
) -> None:
    """Plain ASCII parts skip the letter table, the others go through it: both as here."""
    with db.reading() as session:
        folded = session.scalar(Function(SQL_FUNCTION, *parts, type_=String()).select())
    assert folded == search_text(*parts)
