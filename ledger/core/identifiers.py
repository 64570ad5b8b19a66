"""Industrial identifiers: Handle, OID and Ecode (docs/RECORDS.md §1.4).

Equipment, collection terminals and metering points are named by one of three schemes.
Each has its own parser: it refuses what the scheme's syntax forbids, saying what is wrong,
and returns the one canonical spelling of what it accepts, so that two spellings of one
identifier never name two things in search, refs or signed records.

- **Handle** (RFC 3650, RFC 3651 §2.1; China's industrial-internet identifiers are Handles
  under the ``88`` national prefix): ``<prefix>/<suffix>`` of printable characters. RFC 3650
  makes handles case-sensitive by default and lets a handle service declare ASCII case
  insensitive; carbonledger treats the prefix (the naming authority every resolver reads
  alike) as ASCII case-insensitive and writes it in lower case, and keeps the suffix as
  written, in Unicode NFC, because only the prefix's own handle service could declare it
  case-insensitive.
- **OID** (ITU-T X.660 | ISO/IEC 9834-1, dotted notation of X.680 §32.3): at least two
  decimal arcs, the first 0, 1 or 2, the second at most 39 under 0 and 1; canonical arcs
  have no leading zeros.
- **Ecode** (GB/T 31866): digits, ``V || NSI || MD``: a version digit, the coding-system
  identifier (NSI) of the length the version fixes, and the master data code (MD) up to the
  length the version allows (:data:`ECODE_VERSIONS`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from ledger.core.errors import MalformedError

__all__ = [
    "ECODE_VERSIONS",
    "MAX_IDENTIFIER_CHARS",
    "SCHEMES",
    "EcodeLayout",
    "Identifier",
    "parse_ecode",
    "parse_handle",
    "parse_identifier",
    "parse_oid",
]

SCHEMES = ("handle", "oid", "ecode")
MAX_IDENTIFIER_CHARS = 256

_PREFIX_SEGMENT = re.compile(r"[0-9A-Za-z-]+")
_DIGITS = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class Identifier:
    """An identifier that passed its scheme's syntax, in its canonical spelling."""

    scheme: str
    canonical: str


@dataclass(frozen=True)
class EcodeLayout:
    """The digit lengths of one Ecode version: V (1) + NSI + MD."""

    nsi_digits: int
    md_max_digits: int

    @property
    def max_digits(self) -> int:
        return 1 + self.nsi_digits + self.md_max_digits


# The all-numeric versions of GB/T 31866 (its Table 1), with the lengths docs/RECORDS.md §1.4
# states. V0 is kept for GS1-compatible codes (name those with a gs1_* scheme); V3 and V4
# carry letters and other characters and are not accepted; the other version digits are
# reserved.
ECODE_VERSIONS = {
    "1": EcodeLayout(nsi_digits=4, md_max_digits=28),
    "2": EcodeLayout(nsi_digits=8, md_max_digits=39),
}


def _fail(path: str, message: str) -> MalformedError:
    return MalformedError(message, path=path)


def _checked_text(text: object, path: str, what: str) -> str:
    if not isinstance(text, str):
        raise _fail(path, f"expected {what} as a string")
    if not text:
        raise _fail(path, f"expected {what}, got an empty string")
    if len(text) > MAX_IDENTIFIER_CHARS:
        raise _fail(path, f"expected at most {MAX_IDENTIFIER_CHARS} characters, got {len(text)}")
    return text


def _is_invisible(ch: str) -> bool:
    # Whitespace, controls, format characters (zero-width joiners and the like) and lone
    # surrogates would let two identifiers that print alike differ.
    return ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zs", "Zl", "Zp")


def parse_handle(text: str, path: str = "") -> Identifier:
    """A Handle ``<prefix>/<suffix>``, prefix in lower case, suffix as written (NFC)."""
    text = _checked_text(text, path, "a Handle like '88.118.8/TI-HX-0042'")
    prefix, slash, suffix = text.partition("/")
    if not slash:
        raise _fail(
            path,
            f"expected a Handle '<prefix>/<suffix>' like '88.118.8/TI-HX-0042', "
            f"got {text!r} without '/'",
        )
    if not prefix:
        raise _fail(path, f"Handle {text!r} has an empty prefix (naming authority)")
    for i, segment in enumerate(prefix.split("."), start=1):
        if not _PREFIX_SEGMENT.fullmatch(segment):
            what = "is empty" if not segment else f"is {segment!r}"
            raise _fail(
                path,
                f"Handle prefix segment {i} {what}: expected ASCII letters, digits and '-' "
                "between single dots",
            )
    if not suffix:
        raise _fail(path, f"Handle {text!r} has an empty suffix (local name)")
    for ch in suffix:
        if _is_invisible(ch):
            raise _fail(
                path,
                f"Handle suffix contains U+{ord(ch):04X}: spaces, control and format "
                "characters are not allowed",
            )
    return Identifier("handle", f"{prefix.lower()}/{unicodedata.normalize('NFC', suffix)}")


def parse_oid(text: str, path: str = "") -> Identifier:
    """An OID in dotted decimal; the canonical spelling has no leading zeros."""
    text = _checked_text(text, path, "an OID like '1.2.156.3001'")
    arcs = text.split(".")
    if len(arcs) < 2:
        raise _fail(path, f"OID {text!r} has one arc: an OID has at least two (X.660)")
    for i, arc in enumerate(arcs, start=1):
        if not _DIGITS.fullmatch(arc):
            what = "is empty" if not arc else f"is {arc!r}"
            raise _fail(path, f"OID arc {i} {what}: expected decimal digits 0-9")
    values = [int(arc) for arc in arcs]
    if values[0] > 2:
        raise _fail(path, f"OID first arc is {values[0]}: it must be 0, 1 or 2 (X.660)")
    if values[0] < 2 and values[1] > 39:
        raise _fail(
            path,
            f"OID second arc is {values[1]}: under {values[0]} it must be at most 39 (X.660)",
        )
    return Identifier("oid", ".".join(str(v) for v in values))


def parse_ecode(text: str, path: str = "") -> Identifier:
    """An Ecode, V || NSI || MD, all digits, of the length its version fixes."""
    text = _checked_text(text, path, "an Ecode like '10012345678900042'")
    if not _DIGITS.fullmatch(text):
        bad = next(ch for ch in text if not ch.isascii() or not ch.isdigit())
        raise _fail(path, f"Ecode contains {bad!r}: versions 1 and 2 are decimal digits only")
    version = text[0]
    layout = ECODE_VERSIONS.get(version)
    if layout is None:
        why = {
            "0": "is kept for GS1-compatible codes; name those with a gs1_* scheme",
            "3": "is not accepted by this ledger (only the numeric versions 1 and 2 are)",
            "4": "is not accepted by this ledger (only the numeric versions 1 and 2 are)",
        }.get(version, "is reserved")
        raise _fail(path, f"Ecode version {version} {why}")
    least = 1 + layout.nsi_digits + 1
    if not least <= len(text) <= layout.max_digits:
        raise _fail(
            path,
            f"Ecode version {version} has 1 version digit, {layout.nsi_digits} NSI digits and "
            f"1 to {layout.md_max_digits} MD digits ({least} to {layout.max_digits} digits); "
            f"got {len(text)}",
        )
    return Identifier("ecode", text)


_PARSERS = {"handle": parse_handle, "oid": parse_oid, "ecode": parse_ecode}


def parse_identifier(text: str, path: str = "", *, scheme: str | None = None) -> Identifier:
    """Parse ``text`` as a Handle, an OID or an Ecode, by its shape or by ``scheme``.

    The shapes do not overlap: a Handle has a ``/``, an OID has dots and no ``/``, an
    Ecode is digits only.
    """
    if scheme is not None:
        if scheme not in _PARSERS:
            raise _fail(path, f"unknown identifier scheme {scheme!r}")
        return _PARSERS[scheme](text, path)
    text = _checked_text(text, path, "a Handle, an OID or an Ecode")
    if "/" in text:
        return parse_handle(text, path)
    if "." in text:
        return parse_oid(text, path)
    if text[0].isascii() and text[0].isdigit():
        return parse_ecode(text, path)
    raise _fail(
        path,
        "expected a Handle ('88.118.8/TI-HX-0042'), an OID ('1.2.156.3001') or an Ecode "
        f"(digits), got {text!r}",
    )
