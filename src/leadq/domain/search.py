"""Finding a lead by what a person types: any part of the e-mail, name, company or phone,
whatever the case and with or without the accents of Polish, Romanian, Russian and the other
European alphabets ("kaminska" finds Kamińska, "stefanescu" finds Ștefănescu, "семен" finds
Семён), and a phone number however it is spaced.

The same folding runs in the database (a SQL function of the same name, with a trigram index
on PostgreSQL) and here, for the text typed, so both sides meet on one spelling."""

from __future__ import annotations

import re
import unicodedata

ACCENTED = (
    "ąćęłńóśźżĄĆĘŁŃÓŚŹŻ"  # Polish
    "ăâîșşțţĂÂÎȘŞȚŢ"  # Romanian (comma and cedilla forms)
    "àáãäåçèéêëìíïñòôõöøùúûüýÿčďěňřšťůžőűāēīūļķņģğı"  # other Latin alphabets
    "ÀÁÃÄÅÇÈÉÊËÌÍÏÑÒÔÕÖØÙÚÛÜÝŸČĎĚŇŘŠŤŮŽŐŰĀĒĪŪĻĶŅĢĞİ"
    "ёЁАБВГДЕЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ"  # Russian: ё is е; capitals lowered here, so the
)  # database's collation does not matter
SPECIAL = {"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "ı": "i", "ё": "е", "Ё": "е"}


def _plain(letter: str) -> str:
    if letter in SPECIAL:
        return SPECIAL[letter]
    if "\u0400" <= letter <= "\u04ff":
        return letter.lower()
    return unicodedata.normalize("NFKD", letter)[0]


PLAIN = "".join(_plain(letter) for letter in ACCENTED)
FOLD = str.maketrans(ACCENTED, PLAIN)
SQL_FUNCTION = "leadq_search_text"
PHONE_LIKE = re.compile(r"^\+?[\d\s().\-/]+$")


def fold(text: str) -> str:
    """Lower case without accents."""
    return text.translate(FOLD).lower()


def search_text(email: str | None, first_name: str | None, last_name: str | None,
                company: str | None, phone: str | None) -> str:  # fmt: skip
    """What a lead is found by: its contact, name and company, folded, in one text."""
    return fold(" ".join(part or "" for part in (email, first_name, last_name, company, phone)))


def pattern(typed: str) -> str:
    """The text to look for: a phone number as its digits (stored numbers are E.164), any
    other text folded."""
    text = typed.strip()
    digits = re.sub(r"\D", "", text)
    if PHONE_LIKE.match(text) and len(digits) >= 3:
        return digits
    return fold(text)
