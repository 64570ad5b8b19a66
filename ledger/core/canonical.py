"""Strict JSON intake and RFC 8785 (JCS) canonical form.

Everything that is hashed or signed goes through here: ``parse_json`` refuses any
input whose meaning could differ between two JSON parsers, and ``canonicalize``
emits the one byte string RFC 8785 assigns to a value. docs/FORMAT.md §1 lists the
rules and limits.

JSON paths in errors use one notation everywhere: ``root.key[3].other``, where a
key that is not a plain identifier is written ``["key with spaces"]`` (a JSON
string) and the root name is given by the caller (empty for a bare document, so
``body.lines[3].amount``; ``bundle`` for bundles, so ``bundle.items[3].proof[2]``).
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from json.encoder import encode_basestring
from typing import Any

import rfc8785

from ledger.core.errors import MalformedError

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_DEPTH",
    "MAX_SAFE_INTEGER",
    "canonicalize",
    "canonicalize_parsed",
    "format_timestamp",
    "json_path",
    "parse_json",
    "parse_timestamp",
]

#: Largest input ``parse_json`` accepts by default (1 MiB; bundles pass their own limit).
DEFAULT_MAX_BYTES = 1 << 20
#: Deepest nesting of arrays and objects ``parse_json`` accepts by default.
DEFAULT_MAX_DEPTH = 64
#: I-JSON (RFC 7493 §2.2) / RFC 8785 §3.2.2.3: integers must be exact in IEEE 754 doubles.
MAX_SAFE_INTEGER = (1 << 53) - 1

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_SURROGATE = re.compile("[\ud800-\udfff]")
_TIMESTAMP = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?Z\Z")


def json_path(segments: Sequence[str | int], root: str = "") -> str:
    """Render a path in the project's notation (see the module docstring)."""
    out = [root]
    for seg in segments:
        if isinstance(seg, int):
            out.append(f"[{seg}]")
        elif _IDENTIFIER.match(seg):
            out.append(f".{seg}" if out != [""] else seg)
        elif _SURROGATE.search(seg):
            # A lone surrogate cannot be printed or encoded: show it escaped.
            out.append(f"[{json.dumps(seg)}]")
        else:
            out.append(f"[{encode_basestring(seg)}]")
    return "".join(out)


class _Refused:
    """Placeholder a parser hook leaves where a value is refused, found later with its path."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


class _DuplicateKeys(dict[str, Any]):
    """An object in which a key occurred twice (RFC 8785 §3.1 requires I-JSON, RFC 7493 §2.3)."""

    duplicate: str = ""


def _object_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        dup = _DuplicateKeys(obj)
        for key, _ in pairs:
            if key in seen:
                dup.duplicate = key
                break
            seen.add(key)
        return dup
    return obj


def _refuse_float(text: str) -> _Refused:
    return _Refused(
        f"non-integer number {text} refused: quantities are decimal strings such as "
        '"1234.5600", never JSON numbers with a fraction or exponent'
    )


def _parse_int(text: str) -> int | _Refused:
    # Checking the length first keeps Python's 4300-digit int conversion limit out of reach.
    if len(text.lstrip("-")) > 16 or abs(int(text)) > MAX_SAFE_INTEGER:
        return _Refused(f"integer {text[:40]} is beyond ±(2^53-1) (RFC 7493 §2.2)")
    return int(text)


def _refuse_constant(text: str) -> _Refused:
    return _Refused(f"{text} is not JSON (RFC 8259 §6 has no NaN or Infinity)")


_DECODER = json.JSONDecoder(
    object_pairs_hook=_object_hook,
    parse_float=_refuse_float,
    parse_int=_parse_int,
    parse_constant=_refuse_constant,
    strict=True,
)


def _check_string(text: str, path: list[str | int], root: str, what: str) -> None:
    m = _SURROGATE.search(text)
    if m is not None:
        raise MalformedError(
            f"{what} contains the lone surrogate U+{ord(m.group()):04X} "
            "(not a Unicode scalar value; RFC 8785 §3.2.2.2)",
            path=json_path(path, root),
        )


def _check(value: Any, path: list[str | int], depth: int, max_depth: int, root: str) -> None:
    if isinstance(value, _Refused):
        raise MalformedError(value.reason, path=json_path(path, root))
    if isinstance(value, str):
        _check_string(value, path, root, "string")
        return
    if isinstance(value, dict | list):
        if depth >= max_depth:
            raise MalformedError(
                f"nesting deeper than {max_depth} levels", path=json_path(path, root)
            )
        if isinstance(value, list):
            for i, item in enumerate(value):
                path.append(i)
                _check(item, path, depth + 1, max_depth, root)
                path.pop()
            return
        if isinstance(value, _DuplicateKeys):
            raise MalformedError(
                f"duplicate key {encode_basestring(value.duplicate)} "
                "(RFC 8785 §3.1 requires unique member names)",
                path=json_path([*path, value.duplicate], root),
            )
        for key, item in value.items():
            path.append(key)
            _check_string(key, path, root, "member name")
            _check(item, path, depth + 1, max_depth, root)
            path.pop()


def parse_json(
    data: bytes | str,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
    root: str = "",
) -> Any:
    """Parse one JSON text strictly; raise ``MalformedError`` naming the path of the fault.

    Refused: input over ``max_bytes`` (UTF-8 bytes) or nested deeper than ``max_depth``;
    invalid UTF-8 and byte order marks (RFC 8259 §8.1); duplicate member names; any number
    with a fraction or exponent; integers beyond ±(2^53-1); NaN/Infinity; lone surrogates,
    raw or escaped; control characters inside strings; anything after the value.

    Two passes share the work. A scan of the raw bytes (C-level, no recursion) bounds the
    nesting and spots what only a walk can place (long integers, surrogate escapes); then
    the C JSON scanner parses, its hooks stopping at a fraction, a NaN or a repeated name.
    Only input with such a fault, or a suspicion of one, is parsed a second time with
    placeholders and walked to name the path of the first fault.
    """
    raw, text, careful = _decoded(data, max_bytes)
    # Nesting deeper than max_depth takes at least two bytes per level.
    if len(raw) > 2 * max_depth and _is_deeper(raw, max_depth):
        raise MalformedError(f"nesting deeper than {max_depth} levels")
    if not careful and not _has_suspects(raw):
        try:
            return _FAST_DECODER.decode(text)
        except _FaultError:
            pass  # found again, with its path, below
        except json.JSONDecodeError as exc:
            raise _not_json(exc) from None
    try:
        value = _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        raise _not_json(exc) from None
    except RecursionError:
        raise MalformedError(f"nesting deeper than {max_depth} levels") from None
    _check(value, [], 0, max_depth, root)
    return value


def _decoded(data: bytes | str, max_bytes: int) -> tuple[bytes, str, bool]:
    """The input as UTF-8 bytes and as text, and whether the text holds a raw surrogate."""
    if isinstance(data, bytes | bytearray | memoryview):
        raw = bytes(data)
        if len(raw) > max_bytes:
            raise MalformedError(f"input of {len(raw)} bytes exceeds the limit of {max_bytes}")
        if raw.startswith(b"\xef\xbb\xbf"):
            raise MalformedError("byte order mark refused (RFC 8259 §8.1)")
        try:
            # Strict UTF-8 refuses encoded surrogates and overlong forms (RFC 3629 §3).
            return raw, raw.decode("utf-8"), False
        except UnicodeDecodeError as exc:
            raise MalformedError(f"invalid UTF-8 at byte {exc.start}") from None
    if not isinstance(data, str):
        raise MalformedError(f"expected bytes or str, got {type(data).__name__}")
    try:
        raw, careful = data.encode("utf-8"), False
    except UnicodeEncodeError:
        raw, careful = data.encode("utf-8", "surrogatepass"), True
    if len(raw) > max_bytes:
        raise MalformedError(f"input of {len(raw)} bytes exceeds the limit of {max_bytes}")
    if data.startswith("\ufeff"):
        raise MalformedError("byte order mark refused (RFC 8259 §8.1)")
    return raw, data, careful


def _not_json(exc: json.JSONDecodeError) -> MalformedError:
    return MalformedError(f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")


class _FaultError(Exception):
    """Raised by the fast decoder's hooks at a value the careful pass must name."""


def _fast_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise _FaultError
    return obj


def _fast_refuse(text: str) -> Any:
    raise _FaultError


_FAST_DECODER = json.JSONDecoder(
    object_pairs_hook=_fast_object,
    parse_float=_fast_refuse,
    parse_constant=_fast_refuse,
    strict=True,
)

# The scans keep only JSON structure bytes; UTF-8 multi-byte sequences never contain them,
# so the raw bytes are scanned as they are.
_ALL_BYTES = bytes(range(256))
_STRUCTURE = bytes.maketrans(b"[{]}", b"(())")
_NOT_STRUCTURE = bytes(b for b in _ALL_BYTES if b not in b'"[]{}')
_DEPTH_STEPS = tuple(1 if b == ord("(") else -1 if b == ord(")") else 0 for b in _ALL_BYTES)
# A number's digits become "0", and what may stand before a number ("[", "," or ":", then
# whitespace and a minus sign) becomes ":" or nothing: an integer of 16 digits or more
# (beyond ±(2^53-1), or close) then reads ":" and sixteen "0". A string that happens to
# read so too only sends the input to the careful pass.
_NUMBER_CONTEXT = bytes.maketrans(b"123456789[,", b"000000000::")
_NOT_NUMBER_CONTEXT = b" \t\n\r-"
_LONG_INTEGER = b":" + b"0" * 16
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _has_suspects(raw: bytes) -> bool:
    """Whether ``raw`` may hold an integer beyond ±(2^53-1) or an escaped surrogate."""
    if b"\\u" in raw and _SURROGATE_ESCAPE.search(raw):
        return True
    head = raw.lstrip(b" \t\n\r")[:1]
    if head and head in b"-0123456789":
        return True  # the whole text is a number
    return _LONG_INTEGER in raw.translate(_NUMBER_CONTEXT, _NOT_NUMBER_CONTEXT)


def _is_deeper(raw: bytes, max_depth: int) -> bool:
    """Whether brackets outside string literals nest deeper than ``max_depth``, found
    without recursion.

    The C scanner behind ``json`` recurses once per level and can exhaust the C stack
    before Python's recursion limit trips, so depth is bounded before it runs. Escaped
    backslashes and quotes go first; then only quotes and brackets are kept. Two quotes
    side by side there enclose no bracket (or only the text between two strings), so they
    go too, and the quotes left enclose the brackets inside strings.
    """
    if b"\\" in raw:
        raw = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    skeleton = raw.translate(_STRUCTURE, _NOT_STRUCTURE).replace(b'""', b"")
    if b'"' in skeleton:
        skeleton = b"".join(skeleton.split(b'"')[::2])
    # Each pass removes the innermost pairs, so a balanced skeleton is gone after as many
    # passes as it is deep; anything else is measured step by step.
    rest = skeleton
    for _ in range(max_depth):
        rest = rest.replace(b"()", b"")
        if not rest:
            return False
    steps = map(_DEPTH_STEPS.__getitem__, skeleton)
    return max(itertools.accumulate(steps), default=0) > max_depth


class _NeedsReferenceError(Exception):
    """A value outside the fast path (a float): hand the whole value to ``rfc8785``."""


def _utf16_key(key: str) -> bytes:
    return key.encode("utf-16-be", "surrogatepass")


def _emit(value: Any, out: list[str]) -> None:
    # Mirrors RFC 8785 §3.2: literals, integers via ES6 Number-to-String (plain decimal
    # digits for safe integers), strings with the minimal JSON escapes (Python's encoder
    # uses the same short forms and lowercase \u00xx), members sorted by UTF-16 code units.
    if isinstance(value, str):
        if _SURROGATE.search(value):
            raise _NeedsReferenceError
        out.append(encode_basestring(value))
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif value is None:
        out.append("null")
    elif isinstance(value, int):
        if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            out.append(str(value))
        else:
            raise _NeedsReferenceError
    elif isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            raise _NeedsReferenceError
        out.append("{")
        first = True
        for key in sorted(value, key=_utf16_key):
            if _SURROGATE.search(key):
                raise _NeedsReferenceError
            if not first:
                out.append(",")
            first = False
            out.append(encode_basestring(key))
            out.append(":")
            _emit(value[key], out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _emit(item, out)
        out.append("]")
    else:
        raise _NeedsReferenceError


def canonicalize(value: Any) -> bytes:
    """RFC 8785 bytes of ``value``; identical to ``rfc8785.dumps`` (property-tested).

    Values outside the fast path (floats, out-of-range integers, surrogates, other types)
    go to the ``rfc8785`` reference, whose refusals become ``MalformedError``.
    """
    out: list[str] = []
    try:
        _emit(value, out)
    except _NeedsReferenceError:
        try:
            return rfc8785.dumps(value)
        except (rfc8785.CanonicalizationError, TypeError, ValueError, UnicodeError) as exc:
            raise MalformedError(f"cannot canonicalize: {exc}") from None
    except RecursionError:
        raise MalformedError("cannot canonicalize: nesting too deep") from None
    return "".join(out).encode("utf-8")


_PLAIN_ENCODER = json.JSONEncoder(
    ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
)
# Every byte but the UTF-8 lead bytes of U+E000 and above (EE, EF: U+E000..U+FFFF; F0..F4:
# beyond U+FFFF): deleting them leaves nothing unless such a character is present.
_NOT_HIGH_LEAD = bytes(b for b in range(256) if not 0xEE <= b <= 0xF4)


def canonicalize_parsed(value: Any) -> bytes:
    """``canonicalize(value)`` for a value as ``parse_json`` returns it, at C speed.

    For such values (no float, no integer beyond ±(2^53-1), no lone surrogate, member names
    all strings) Python's ``json`` with sorted keys, no whitespace and no ASCII escaping
    writes RFC 8785 (§3.2.2.2: the same minimal string escapes, lowercase ``\\u00xx``, DEL
    as is; integers as plain digits), except that it sorts member names by code points and
    RFC 8785 §3.2.3 by UTF-16 code units. The two orders differ only for names holding
    characters from U+E000 up, so output with any such character, and anything ``json``
    cannot write (a lone surrogate, NaN, other types), is made by ``canonicalize`` instead.
    Values built in code rather than parsed may hold what this does not look for (floats,
    large integers, non-string member names): give those to ``canonicalize``.
    tests/unit/core/test_canonical_parsed.py holds the two equal on parsed values.
    """
    try:
        data = _PLAIN_ENCODER.encode(value).encode("utf-8")
    except (TypeError, ValueError, UnicodeEncodeError, RecursionError):
        return canonicalize(value)
    if not data.isascii() and data.translate(None, _NOT_HIGH_LEAD):
        return canonicalize(value)
    return data


def format_timestamp(moment: datetime) -> str:
    """RFC 3339 UTC with ``Z``: whole seconds, or six fraction digits when there are any."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise MalformedError("timestamp must be timezone-aware")
    utc = moment.astimezone(UTC)
    base = utc.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{base}.{utc.microsecond:06d}Z" if utc.microsecond else f"{base}Z"


def parse_timestamp(text: Any, *, path: str = "") -> datetime:
    """Parse ``YYYY-MM-DDTHH:MM:SS[.f{1,6}]Z`` (RFC 3339 §5.6, UTC only) to an aware datetime."""
    m = _TIMESTAMP.match(text) if isinstance(text, str) else None
    if m is None:
        raise MalformedError(
            "expected an RFC 3339 UTC timestamp like 2026-01-31T12:00:00Z", path=path
        )
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    micro = int((m.group(7) or "0").ljust(6, "0"))
    try:
        return datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)
    except ValueError as exc:
        raise MalformedError(f"invalid timestamp: {exc}", path=path) from None
