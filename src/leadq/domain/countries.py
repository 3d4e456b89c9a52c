"""Countries as people write them in a CRM field — ``US``, ``Poland``, ``România``,
``Россия``, ``Deutschland`` — read as ISO 3166 alpha-2 codes (what phone numbering uses).

Names come from the Unicode CLDR (through Babel) in the languages of the markets leadq serves
and their neighbours, so any export's country column is read the same way, not a list of the
spellings one file happens to use."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

LANGUAGES = ("en", "pl", "ro", "ru", "uk", "de", "fr", "es", "it", "pt", "nl", "cs", "sk", "hu",
             "bg", "tr", "sv", "fi", "da", "lt", "lv", "et")  # fmt: skip
_CODE = re.compile(r"^[A-Za-z]{2}$")


def _key(text: str) -> str:
    """Case, accents, punctuation and spacing do not tell countries apart."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    letters = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w]+", " ", letters).split())


@lru_cache(maxsize=1)
def _names() -> dict[str, str]:
    from babel import Locale  # the CLDR tables load once, when a name is first read

    found: dict[str, str] = {}
    for language in LANGUAGES:
        for code, name in Locale.parse(language).territories.items():
            if _CODE.match(code) and code != "ZZ":
                found.setdefault(_key(name), code)
    return found


def country_code(text: str | None) -> str | None:
    """``PL`` for ``pl``, ``Poland``, ``Polska`` or ``Польша``; None when it names no country."""
    if not text or not text.strip():
        return None
    return _code_of(text.strip())


@lru_cache(maxsize=4096)
def _code_of(value: str) -> str | None:
    """Cached: a file names a few countries again and again (a lead's are read twice)."""
    if _CODE.match(value) and value.upper() in _codes():
        return value.upper()
    return _names().get(_key(value))


@lru_cache(maxsize=1)
def _codes() -> frozenset[str]:
    return frozenset(_names().values())
