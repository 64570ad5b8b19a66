"""Keeping the message catalogues complete (``scripts/messages``; tests/pages/test_i18n.py).

``extract_messages`` reads every msgid the pages use, with Babel's extractors as
``api/locale/babel.cfg`` maps them (templates with ``jinja2.ext.i18n``, Python with the
gettext keywords and ``N_``), plus the revocation reasons (``vocab.extra_messages``).
``check_catalogues`` lists what a catalogue lacks: a msgid missing, left untranslated or
marked fuzzy, a placeholder the translation drops, or a translation no longer used.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

from api.pages.i18n import DEFAULT_LANGUAGE, LANGUAGES, LOCALE_DIR, catalogue_path
from api.pages.vocab import extra_messages

__all__ = ["check_catalogues", "extract_messages", "update_catalogues"]

ROOT = LOCALE_DIR.parent.parent
MAPPING = LOCALE_DIR / "babel.cfg"
_PLACEHOLDER = re.compile(r"%\(\w+\)s")
CATALOGUE_DATE = datetime(2026, 12, 1, tzinfo=UTC)


def extract_messages() -> dict[str, list[str]]:
    """msgid -> where it is used (``path:line``), for every message the pages show."""
    with MAPPING.open(encoding="utf-8") as source:
        method_map, options_map = parse_mapping_cfg(source)  # type: ignore[no-untyped-call]
    keywords = {**DEFAULT_KEYWORDS, "N_": None}
    found: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=keywords
    ):
        msgid = message if isinstance(message, str) else message[0]
        if msgid:
            found.setdefault(msgid, []).append(f"{filename}:{lineno}")
    for message in extra_messages():
        found.setdefault(message, []).append("ledger/core/reasons.py")
    return found


def _languages() -> Iterator[str]:
    return (lang for lang in LANGUAGES if lang != DEFAULT_LANGUAGE)


def _read(path: Path, lang: str) -> Catalog:
    if not path.exists():
        return Catalog(locale=LANGUAGES[lang][1], domain="messages")
    with path.open("rb") as source:
        return read_po(source, locale=LANGUAGES[lang][1])


def check_catalogues() -> list[str]:
    wanted = extract_messages()
    problems = []
    for lang in _languages():
        path = catalogue_path(lang)
        catalogue = _read(path, lang)
        have = {m.id: m for m in catalogue if m.id}
        for msgid, where in sorted(wanted.items()):
            message = have.get(msgid)
            if message is None:
                problems.append(f"{lang}: missing {msgid!r} (used at {where[0]})")
            elif not message.string or message.fuzzy:
                problems.append(f"{lang}: untranslated {msgid!r} (used at {where[0]})")
            elif set(_PLACEHOLDER.findall(msgid)) != set(_PLACEHOLDER.findall(str(message.string))):
                problems.append(f"{lang}: placeholders differ in the translation of {msgid!r}")
        for unused in sorted(str(m) for m in set(have) - set(wanted)):
            problems.append(f"{lang}: {unused!r} is no longer used")
    return problems


def update_catalogues() -> list[tuple[Path, int, int]]:
    """Add new msgids (untranslated) to each catalogue and drop unused ones."""
    wanted = extract_messages()
    out = []
    for lang in _languages():
        path = catalogue_path(lang)
        old = _read(path, lang)
        have = {m.id: m for m in old if m.id}
        new = Catalog(
            locale=LANGUAGES[lang][1],
            domain="messages",
            project="carbonledger",
            version="1",
            header_comment=f"# The {lang} catalogue of the carbonledger pages (scripts/messages).",
            # Fixed, so that updating an unchanged catalogue changes no byte.
            creation_date=CATALOGUE_DATE,
            revision_date=CATALOGUE_DATE,
            last_translator="carbonledger",
            language_team="carbonledger",
            fuzzy=False,
        )
        for msgid in sorted(wanted):
            kept = have.get(msgid)
            new.add(msgid, kept.string if kept is not None else "")
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as sink:
            write_po(sink, new, width=100, omit_header=False, sort_output=True, no_location=True)
        out.append((path, len(set(wanted) - set(have)), len(set(have) - set(wanted))))
    return out
