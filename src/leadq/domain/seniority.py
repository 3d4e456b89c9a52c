"""Seniority from a job title, in English, Polish, Romanian and Russian.

Seniority feeds the "authority" part of fit scoring, and most leads state a title but not a
seniority, so we infer it. The rules are data: an ordered table of (seniority, patterns), first
match wins, so a new language or title is one more row, not more code. Order matters —
assistants before the boss they assist ("Assistant to the CEO"), "Vice President" before
"President", "Руководитель группы" (team lead) before "Руководитель" (head).

Titles are folded first (lower case, Latin diacritics removed, Cyrillic kept as it is, spaces
collapsed), so patterns stay plain ASCII or Cyrillic and match "Șef", "Şef" and "SEF" alike.
Patterns use word boundaries so "cto" never matches inside "director".
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum
from functools import lru_cache
from typing import Final


class Seniority(StrEnum):
    """How senior a lead is; ``head`` is never inferred ("Head of X" is a director) but may be
    stated by users."""

    c_level = "c_level"
    owner = "owner"
    vp = "vp"
    director = "director"
    head = "head"
    manager = "manager"
    individual = "individual"


SeniorityRule = tuple[Seniority, tuple[str, ...]]

# Patterns are searched in the folded title; within a rule they run EN, then PL, RO, RU.
# fmt: off
SENIORITY_RULES: Final[tuple[SeniorityRule, ...]] = (
    # Support roles and juniors, even when the title names their boss.
    (Seniority.individual, (
        r"\bassistant\b", r"\bsecretary\b", r"\bintern(ship)?\b", r"\btrainee\b",
        r"\bapprentice\b", r"\b(product|process|service) owner\b",
        r"\b(system|database|network|it) administrator\b", r"\bsysadmin\b",
        r"\basystent(ka)?\b", r"\bsekretar(z|ka)\b", r"\bstazyst(a|ka)\b", r"\bpraktykant(ka)?\b",
        r"\basistent(a)?\b", r"\bsecretar(a)?\b", r"\bstagiar(a)?\b",
        r"\bпомощни(к|ца)", r"\bассистент", r"\bсекретар(ь|ша)\b", r"\bстаж[её]р",
        r"\bпрактикант", r"\bинтерн\b",
    )),
    # Vice presidents and deputies of the top job, before the top job itself.
    (Seniority.vp, (
        r"\bvice[\s-]*(president|chair)", r"\b[se]?vp\b",
        r"\bdeputy (ceo|chief executive|managing director|general manager|president|chair)",
        r"\bwiceprezes", r"\bwiceprzewodnicz",
        r"\bzastepc\w* (prezes|dyrektora (generalnego|zarzadzajacego))",
        r"\bvice[\s-]*presedinte", r"\bpresedinte adjunct\b",
        r"\bdirect(or|oare) (general|executiv)\w* adjunct",
        r"\bвице[\s-]*(президент|председател)",
        r"\bзам(еститель|естительница|\.)?\s*(генеральн|гендиректор|председател|президент)",
    )),
    (Seniority.c_level, (
        r"\bc\.?[ecftomirpsdx]\.?o\b", r"\bchief\b.*\bofficer\b", r"\bchief executive\b",
        r"\bpresident\b", r"\bchair(man|woman|person)\b", r"\bchair of the board\b",
        r"\bmanaging (director|partner)\b", r"\bgeneral manager\b",
        r"(?<!non[\s-])\bexecutive director\b",
        r"\bboard member\b", r"\bmember of the (management )?board\b",
        r"\bprezes", r"\bczlon(ek|kini) zarzadu\b", r"\bdyrektor\w* (generaln|zarzadzajac)",
        r"\bprzewodnicz\w* (rady|zarzadu)",
        r"\bdirect(or|orul|oare|oarea) (general|executiv)(a|ul)?\b", r"\bmanager general\b",
        r"\bpresedinte", r"\bmembru\w* (in |al )?(consiliul\w* de administratie|ca)\b",
        r"^administrator( (unic|general|societate|firma|srl))?$",
        r"\bгенеральн\w* директор", r"\bгендиректор", r"\bпрезидент",
        r"\b(исполнительн|управляющ)\w* (директор|партн[её]р)",
        r"\bпредседател\w* (правлени|совета директоров)", r"\bчлен\w* правлени",
    )),
    # Owners, founders, partners in the legal sense and sole traders.
    (Seniority.owner, (
        r"\bowner\b", r"\b(co[\s-]?)?founder\b", r"\bfounding (partner|member)\b",
        r"\bproprietor\b", r"\bentrepreneur\b",
        r"\b(wspol)?wlasciciel(ka)?\b", r"\b(wspol)?zalozyciel(ka)?\b",
        r"\bwspolni(k|czka)\b", r"\bprzedsiebiorc(a|zyni)\b",
        r"\b(co-?)?fondat(or|oare)\b", r"\bproprietar(a)?\b", r"\basociat(a)?\b",
        r"\bantreprenor\b",
        r"\b(со)?владел(ец|ица)", r"\b(со)?основател", r"\b(со)?учредител", r"\bип\b",
        r"\bпредпринимател",
    )),
    # Team-level leads whose words ("руководитель", "szef", "șef") otherwise mean a director.
    (Seniority.manager, (
        r"\b(team|group|shift) ?lead(er)?\b", r"\bforeman\b",
        r"\blider(ka)? zespolu\b", r"\bszef(owa)? (zespolu|zmiany|projektu)\b",
        r"\bbrygadzist(a|ka)\b",
        r"\bsef(a)? (de )?(echipa|tura|proiect|santier)\b",
        r"\bруководител\w* (группы|проекта|команды|смены)",
        r"\bначальни(к|ца)\w* (смены|участка|группы)", r"\bтимлид", r"\bбригадир",
    )),
    (Seniority.director, (
        r"\bdirect(or|orul|oare|oarea)\b", r"\bhead\b(?!\s+office)",
        r"\bchief (accountant|engineer)\b",
        r"\bdyrektor\w*", r"\bszef(owa)?\b", r"\bglown\w* (ksiegow|inzynier)",
        r"\bsef(a|ul)?\b",
        r"\bдиректор", r"\bруководител", r"\bначальни(к|ца)",
        r"\bглавн\w* (бухгалтер|инженер)",
    )),
    (Seniority.manager, (
        r"\bmanager(ka|ul)?\b", r"\bsupervisor\b",
        r"\bkierowni(k|czka)\w*", r"\bmen[ae]d?zer(ka)?\b", r"\bkoordynator(ka)?\b",
        r"\bcoordonat(or|oare)\b",
        r"\bменеджер", r"\bуправляющ", r"\bзаведующ",
    )),
)
# fmt: on
"""Ordered rules, first match wins; a non-blank title that matches none is an individual."""

_COMPILED: Final = tuple(
    (seniority, tuple(re.compile(p) for p in patterns)) for seniority, patterns in SENIORITY_RULES
)
# Latin letters NFKD does not decompose into base letter + combining mark.
_LATIN_EXTRA: Final = str.maketrans({"ł": "l", "ß": "ss", "ø": "o", "đ": "d"})


def fold(text: str) -> str:
    """Lower case with Latin diacritics removed (ż→z, ș/ş→s, ł→l) and spaces collapsed.

    Cyrillic is left as it is: stripping the breve would turn "й" into "и", a different letter.
    """
    folded: list[str] = []
    for char in unicodedata.normalize("NFKD", text.lower().translate(_LATIN_EXTRA)):
        if unicodedata.combining(char) and folded and folded[-1].isascii():
            continue
        folded.append(char)
    return " ".join(unicodedata.normalize("NFC", "".join(folded)).split())


@lru_cache(maxsize=8192)
def infer_seniority(job_title: str | None) -> Seniority | None:
    """The seniority a job title states; None when there is no title to judge by. Cached: an
    import reads each distinct title of its file once."""
    if job_title is None or not job_title.strip():
        return None
    title = fold(job_title)
    for seniority, patterns in _COMPILED:
        if any(p.search(title) for p in patterns):
            return seniority
    return Seniority.individual
