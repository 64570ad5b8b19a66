"""Field validators shared by the record types (docs/RECORDS.md §2).

Every validator takes the value and its JSON path (``body.lines[3].quantity``)
and raises :class:`MalformedError` naming that path. They are hand-written so
that the message says what was expected and what was found, in the words an
operator reads in a problem response.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from ledger.core.errors import MalformedError
from ledger.core.identifiers import MAX_IDENTIFIER_CHARS, Identifier, parse_identifier

# PACT Tech Spec v3 `Decimal` (spec/v3/openapi.yaml): a sign, digits, an optional
# fraction. No exponent, no leading dot, never a JSON number.
DECIMAL_RE = re.compile(r"^[+-]?\d+(\.\d+)?$")
NON_NEGATIVE_DECIMAL_RE = re.compile(r"^[+]?\d+(\.\d+)?$")
# 34 significant digits is what IEEE 754 decimal128 holds; calc/1 works at that
# precision, so a longer literal could not be read exactly (docs/CALC.md §2).
MAX_DECIMAL_DIGITS = 34
SHA256_HEX_RE = re.compile(r"^[0-9a-f]{64}$")
LOWER_HEX_RE = re.compile(r"^[0-9a-f]*$")
# RFC 3339 §5.6 date-time, restricted to UTC written as "Z" (docs/RECORDS.md §1).
RFC3339_UTC_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# RFC 8141 §2: "urn:" NID ":" NSS; NSS characters are unreserved, sub-delims, ":" "@" "/" "%".
URN_RE = re.compile(
    r"^urn:[A-Za-z0-9][A-Za-z0-9-]{0,30}[A-Za-z0-9]:[A-Za-z0-9()+,\-.:=@;$_!*'%/~&]+$"
)
# IfcGloballyUniqueId: STRING(22) FIXED over the IFC base64 alphabet
# 0-9 A-Z a-z _ $; the first character carries 2 bits only, so it is 0-3.
IFC_GLOBALID_RE = re.compile(r"^[0-3][0-9A-Za-z_$]{21}$")
# GS1 EPC Tag Data Standard pure-identity URI for an individual asset (GIAI).
GS1_GIAI_RE = re.compile(r"^urn:epc:id:giai:\d{6,12}\.[0-9A-Za-z\-._%]{1,24}$")
GS1_SGTIN_RE = re.compile(r"^urn:epc:id:sgtin:\d{6,12}\.\d{1,7}\.[0-9A-Za-z\-._%]{1,20}$")
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,127}$")
LINE_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
# RFC 6838 §4.2 type "/" subtype (restricted-name characters).
MEDIA_TYPE_RE = re.compile(
    r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-zA-Z0-9][a-zA-Z0-9!#$&^_.+-]{0,126}$"
)
CN_CODE_RE = re.compile(r"^\d{4}(\d{2}(\d{2})?)?$")
# CAS Registry Number: 2-7 digits, 2 digits, 1 check digit, hyphenated.
CAS_RE = re.compile(r"^(\d{2,7})-(\d{2})-(\d)$")
ISO_REGION_RE = re.compile(r"^[A-Z]{2}(-[A-Z0-9]{1,8})?$")

MAX_TEXT = 2000
MAX_ITEMS = 10_000


def sub(path: str, key: str | int) -> str:
    """The JSON path of a member (``a.b``) or an array element (``a[3]``)."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def kind_of(value: Any) -> str:
    """JSON type name as a reader would say it, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float | Decimal):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "an array"
    return type(value).__name__


def fail(path: str, message: str) -> MalformedError:
    return MalformedError(message, path=path)


def obj(
    value: Any, path: str, required: Iterable[str], optional: Iterable[str] = ()
) -> Mapping[str, Any]:
    """An object with exactly the named members (unknown members are rejected,
    so a digest never covers fields no reader knows)."""
    if not isinstance(value, Mapping):
        raise fail(path, f"expected an object, got {kind_of(value)}")
    req = tuple(required)
    allowed = set(req) | set(optional)
    for key in value:
        if not isinstance(key, str):
            raise fail(path, "object keys must be strings")
        if key not in allowed:
            raise fail(sub(path, key), "unexpected field")
    for key in req:
        if key not in value:
            raise fail(sub(path, key), "missing required field")
    return value


def array(value: Any, path: str, *, min_items: int = 0, max_items: int = MAX_ITEMS) -> list[Any]:
    if not isinstance(value, list):
        raise fail(path, f"expected an array, got {kind_of(value)}")
    if len(value) < min_items:
        raise fail(path, f"expected at least {min_items} item(s), got {len(value)}")
    if len(value) > max_items:
        raise fail(path, f"expected at most {max_items} items, got {len(value)}")
    return value


def text(value: Any, path: str, *, max_len: int = MAX_TEXT, min_len: int = 1) -> str:
    if not isinstance(value, str):
        raise fail(path, f"expected a string, got {kind_of(value)}")
    if len(value) < min_len:
        raise fail(path, "expected a non-empty string")
    if len(value) > max_len:
        raise fail(path, f"expected at most {max_len} characters, got {len(value)}")
    return value


def matching(value: Any, path: str, pattern: re.Pattern[str], what: str) -> str:
    s = text(value, path, max_len=512)
    if not pattern.fullmatch(s):
        raise fail(path, f"expected {what}, got {s!r}")
    return s


def enum(value: Any, path: str, allowed: Iterable[str]) -> str:
    choices = tuple(allowed)
    s = text(value, path, max_len=128)
    if s not in choices:
        raise fail(path, f"expected one of {', '.join(choices)}; got {s!r}")
    return s


def boolean(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise fail(path, f"expected true or false, got {kind_of(value)}")
    return value


def integer(value: Any, path: str, *, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise fail(path, f"expected an integer, got {kind_of(value)}")
    if not lo <= value <= hi:
        raise fail(path, f"expected an integer from {lo} to {hi}, got {value}")
    return value


def decimal(
    value: Any, path: str, *, non_negative: bool = False, positive: bool = False
) -> Decimal:
    """A quantity: a decimal string (PACT `Decimal`), never a JSON number."""
    if not isinstance(value, str):
        raise fail(path, f'expected a decimal string like "12.50", got {kind_of(value)}')
    pattern = NON_NEGATIVE_DECIMAL_RE if (non_negative or positive) else DECIMAL_RE
    if not pattern.fullmatch(value):
        sign = "non-negative " if (non_negative or positive) else ""
        raise fail(path, f'expected a {sign}decimal string like "12.50", got {value!r}')
    digits = sum(ch.isdigit() for ch in value.lstrip("+-").lstrip("0.")) or 1
    if digits > MAX_DECIMAL_DIGITS:
        raise fail(path, f"expected at most {MAX_DECIMAL_DIGITS} significant digits")
    # Decimal(str) is exact: it never rounds and ignores the context.
    number = Decimal(value)
    if positive and number == 0:
        raise fail(path, f"expected a positive decimal string, got {value!r}")
    return number


def sha256_hex(value: Any, path: str) -> str:
    return matching(value, path, SHA256_HEX_RE, "a SHA-256 digest as 64 lowercase hex digits")


def urn(value: Any, path: str) -> str:
    return matching(value, path, URN_RE, "a URN (RFC 8141) like 'urn:carbonledger:...'")


def identifier(value: Any, path: str, scheme: str | None = None) -> Identifier:
    """A Handle, OID or Ecode (of ``scheme``, or of any of the three) in its canonical
    spelling. A signed record's digest covers the bytes as written, so a spelling that only
    normalises to a valid identifier is refused with the spelling to use, never rewritten."""
    s = text(value, path, max_len=MAX_IDENTIFIER_CHARS)
    ident = parse_identifier(s, path, scheme=scheme)
    if ident.canonical != s:
        raise fail(path, f"expected the canonical spelling {ident.canonical!r}, got {s!r}")
    return ident


def timestamp(value: Any, path: str) -> datetime:
    s = text(value, path, max_len=40)
    if not RFC3339_UTC_RE.fullmatch(s):
        raise fail(path, f"expected an RFC 3339 UTC timestamp ending in Z, got {s!r}")
    try:
        parsed = datetime.fromisoformat(s[:-1][:26]).replace(tzinfo=UTC)
    except ValueError:
        raise fail(path, f"not a valid date-time: {s!r}") from None
    return parsed


def calendar_date(value: Any, path: str) -> date:
    s = text(value, path, max_len=10)
    if not DATE_RE.fullmatch(s):
        raise fail(path, f"expected a date YYYY-MM-DD, got {s!r}")
    try:
        return date.fromisoformat(s)
    except ValueError:
        raise fail(path, f"not a valid date: {s!r}") from None


def cas_number(value: Any, path: str) -> str:
    """A CAS Registry Number whose check digit holds: the digits before it, read from
    the right and weighted 1, 2, 3, ..., sum to the check digit modulo 10."""
    s = matching(value, path, CAS_RE, "a CAS Registry Number like '1333-82-0'")
    digits = s.replace("-", "")
    weighted = sum(i * int(d) for i, d in enumerate(reversed(digits[:-1]), start=1))
    if weighted % 10 != int(digits[-1]):
        raise fail(path, f"CAS number {s!r} fails its check digit (expected {weighted % 10})")
    return s


def link(value: Any, path: str) -> tuple[str, str]:
    """A body-level reference ``{id, digest}`` to another record."""
    o = obj(value, path, ("id", "digest"))
    return urn(o["id"], sub(path, "id")), sha256_hex(o["digest"], sub(path, "digest"))


def unique(values: list[str], path: str, what: str) -> None:
    seen: set[str] = set()
    for i, v in enumerate(values):
        if v in seen:
            raise fail(sub(path, i), f"duplicate {what} {v!r}")
        seen.add(v)
