"""The reader's language and time zone, the message catalogues, and how numbers and times
are written (docs/PAGES.md §2).

Messages are English in the templates and in ``api.pages.vocab`` (gettext msgids) and
translated by the catalogue of each other language: ``api/locale/<lang>/LC_MESSAGES/
messages.po``, compiled in memory with Babel on first use (no compiled ``.mo`` is kept in
the repository). ``scripts/messages`` extracts the msgids and updates the catalogues;
tests/pages/test_i18n.py fails when a catalogue lacks a message.

The language comes, in this order, from ``?lang=`` (and is then remembered in the
``cl_lang`` cookie), the cookie, and the ``Accept-Language`` header (RFC 9110 §12.5.4);
English otherwise. The reader's time zone likewise from ``?tz=``, the ``cl_tz`` cookie, or
the language's default (``Asia/Shanghai`` for Chinese, UTC for English). Times are shown in
UTC and, when it differs, in the reader's zone.
"""

from __future__ import annotations

import gettext
import io
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import get_decimal_symbol, get_group_symbol

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "LANG_COOKIE",
    "LOCALE_DIR",
    "TZ_COOKIE",
    "ZONES",
    "Reader",
    "catalogue_path",
    "language_from_header",
    "translations",
]

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "messages"
LANG_COOKIE = "cl_lang"
TZ_COOKIE = "cl_tz"

#: Page language -> (the ``<html lang>`` tag, Babel's locale, the default time zone).
LANGUAGES: dict[str, tuple[str, str, str]] = {
    "en": ("en", "en", "UTC"),
    "zh": ("zh-CN", "zh_Hans_CN", "Asia/Shanghai"),
}
DEFAULT_LANGUAGE = "en"
#: The zones a reader may pick on every page (those of the regions the ledger serves);
#: ``?tz=`` takes any IANA zone name.
ZONES = (
    "UTC",
    "Asia/Shanghai",
    "Asia/Singapore",
    "Asia/Dubai",
    "Europe/Brussels",
    "Europe/London",
    "America/New_York",
    "Australia/Sydney",
)
_MAX_HEADER_CHARS = 500


def catalogue_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(lang: str) -> gettext.NullTranslations:
    """The translations of ``lang``: its catalogue compiled in memory; English has none
    (the msgids are English)."""
    if lang == DEFAULT_LANGUAGE:
        return gettext.NullTranslations()
    with catalogue_path(lang).open("rb") as source:
        catalogue = read_po(source, locale=LANGUAGES[lang][1], domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalogue, use_fuzzy=False)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def language_from_header(header: str | None) -> str | None:
    """The best of our languages in an ``Accept-Language`` header, by quality, or None."""
    if not header or len(header) > _MAX_HEADER_CHARS:
        return None
    best: tuple[float, int, str] | None = None
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                continue
        primary = tag.strip().lower().split("-")[0]
        if primary not in LANGUAGES or quality <= 0:
            continue
        # Higher quality first, then the order the client listed them in.
        candidate = (-quality, position, primary)
        if best is None or candidate < best:
            best = candidate
    return None if best is None else best[2]


def zone_named(name: str | None) -> ZoneInfo | None:
    """The IANA zone ``name`` names, or None for anything else."""
    if not name or len(name) > 64 or not all(c.isalnum() or c in "/_+-" for c in name):
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _moment(value: datetime | str) -> datetime:
    """A time as the pages get it: a datetime, or RFC 3339 text as a view carries it."""
    if isinstance(value, datetime):
        return value
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=ZoneInfo("UTC"))


@dataclass(frozen=True)
class Reader:
    """Who reads a page: the language, its translations and the reader's time zone."""

    lang: str
    zone: str

    @property
    def html_lang(self) -> str:
        return LANGUAGES[self.lang][0]

    @property
    def locale(self) -> str:
        return LANGUAGES[self.lang][1]

    @property
    def translations(self) -> gettext.NullTranslations:
        return translations(self.lang)

    def gettext(self, message: str) -> str:
        return self.translations.gettext(message)

    def pgettext(self, context: str, message: str) -> str:
        return self.translations.pgettext(context, message)

    def number(self, value: object) -> str:
        """A decimal figure with the locale's grouping, every digit as stated (no float,
        no rounding): ``"12345.6700"`` is ``12,345.6700``. Anything that is not a decimal
        number is returned as text."""
        text = str(value)
        try:
            Decimal(text)
        except (InvalidOperation, ValueError):
            return text
        if not text or text[0] not in "+-0123456789" or "e" in text.lower():
            return text
        sign = text[0] if text[0] in "+-" else ""
        digits = text[len(sign) :]
        whole, dot, fraction = digits.partition(".")
        group = get_group_symbol(self.locale)
        grouped = ""
        while len(whole) > 3:
            grouped = group + whole[-3:] + grouped
            whole = whole[:-3]
        out = sign + whole + grouped
        return out + (get_decimal_symbol(self.locale) + fraction if dot else "")

    def delta(self, value: object, before: object) -> str:
        """``value - before``, exactly, with its sign ("+2.50", "-1", "0")."""
        try:
            difference = Decimal(str(value)) - Decimal(str(before))
        except (InvalidOperation, ValueError):
            return ""
        text = self.number(format(difference, "f"))
        return "+" + text if difference > 0 else text

    def utc(self, moment: datetime | str) -> str:
        return _moment(moment).astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%d %H:%M:%S UTC")

    def local(self, moment: datetime | str) -> str | None:
        """``moment`` in the reader's zone, or None when the reader reads UTC."""
        if self.zone == "UTC":
            return None
        here = _moment(moment).astimezone(ZoneInfo(self.zone))
        offset = here.strftime("%z")
        return f"{here.strftime('%Y-%m-%d %H:%M:%S')} ({self.zone}, UTC{offset[:3]}:{offset[3:]})"

    def day(self, value: date | str) -> str:
        return value.isoformat() if isinstance(value, date) else str(value)
