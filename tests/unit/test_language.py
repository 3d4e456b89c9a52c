"""A reader's language: which one a browser gets, and the local forms of figures, money and
moments, through Babel's CLDR data."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadq.i18n import LANGUAGES, Language, negotiate, supported, time_zone

NBSP = "\xa0"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("pl-PL,pl;q=0.9,en-US;q=0.8,en;q=0.7", "pl"),
        ("de-DE,de;q=0.9,ro;q=0.5", "ro"),  # the first one we have
        ("en;q=0.1,ru;q=0.9", "ru"),  # by weight, not by position
        ("RU-ru", "ru"),
        ("ru_RU", "ru"),
        ("de, fr", "en"),  # none of ours: the workspace's default
        ("pl;q=0", "en"),  # "not Polish"
        ("pl;q=abc, ro", "ro"),  # a malformed weight drops only its part
        ("", "en"),
        (None, "en"),
        ("pl," * 400, "en"),  # oversized: ignored
        ("\x00pl", "en"),
        ("*", "en"),
    ],
)
def test_the_browser_language_is_negotiated(header: str | None, expected: str) -> None:
    assert negotiate(header, "en") == expected


@given(st.text(max_size=600))
def test_any_header_gives_one_of_our_languages(header: str) -> None:
    assert negotiate(header, "pl") in LANGUAGES


def test_only_our_languages_are_supported() -> None:
    assert [supported(v) for v in ("pl-PL", "RO", "ru_RU", "de", "", None, "x" * 50)] == [
        "pl", "ro", "ru", None, None, None, None,
    ]  # fmt: skip


def test_money_reads_as_one_figure_in_the_locale_form() -> None:
    assert Language("pl", currency="PLN").money(4534.45) == f"4{NBSP}534,45{NBSP}zł"
    assert Language("ru", currency="RUB").money(4534.45) == f"4{NBSP}534,45{NBSP}₽"
    assert Language("ro", currency="RON").money(4534.45) == f"4.534,45{NBSP}RON"
    assert Language("en", currency="EUR").money(4534.45) == "€4,534.45"
    assert Language("pl", currency="PLN").money(100, "EUR") == f"100,00{NBSP}€"  # its own
    assert " " not in Language("pl", currency="PLN").money(1234567.5)  # never a breakable space


def test_numbers_percentages_and_missing_values() -> None:
    polish = Language("pl")
    assert polish.number(14534.456, 1) == f"14{NBSP}534,5"
    assert Language("en").number(14534.456) == "14,534"
    assert polish.percent(0.1234, 1) == "12,3%"
    assert Language("ru").percent(0.5) == f"50{NBSP}%"
    assert (polish.number(None), polish.percent(None), polish.money(None)) == ("–", "–", "–")


def test_moments_are_shown_in_the_readers_time_zone() -> None:
    moment = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)
    assert Language("ru", zone=time_zone("Europe/Moscow")).when(moment) == "02.12.2026, 02:30"
    assert Language("pl", zone=time_zone("Europe/Warsaw")).when(moment) == "2.12.2026, 00:30"
    assert Language("en").when(moment) == "12/1/26, 11:30\u202fPM"
    assert Language("ro").day(moment) == "1 dec. 2026"
    assert time_zone("Not/A_Zone") is UTC and time_zone(None) is UTC


def test_labels_come_from_documents_then_the_catalogue_then_the_code() -> None:
    labels = {"hot": {"pl": "gorący", "en": "Hot"}, "mql": {"en": "MQL"}}
    polish, romanian = Language("pl", labels=labels), Language("ro", labels=labels)
    assert polish.label("hot", "grade") == "gorący"
    assert romanian.label("hot", "grade") == "Hot"  # no Romanian: the document's English
    assert polish.label("mql", "stage", default="Marketing") == "MQL"  # the document's English
    assert polish.label("iql", "stage", default="Information") == "Information"
    scoped = Language("pl", labels={"hot": {"pl": "gorący"}, "rule:hot": {"pl": "Reguła"}})
    assert (scoped.label("hot", "grade"), scoped.label("hot", "rule")) == ("gorący", "Reguła")
    assert polish.label("made_up_code", "stage") == "made up code"


@pytest.mark.parametrize(("language", "delimiter"), [("pl", ";"), ("ro", ";"), ("ru", ";"),
                                                     ("en", ",")])  # fmt: skip
def test_csv_figures_follow_the_locale_spreadsheet(language: str, delimiter: str) -> None:
    reader = Language(language)
    assert reader.csv_delimiter == delimiter
    out = io.StringIO()
    csv.writer(out, delimiter=reader.csv_delimiter).writerow(["a;b", reader.csv_number(0.25)])
    back = next(csv.reader(io.StringIO(out.getvalue()), delimiter=reader.csv_delimiter))
    assert back == ["a;b", "0,25" if delimiter == ";" else "0.25"]


@pytest.mark.parametrize(
    ("labels", "reason"),
    [('{mql: {pl: "M\\nQL"}}', "one line of text"), ("{mql: {po: Gorący}}", "en, pl, ro, ru"),
     ("{mql: {pl: ''}}", "at least 1 character"), ("[1, 2]", "valid dictionary"),
     ("{mql: {pl: " + "x" * 400 + "}}", "at most 300"), ("{mql: Gorący}", "valid dictionary")],
)  # fmt: skip
def test_a_documents_labels_are_refused_with_the_place_and_the_reason(
    labels: str, reason: str
) -> None:
    from importlib import resources

    from leadq.domain.documents import DocumentError, parse_document
    from leadq.domain.lifecycle import Lifecycle

    shipped = (resources.files("leadq.models") / "lifecycle.yaml").read_text("utf-8")
    text = shipped[: shipped.index("\nlabels:")] + f"\nlabels: {labels}\n"
    with pytest.raises(DocumentError, match=re.escape(reason)) as refused:
        parse_document(text, "lifecycle.yaml", Lifecycle)
    assert refused.value.path.startswith("labels")
