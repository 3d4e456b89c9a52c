"""The demo's people, market by market: a woman's surname and title take the feminine form
where her language inflects them, a man's the masculine one, and everyone lives, works and
phones from their own market."""

from __future__ import annotations

from typing import Any, get_args

import pytest

from leadq.domain.leads import normalise_phone
from leadq.i18n import LANGUAGES
from leadq.services.demo import MARKETS, Locale, demo_people
from leadq.services.errors import InvalidInput

MANY = 2000
MASCULINE = {"pl": ("ski", "cki", "dzki"), "ru": ("ов", "ев", "ёв", "ин", "ын", "ский", "цкий")}
FEMININE = {"pl": ("ska", "cka", "dzka"), "ru": ("ова", "ева", "ёва", "ина", "ына", "ская", "цкая")}
"""Surname endings only one gender wears."""
CITIES = {
    "pl": {"Warszawa", "Kraków", "Wrocław", "Poznań", "Gdańsk", "Łódź", "Katowice"},
    "ro": {"București", "Cluj-Napoca", "Timișoara", "Iași", "Brașov", "Constanța"},
    "ru": {"Москва", "Санкт-Петербург", "Новосибирск", "Екатеринбург", "Казань",
           "Нижний Новгород"},
    "en": {"London", "Manchester", "Bristol", "Edinburgh", "New York", "Boston", "Chicago",
           "Austin"},
}  # fmt: skip
COUNTRIES = {"pl": {"PL"}, "ro": {"RO"}, "ru": {"RU"}, "en": {"GB", "US"}}
CALLING = {"PL": "+48", "RO": "+40", "RU": "+7", "GB": "+44", "US": "+1"}


def _women_and_men(locale: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    people, gender = demo_people(MANY, locale=locale), MARKETS[locale].gender
    return ([p for p in people if gender(p["first_name"]) == "f"],
            [p for p in people if gender(p["first_name"]) == "m"])  # fmt: skip


def test_the_markets_are_leadqs_languages() -> None:
    assert tuple(MARKETS) == LANGUAGES == get_args(Locale)


def test_first_names_are_listed_with_their_real_gender() -> None:
    """Not a circular check: Polish and Russian women's names end in -a/-я, men's do not."""
    for locale, endings in (("pl", ("a",)), ("ru", ("а", "я"))):
        for name, gender in MARKETS[locale].first_names:
            assert name.endswith(endings) == (gender == "f"), (locale, name, gender)


@pytest.mark.parametrize("locale", ["pl", "ru"])
def test_surnames_agree_with_the_first_names_gender(locale: str) -> None:
    women, men = _women_and_men(locale)
    assert len(women) > MANY / 3 and len(men) > MANY / 3
    wrong = [
        f"{p['first_name']} {p['last_name']}"
        for p in women
        if p["last_name"].endswith(MASCULINE[locale])
    ]
    wrong += [f"{p['first_name']} {p['last_name']}" for p in men
              if p["last_name"].endswith(FEMININE[locale])]  # fmt: skip
    assert wrong == []
    # both inflected forms are really drawn, and an uninflected surname serves both genders
    assert any(p["last_name"].endswith(FEMININE[locale]) for p in women)
    assert any(p["last_name"].endswith(MASCULINE[locale]) for p in men)
    same = {p["last_name"] for p in women} & {p["last_name"] for p in men}
    assert same and not any(name.endswith(MASCULINE[locale] + FEMININE[locale]) for name in same)


def test_concrete_names_are_never_mismatched() -> None:
    names = {f"{p['first_name']} {p['last_name']}" for loc in ("pl", "ru")
             for p in demo_people(MANY, locale=loc)}  # fmt: skip
    assert {"Ольга Козлова", "Piotr Kamiński", "Иван Попов"} <= names
    assert not names & {"Ольга Козлов", "Piotr Kamińska", "Иван Попова", "Anna Kowalski"}


@pytest.mark.parametrize("locale", ["pl", "ro"])
def test_titles_take_the_persons_gender(locale: str) -> None:
    women, men = _women_and_men(locale)
    pairs = [pair for pair in MARKETS[locale].titles if pair[0] != pair[1]]
    assert pairs
    assert not {p["job_title"] for p in women} & {masculine for masculine, _ in pairs}
    assert not {p["job_title"] for p in men} & {feminine for _, feminine in pairs}
    if locale == "pl":
        assert "Księgowa" not in {p["job_title"] for p in men}


@pytest.mark.parametrize("locale", list(CITIES))
def test_people_live_work_and_phone_in_their_market(locale: str) -> None:
    people = demo_people(600, locale=locale)
    companies = {c.name: c for c in MARKETS[locale].companies}
    assert {p["country"] for p in people} == COUNTRIES[locale]
    cities = {p["city"] for p in people if p["city"]}
    assert cities == CITIES[locale]
    for person in people:
        company = companies.get(person["company"]) if person["company"] else None
        assert person["company"] is None or company is not None, person
        if company is not None:
            assert company.country == person["country"] and person["email"].endswith(
                "@" + company.domain
            )
        assert person["email"].isascii(), person
        if person["phone"]:
            assert person["phone"].startswith(CALLING[person["country"]] + " ")
            normalise_phone(person["phone"])  # a possible number of its country
    assert len({p["phone"] for p in people if p["phone"]}) == sum(1 for p in people if p["phone"])


def test_market_company_names_read_as_local_firms() -> None:
    names = {locale: [c.name for c in market.companies] for locale, market in MARKETS.items()}
    assert "Kowalski i Wspólnicy sp. z o.o." in names["pl"]
    assert all(n.endswith((" sp. z o.o.", " S.A.", " s.c.")) for n in names["pl"])
    assert "Softline SRL" in names["ro"]
    assert all(n.endswith((" SRL", " SA", " SCA")) for n in names["ro"])
    assert "ООО «Альфа-Системы»" in names["ru"]
    assert all(n.startswith(("ООО «", "АО «", "АНО «")) for n in names["ru"])


def test_without_a_locale_every_market_is_mixed_and_the_seed_decides() -> None:
    people = demo_people(400)
    assert {p["country"] for p in people} == {"PL", "RO", "RU", "GB", "US"}
    assert people == demo_people(400) != demo_people(400, seed=8)
    for person in people:  # each person still comes from one market
        market = next(m for loc, m in MARKETS.items() if person["country"] in COUNTRIES[loc])
        forms = next(pair for pair in market.surnames if person["last_name"] in pair)
        assert person["last_name"] == forms[market.gender(person["first_name"]) == "f"]


def test_an_unknown_locale_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(InvalidInput, match="en, pl, ro, ru"):
        demo_people(3, locale="xx")
