"""Seniority from job titles in English, Polish, Romanian and Russian.

Each table reads as the specification: title as a lead typed it → the seniority we infer.
"""

from __future__ import annotations

import re

import pytest

from leadq.domain.seniority import SENIORITY_RULES, Seniority, fold, infer_seniority

C_LEVEL, OWNER, VP = Seniority.c_level, Seniority.owner, Seniority.vp
DIRECTOR, MANAGER, INDIVIDUAL = Seniority.director, Seniority.manager, Seniority.individual

ENGLISH = [
    ("CEO", C_LEVEL),
    ("Chief Revenue Officer", C_LEVEL),
    ("  chief   executive OFFICER ", C_LEVEL),
    ("Co-founder & CTO", C_LEVEL),  # the C-level job outranks the founder one
    ("Managing Director", C_LEVEL),
    ("President", C_LEVEL),
    ("Chairman of the Board", C_LEVEL),
    ("C.E.O.", C_LEVEL),
    ("Board Member", C_LEVEL),
    ("Vice President of Sales", VP),  # not "President"
    ("SVP Marketing", VP),
    ("Deputy CEO", VP),
    ("Founder", OWNER),
    ("Business Owner", OWNER),
    ("Proprietor", OWNER),
    ("Owner / Store Manager", OWNER),  # a double title counts as the higher
    ("Co-founder, Team Lead", OWNER),
    ("Head of Marketing", DIRECTOR),  # "head" is never inferred
    ("Director of Engineering", DIRECTOR),  # "cto" is not inside "director"
    ("Senior Director, Sales Operations", DIRECTOR),
    ("Sales Director / Account Manager", DIRECTOR),
    ("Non-Executive Director", DIRECTOR),  # not "Executive Director"
    ("Sales Manager", MANAGER),
    ("Team Leader", MANAGER),
    ("Supervisor", MANAGER),
    ("Internal Audit Manager", MANAGER),  # "internal" is not "intern"
    ("Assistant to the CEO", INDIVIDUAL),
    ("Assistant to the Vice President", INDIVIDUAL),
    ("Executive Assistant to the Managing Director", INDIVIDUAL),
    ("Marketing Intern", INDIVIDUAL),
    ("Product Owner", INDIVIDUAL),  # a Scrum role, not an owner of the business
    ("System Administrator", INDIVIDUAL),
    ("Head Office Administrator", INDIVIDUAL),
    ("Software Engineer", INDIVIDUAL),
]
POLISH = [
    ("Prezes Zarządu", C_LEVEL),
    ("PREZES", C_LEVEL),
    ("Członek Zarządu", C_LEVEL),
    ("Dyrektor Generalny", C_LEVEL),
    ("Dyrektor Zarządzający", C_LEVEL),
    ("Wiceprezes Zarządu", VP),
    ("Zastępca Prezesa Zarządu", VP),
    ("Właściciel", OWNER),
    ("Współwłaścicielka", OWNER),
    ("Założyciel", OWNER),
    ("Współzałożyciel", OWNER),
    ("Wspólnik", OWNER),
    ("Przedsiębiorca", OWNER),
    ("Dyrektor sprzedaży", DIRECTOR),
    ("  dyrektor   SPRZEDAŻY ", DIRECTOR),
    ("Dyrektorka HR", DIRECTOR),
    ("Zastępca Dyrektora ds. Sprzedaży", DIRECTOR),
    ("Szef działu IT", DIRECTOR),
    ("Główny Księgowy", DIRECTOR),
    ("Kierownik", MANAGER),
    ("kierowniczka zmiany", MANAGER),
    ("Menedżer ds. klientów", MANAGER),
    ("Lider zespołu", MANAGER),
    ("Szef zespołu", MANAGER),  # "szef" alone is a director
    ("Asystentka prezesa", INDIVIDUAL),  # not "prezes"
    ("Sekretarka", INDIVIDUAL),
    ("Stażysta", INDIVIDUAL),
    ("Specjalista ds. marketingu", INDIVIDUAL),
]
ROMANIAN = [
    ("Director General", C_LEVEL),
    ("Director Executiv", C_LEVEL),
    ("Directoare generală", C_LEVEL),
    ("Manager General", C_LEVEL),
    ("Președinte", C_LEVEL),
    ("Administrator", C_LEVEL),  # the legal head of an SRL
    ("Administrator unic", C_LEVEL),
    ("Membru în Consiliul de Administrație", C_LEVEL),
    ("Vicepreședinte", VP),
    ("Director General Adjunct", VP),
    ("Fondator", OWNER),
    ("Co-fondator", OWNER),
    ("Fondatoare", OWNER),
    ("Proprietar", OWNER),
    ("Asociat", OWNER),
    ("Director vânzări", DIRECTOR),
    ("  DIRECTOR   vânzări ", DIRECTOR),
    ("Directoare marketing", DIRECTOR),
    ("Șef departament", DIRECTOR),
    ("Șef echipă", MANAGER),  # ș with comma below
    ("Şef echipă", MANAGER),  # ş with cedilla, as old keyboards type it
    ("Șef de proiect", MANAGER),
    ("Manager de proiect", MANAGER),
    ("Coordonator vânzări", MANAGER),
    ("Coordonatoare echipă vânzări", MANAGER),
    ("Asistent manager", INDIVIDUAL),  # an executive assistant, not a manager
    ("Secretară", INDIVIDUAL),
    ("Inginer software", INDIVIDUAL),
    ("Contabil", INDIVIDUAL),
]
RUSSIAN = [
    ("Генеральный директор", C_LEVEL),
    ("  ГЕНЕРАЛЬНЫЙ   директор ", C_LEVEL),
    ("Гендиректор", C_LEVEL),
    ("Исполнительный директор", C_LEVEL),
    ("Управляющий директор", C_LEVEL),
    ("Президент", C_LEVEL),
    ("Председатель правления", C_LEVEL),
    ("Член правления", C_LEVEL),
    ("Вице-президент", VP),
    ("Заместитель генерального директора", VP),
    ("Владелец", OWNER),
    ("Совладелец", OWNER),
    ("Основатель", OWNER),
    ("Соучредитель", OWNER),
    ("ИП", OWNER),  # sole trader
    ("Директор", DIRECTOR),
    ("Директор по продажам", DIRECTOR),
    ("Руководитель отдела маркетинга", DIRECTOR),
    ("Начальник отдела продаж", DIRECTOR),
    ("Главный бухгалтер", DIRECTOR),
    ("Руководитель группы", MANAGER),  # "руководитель" alone is a director
    ("Начальник смены", MANAGER),
    ("Менеджер по продажам", MANAGER),
    ("Тимлид", MANAGER),
    ("Помощник директора", INDIVIDUAL),  # not "директор"
    ("Помощник вице-президента", INDIVIDUAL),
    ("Стажёр", INDIVIDUAL),
    ("Стажер", INDIVIDUAL),
    ("Секретарь", INDIVIDUAL),
    ("Бухгалтер", INDIVIDUAL),
    ("Главный специалист", INDIVIDUAL),  # a pay grade, not a head
]
ALL_VECTORS = ENGLISH + POLISH + ROMANIAN + RUSSIAN


@pytest.mark.parametrize(("title", "expected"), ALL_VECTORS)
def test_seniority_from_title(title: str, expected: Seniority) -> None:
    assert infer_seniority(title) is expected


@pytest.mark.parametrize("title", [None, "", "   ", "\t\n"])
def test_no_title_means_no_seniority(title: str | None) -> None:
    assert infer_seniority(title) is None


@pytest.mark.parametrize("title", ["Astronaut", "Контролёр", "Ślusarz", "Muncitor", "???"])
def test_unmatched_title_is_an_individual(title: str) -> None:
    assert infer_seniority(title) is INDIVIDUAL


def test_fold_removes_latin_diacritics_and_keeps_cyrillic() -> None:
    assert fold("  Właściciel  Spółki ŻÓŁĆ ") == "wlasciciel spolki zolc"
    assert fold("Șef echipă, Ţară, Şef, Înalt") == "sef echipa, tara, sef, inalt"
    assert fold("Стажёр Й") == "стажёр й"


def test_every_vector_table_is_big_enough() -> None:
    assert min(len(ENGLISH), len(POLISH), len(ROMANIAN), len(RUSSIAN)) >= 12


def test_rule_table_compiles_and_never_infers_head() -> None:
    for seniority, patterns in SENIORITY_RULES:
        assert isinstance(seniority, Seniority)
        assert patterns
        for pattern in patterns:
            re.compile(pattern)
    assert Seniority.head not in {seniority for seniority, _ in SENIORITY_RULES}


def test_every_seniority_but_head_is_reachable() -> None:
    reached = {infer_seniority(title) for title, _ in ALL_VECTORS}
    assert reached == set(Seniority) - {Seniority.head}  # "head" is only ever stated
