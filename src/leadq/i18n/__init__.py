"""The languages people read leadq in: gettext catalogues (Babel), the language a reader
gets, and local forms of numbers, money, dates and CSV files.

Codes stay codes in the API, the database and the documents; people see labels. A label
comes from the documents first (``labels: {id: {pl: …}}`` in a scoring model, lifecycle,
framework or automation document), then from the catalogue (``pgettext(kind, code)``), and
a code nobody labelled is shown with its underscores as spaces.
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.core import negotiate_locale
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal, format_percent, get_decimal_symbol
from babel.support import Translations

LANGUAGES = ("en", "pl", "ro", "ru")
"""The languages with a complete catalogue; the first is the fallback."""
DOMAIN = "messages"
LANGUAGE_NAMES = {"en": "English", "pl": "Polski", "ro": "Română", "ru": "Русский"}

Labels = Mapping[str, Mapping[str, str]]
"""Labels a document gives its ids: ``{id: {language: text}}``."""


def N_(message: str) -> str:
    """Marks a message for the catalogues where it is defined; it is translated where shown."""
    return message


def catalogue_folder() -> resources.abc.Traversable:
    return resources.files("leadq.i18n") / "locale"


@lru_cache(maxsize=len(LANGUAGES))
def translations(language: str) -> gettext.NullTranslations:
    """The language's catalogue: the ``.mo`` the install compiled, or its ``.po`` compiled
    here when that is newer (a catalogue edited since) or alone; none: English as written."""
    folder = Path(str(catalogue_folder())) / language / "LC_MESSAGES"
    compiled, source = folder / f"{DOMAIN}.mo", folder / f"{DOMAIN}.po"
    if compiled.is_file() and (
        not source.is_file() or compiled.stat().st_mtime >= source.stat().st_mtime
    ):
        return Translations(io.BytesIO(compiled.read_bytes()), domain=DOMAIN)
    if source.is_file():
        buffer = io.BytesIO()
        write_mo(buffer, read_po(io.BytesIO(source.read_bytes()), locale=language))
        buffer.seek(0)
        return Translations(buffer, domain=DOMAIN)
    return gettext.NullTranslations()


def negotiate(accept_language: str | None, default: str) -> str:
    """The best of our languages for an ``Accept-Language`` header (``pl-PL,pl;q=0.9,en;q=0.5``),
    else ``default``; a malformed or oversized header counts as absent."""
    if not accept_language or len(accept_language) > 500:
        return default
    weighted = []
    for position, part in enumerate(accept_language.split(",")[:20]):
        tag, _, quality = part.strip().partition(";q=")
        try:
            weight = float(quality) if quality else 1.0
        except ValueError:
            continue
        if tag and weight > 0:
            weighted.append((-weight, position, tag.strip().replace("_", "-")))
    preferred = [tag for _, _, tag in sorted(weighted)]
    return supported(negotiate_locale(preferred, LANGUAGES, sep="-")) or default


def supported(language: str | None) -> str | None:
    """The language if we have it (``pl``, ``pl-PL``, ``PL``), else ``None``."""
    if not language or len(language) > 35:
        return None
    base = language.strip().replace("_", "-").split("-")[0].lower()
    return base if base in LANGUAGES else None


def time_zone(name: str | None) -> tzinfo:
    """The named IANA zone, UTC for none or one this machine does not know."""
    if not name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def valid_time_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def valid_currency(code: str) -> bool:
    """An ISO 4217 code Babel knows (``PLN``, ``RON``, ``RUB``, ``EUR``…)."""
    from babel.numbers import get_currency_name

    return len(code) == 3 and code.isalpha() and get_currency_name(code.upper()) != code.upper()


@dataclass(frozen=True)
class Language:
    """What a reader gets: the words of one catalogue and the local forms of one locale, in
    the reader's time zone, money in the workspace currency."""

    code: str = LANGUAGES[0]
    zone: tzinfo = UTC
    currency: str = "EUR"
    labels: Labels = field(default_factory=dict)

    @property
    def locale(self) -> Locale:
        return _locale(self.code)

    @property
    def catalogue(self) -> gettext.NullTranslations:
        return translations(self.code)

    def gettext(self, message: str) -> str:
        return self.catalogue.gettext(message)

    def ngettext(self, singular: str, plural: str, count: int) -> str:
        return self.catalogue.ngettext(singular, plural, count)

    def pgettext(self, context: str, message: str) -> str:
        return self.catalogue.pgettext(context, message)

    def label(self, code: object, kind: str = "", default: str | None = None) -> str:
        """What people read for a code: the documents' label in this language (``kind:code``
        first, as a document may scope its ids), then the catalogue's, then the documents'
        English label, then ``default`` (a document's own English text), then the code with
        spaces."""
        text = str(code)
        given = (self.labels.get(f"{kind}:{text}") if kind else None) or self.labels.get(text, {})
        if found := given.get(self.code):
            return found
        translated = self.pgettext(kind, text) if kind else text
        if translated != text:
            return translated
        return given.get(LANGUAGES[0]) or default or text.replace("_", " ")

    def number(self, value: float | Decimal | None, digits: int = 0) -> str:
        if value is None:
            return "–"
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        return format_decimal(value, pattern, locale=self.locale)

    def figure(self, value: float, signed: bool = False) -> str:
        """A score (``22.0``) or points (``+9``, ``-2.5``) in the reader's form of numbers, with
        as many decimals as Python's own form of the value has."""
        written = f"{value:+g}" if signed else str(value)
        digits = min(len(written.partition("e")[0].partition(".")[2]), 6)
        text = self.number(value, digits)
        return "+" + text if signed and value >= 0 else text

    def percent(self, value: float | None, digits: int = 0) -> str:
        """A fraction as the locale writes a percentage (``12,3%``, ``12,3 %``)."""
        if value is None:
            return "–"
        pattern = self.locale.percent_formats[None].pattern
        if digits:
            end = pattern.rindex("0") + 1
            pattern = f"{pattern[:end]}.{'0' * digits}{pattern[end:]}"
        return format_percent(value, pattern, locale=self.locale)

    def money(self, value: float | Decimal | None, currency: str | None = None) -> str:
        if value is None:
            return "–"
        return format_currency(value, (currency or self.currency).upper(), locale=self.locale)

    def when(self, value: datetime | None) -> str:
        """A moment in the reader's time zone, the locale's short form (``1.12.2026, 11:05``)."""
        if value is None:
            return ""
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return format_datetime(moment, "short", tzinfo=self.zone, locale=self.locale)

    def day(self, value: date | datetime | None) -> str:
        if value is None:
            return ""
        if isinstance(value, datetime):
            value = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(self.zone)
        return format_date(value, "medium", locale=self.locale)

    @property
    def decimal_mark(self) -> str:
        return get_decimal_symbol(self.locale)

    @property
    def csv_delimiter(self) -> str:
        """Excel's list separator for the locale: ``;`` where the comma is the decimal mark."""
        return ";" if self.decimal_mark == "," else ","

    def csv_number(self, value: float | int | None) -> str:
        """A figure as the locale's spreadsheet reads it: no grouping, its decimal mark."""
        if value is None:
            return ""
        return str(value).replace(".", self.decimal_mark)


@lru_cache(maxsize=len(LANGUAGES))
def _locale(code: str) -> Locale:
    try:
        return Locale.parse(code)
    except (UnknownLocaleError, ValueError):
        return Locale.parse(LANGUAGES[0])
