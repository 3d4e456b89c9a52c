"""Seniority from a job title, in English, Polish, Romanian and Russian.

The rules are data: an ordered table of (seniority, patterns), first match wins. Order
matters — "Vice President" before "President", "Assistant to the CEO" before "CEO",
"Руководитель группы" (team lead) before "Руководитель" (head). Titles are folded first
(lower case, Latin diacritics removed, Cyrillic kept) so patterns stay plain ASCII or Cyrillic.
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum


class Seniority(StrEnum):
    c_level = "c_level"
    owner = "owner"
    vp = "vp"
    director = "director"
    head = "head"
    manager = "manager"
    individual = "individual"


SENIORITY_RULES: tuple[tuple[Seniority, tuple[str, ...]], ...] = (
    (Seniority.individual, (
        r"\bassistant\b", r"\bsecretary\b", r"\bintern\b", r"\btrainee\b",
        r"\bproduct owner\b", r"\b(system|database|network|it) administrator\b",
        r"\basystent(ka)?\b", r"\bsekretar(z|ka)\b", r"\bstazyst(a|ka)\b", r"\bpraktykant",
        r"\basistent(a)?\b", r"\bsecretar(a)?\b", r"\bstagiar\b",
        r"помощник", r"ассистент", r"секретар", r"стаж[её]р", r"практикант",
    )),
    (Seniority.vp, (
        r"\bvice[\s-]*president", r"\b[se]?vp\b", r"\bwiceprezes", r"\bvicepresedinte",
        r"вице[\s-]*президент",
    )),
    (Seniority.c_level, (
        r"\bc[eftomirp]o\b", r"\bchief\b", r"\bpresident\b", r"\bmanaging director\b",
        r"\bgeneral manager\b",
        r"\bprezes", r"\bczlonek zarzadu\b", r"\bdyrektor (generaln|zarzadzajac)",
        r"\bdirector (general|executiv)\b", r"\bpresedinte\b", r"^administrator$",
        r"генеральн\w* директор", r"\bгендиректор", r"\bпрезидент",
        r"(исполнительн|управляющ)\w* директор", r"председател\w* правлени",
    )),
    (Seniority.owner, (
        r"\bowner\b", r"\b(co[\s-]?)?founder\b", r"\bproprietor\b",
        r"\b(wspol)?wlasciciel(ka)?\b", r"\bzalozyciel(ka)?\b",
        r"\bfondator(oare)?\b", r"\bproprietar(a)?\b", r"\basociat\b",
        r"\b(со)?владел", r"\bосновател", r"\bучредител",
    )),
    (Seniority.manager, (
        r"\bteam ?lead(er)?\b", r"\blider zespolu\b", r"\bsef (de )?echipa\b",
        r"руководител\w* (группы|проекта|команды)", r"начальник\w* (смены|участка|группы)",
        r"\bтимлид",
    )),
    (Seniority.director, (
        r"\bdirector\b", r"\bhead\b", r"\bdyrektor(ka)?\b", r"\bszef(owa)?\b", r"\bsef\b",
        r"\bдиректор", r"\bруководител", r"\bначальник",
    )),
    (Seniority.manager, (
        r"\bmanager\b", r"\bsupervisor\b", r"\bkierownik\b", r"\bkierowniczka\b",
        r"\bmen[ae]d?zer\b", r"\bkoordynator", r"\bcoordonator\b",
        r"\bменеджер", r"\bуправляющ",
    )),
)  # fmt: skip
"""Ordered rules; a non-blank title that matches none is an individual contributor."""

_COMPILED = tuple(
    (seniority, tuple(re.compile(p) for p in patterns)) for seniority, patterns in SENIORITY_RULES
)
_LATIN_EXTRA = str.maketrans({"ł": "l", "ß": "ss", "ø": "o", "đ": "d"})


def fold(text: str) -> str:
    """Lower case with Latin diacritics removed (ż→z, ș→s, ł→l); Cyrillic left as it is."""
    folded: list[str] = []
    for char in unicodedata.normalize("NFKD", text.lower().translate(_LATIN_EXTRA)):
        if unicodedata.combining(char) and folded and folded[-1].isascii():
            continue
        folded.append(char)
    return " ".join(unicodedata.normalize("NFC", "".join(folded)).split())


def infer_seniority(job_title: str | None) -> Seniority | None:
    """The seniority a job title states, or None when there is no title."""
    if job_title is None or not job_title.strip():
        return None
    title = fold(job_title)
    for seniority, patterns in _COMPILED:
        if any(p.search(title) for p in patterns):
            return seniority
    return Seniority.individual
