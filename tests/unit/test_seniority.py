"""Seniority from job titles in English, Polish, Romanian and Russian."""

from __future__ import annotations

import re

import pytest

from leadq.domain.seniority import SENIORITY_RULES, Seniority, fold, infer_seniority

S = Seniority
ENGLISH = [
    ("CEO", S.c_level), ("Chief Revenue Officer", S.c_level), ("Co-founder & CTO", S.c_level),
    ("Managing Director", S.c_level), ("President", S.c_level), ("Founder", S.owner),
    ("Business Owner", S.owner), ("Vice President of Sales", S.vp), ("SVP Marketing", S.vp),
    ("Head of Marketing", S.director), ("Director of Engineering", S.director),
    ("Sales Manager", S.manager), ("Team Leader", S.manager), ("Supervisor", S.manager),
    ("Assistant to the CEO", S.individual), ("Software Engineer", S.individual),
    ("Product Owner", S.individual), ("System Administrator", S.individual),
    ("  chief   executive OFFICER ", S.c_level),
]  # fmt: skip
POLISH = [
    ("Prezes Zarządu", S.c_level), ("Członek Zarządu", S.c_level),
    ("Dyrektor Generalny", S.c_level), ("Wiceprezes Zarządu", S.vp), ("Właściciel", S.owner),
    ("Współwłaścicielka", S.owner), ("Założyciel", S.owner), ("Dyrektor sprzedaży", S.director),
    ("Dyrektorka HR", S.director), ("Szef działu IT", S.director), ("Kierownik", S.manager),
    ("Kierowniczka zmiany", S.manager), ("Menedżer ds. klientów", S.manager),
    ("Lider zespołu", S.manager), ("Asystentka prezesa", S.individual),
    ("Specjalista ds. marketingu", S.individual), ("Stażysta", S.individual),
]  # fmt: skip
ROMANIAN = [
    ("Director General", S.c_level), ("Director Executiv", S.c_level),
    ("Președinte", S.c_level), ("Administrator", S.c_level), ("Vicepreședinte", S.vp),
    ("Fondator", S.owner), ("Proprietar", S.owner), ("Asociat", S.owner),
    ("Director vânzări", S.director), ("Șef departament", S.director),
    ("Şef echipă", S.manager), ("Manager de proiect", S.manager),
    ("Coordonator vânzări", S.manager), ("Asistent manager", S.individual),
    ("Inginer software", S.individual), ("Contabil", S.individual),
]  # fmt: skip
RUSSIAN = [
    ("Генеральный директор", S.c_level), ("Гендиректор", S.c_level),
    ("Исполнительный директор", S.c_level), ("Управляющий директор", S.c_level),
    ("Президент", S.c_level), ("Председатель правления", S.c_level),
    ("Вице-президент", S.vp), ("Владелец", S.owner), ("Совладелец", S.owner),
    ("Основатель", S.owner), ("Директор по продажам", S.director),
    ("Руководитель отдела маркетинга", S.director), ("Начальник отдела продаж", S.director),
    ("Руководитель группы", S.manager), ("Менеджер по продажам", S.manager),
    ("Помощник директора", S.individual), ("Стажёр", S.individual),
    ("Бухгалтер", S.individual),
]  # fmt: skip


@pytest.mark.parametrize(("title", "expected"), ENGLISH + POLISH + ROMANIAN + RUSSIAN)
def test_seniority_from_title(title: str, expected: Seniority) -> None:
    assert infer_seniority(title) is expected


@pytest.mark.parametrize("title", [None, "", "   "])
def test_no_title_means_no_seniority(title: str | None) -> None:
    assert infer_seniority(title) is None


def test_fold_removes_latin_diacritics_and_keeps_cyrillic() -> None:
    assert fold("  Właściciel  Spółki ") == "wlasciciel spolki"
    assert fold("Șef echipă, Ţară") == "sef echipa, tara"
    assert fold("Стажёр Й") == "стажёр й"


def test_rule_table_compiles_and_reaches_every_inferred_seniority() -> None:
    reached = {seniority for seniority, patterns in SENIORITY_RULES if patterns}
    for _, patterns in SENIORITY_RULES:
        for pattern in patterns:
            re.compile(pattern)
    assert reached == set(Seniority) - {Seniority.head}  # "head" is only ever stated
