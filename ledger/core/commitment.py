"""Salted field commitments and the record digest v1 (docs/FORMAT.md §2.2).

A record is flattened to (path, value) pairs; each pair is committed with its own
16-byte salt as the field hash SHA-256(JCS([salt, path, value])); the record digest
binds the sorted field hashes under a domain tag. The views that carry a record (full:
record + salts; redacted: disclosures + hidden field hashes) are in ``ledger.core.view``.

The digest is on the path of every record accepted and every record verified, so it is
computed in one walk of the record: each object level serializes its path prefix once for
all its members, every member name and value is escaped once, and the disclosures of all
pairs are encoded and hashed in C-level loops (``map``) rather than one Python call chain
per pair. tests/unit/core/test_commitment_properties.py compares all of it against a plain
implementation of docs/FORMAT.md §2.2 on random records.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from json.encoder import encode_basestring
from typing import Any

from ledger.core.canonical import MAX_SAFE_INTEGER, canonicalize, json_path
from ledger.core.errors import MalformedError, VerificationError

__all__ = [
    "DIGEST_DOMAIN",
    "SALT_BYTES",
    "SALT_CHARS",
    "FieldPath",
    "are_salts",
    "check_salt",
    "digest_from_field_hashes",
    "disclosure_bytes",
    "disclosure_hashes",
    "encode_salt",
    "field_hash_hex",
    "field_hashes",
    "flatten",
    "is_salt",
    "path_sort_key",
    "record_digest",
]

FieldPath = tuple[str | int, ...]
#: One pair while a record is walked: its path, its value, and the JCS text of
#: ``path-segments],value`` (the disclosure once ``["<salt>",[`` is put in front).
_Pair = tuple[FieldPath, Any, str]

#: docs/FORMAT.md §2.2: record digest = SHA-256(tag || 0x00 || JCS(sorted field hashes)).
DIGEST_DOMAIN = b"carbonledger.record.v1\x00"
SALT_BYTES = 16
SALT_CHARS = 22
_SALT_TEXT = re.compile(r"[A-Za-z0-9_-]{21}[AQgw]\Z")
# Any number of salts written back to back: each is checked to be 22 characters first.
_SALT_RUN = re.compile(r"(?:[A-Za-z0-9_-]{21}[AQgw])*\Z")
# Member names with characters from U+E000 up order differently by UTF-16 code units
# (RFC 8785 §3.2.3) than by code points (Python's str order); below U+E000 both agree.
_BEYOND_D7FF = re.compile("[\ue000-\U0010ffff]")
_sha256 = hashlib.sha256
_digest = type(_sha256()).digest
_hexdigest = type(_sha256()).hexdigest


def path_sort_key(path: FieldPath) -> tuple[tuple[int, int, bytes], ...]:
    """Order of ``flatten``: members by UTF-16 code units (RFC 8785 §3.2.3), elements by index."""
    return tuple(
        (0, seg, b"") if isinstance(seg, int) else (1, 0, seg.encode("utf-16-be", "surrogatepass"))
        for seg in path
    )


def _utf16(name: str) -> bytes:
    return name.encode("utf-16-be", "surrogatepass")


def _member_order(node: dict[Any, Any], path: FieldPath) -> list[str]:
    try:
        names = "".join(node)
    except TypeError:
        raise MalformedError("member names must be strings", path=json_path(path)) from None
    if names.isascii() or _BEYOND_D7FF.search(names) is None:
        return sorted(node)
    return sorted(node, key=_utf16)


def _walk(node: dict[Any, Any] | list[Any], path: FieldPath, prefix: str, out: list[_Pair]) -> None:
    """Append the pairs under ``node``, a non-empty object or array at ``path``.

    ``prefix`` is the JCS text of ``path``'s segments, each followed by a comma: the
    members share it instead of serializing their whole path again (RFC 8785 §3.2).
    """
    if isinstance(node, dict):
        names = _member_order(node, path)
        segments: Sequence[str | int] = names
        values: Iterable[Any] = map(node.__getitem__, names)
        texts: Iterable[str] = map(encode_basestring, names)
    else:
        segments = range(len(node))
        values = node
        texts = map(str, segments)
    append = out.append
    for seg, value, seg_text in zip(segments, values, texts, strict=True):
        here = (*path, seg)
        kind = type(value)
        if kind is str:
            append((here, value, f"{prefix}{seg_text}],{encode_basestring(value)}"))
        elif kind is dict or kind is list:
            if value:
                _walk(value, here, f"{prefix}{seg_text},", out)
            else:
                append((here, kind(), f"{prefix}{seg_text}],{'{}' if kind is dict else '[]'}"))
        elif value is None:
            append((here, None, f"{prefix}{seg_text}],null"))
        elif value is True:
            append((here, True, f"{prefix}{seg_text}],true"))
        elif value is False:
            append((here, False, f"{prefix}{seg_text}],false"))
        elif kind is int and -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            append((here, value, f"{prefix}{seg_text}],{value}"))
        else:
            _walk_other(value, here, f"{prefix}{seg_text}", out)


def _walk_other(value: Any, path: FieldPath, prefix: str, out: list[_Pair]) -> None:
    """Subclasses of the JSON types (walked as their base type), and refusals."""
    if isinstance(value, dict | list):
        if value:
            _walk(value, path, prefix + ",", out)
        else:
            empty: tuple[Any, str] = ({}, "],{}") if isinstance(value, dict) else ([], "],[]")
            out.append((path, empty[0], prefix + empty[1]))
    elif isinstance(value, str):
        out.append((path, value, prefix + "]," + encode_basestring(value)))
    elif isinstance(value, int) and -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
        out.append((path, value, prefix + "]," + int.__repr__(value)))
    elif isinstance(value, int):
        raise MalformedError("integer beyond ±(2^53-1)", path=json_path(path))
    elif isinstance(value, float):
        raise MalformedError("float refused: quantities are decimal strings", path=json_path(path))
    else:
        raise MalformedError(f"{type(value).__name__} is not a JSON value", path=json_path(path))


def _pairs(record: Any) -> list[_Pair]:
    if not isinstance(record, dict):
        raise MalformedError("a record is a JSON object")
    if not record:
        return [((), {}, "],{}")]
    out: list[_Pair] = []
    _walk(record, (), "", out)
    return out


def _encode(lines: str, paths: Sequence[FieldPath]) -> list[bytes]:
    """UTF-8 of JCS texts joined by line feeds, one per path, split apart again.

    JCS escapes every line feed inside strings, so one can separate texts; encoding them all
    in one call costs less than one call each. A lone surrogate is refused by its path.
    """
    try:
        return lines.encode("utf-8").split(b"\n")
    except UnicodeEncodeError as exc:
        where = paths[lines.count("\n", 0, exc.start)]
        raise MalformedError(
            f"lone surrogate U+{ord(lines[exc.start]):04X} is not a Unicode scalar value "
            "(RFC 8785 §3.2.2.2)",
            path=json_path(where),
        ) from None


def flatten(record: Any) -> list[tuple[FieldPath, Any]]:
    """(path, value) pairs of ``record`` in canonical order (docs/FORMAT.md §2.2)."""
    pairs = _pairs(record)
    _encode("\n".join([text for _, _, text in pairs]), [path for path, _, _ in pairs])
    return [(path, value) for path, value, _ in pairs]


def encode_salt(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def is_salt(salt: Any) -> bool:
    # 22 base64url characters carry 132 bits; the last 4 must be zero or the same 16 bytes
    # would have 16 spellings (padding-bit malleability).
    return isinstance(salt, str) and bool(_SALT_TEXT.match(salt))


def are_salts(salts: list[Any]) -> bool:
    """``is_salt`` of every entry, in three C-level passes."""
    try:
        joined = "".join(salts)
    except TypeError:
        return False
    return set(map(len, salts)) == {SALT_CHARS} and _SALT_RUN.match(joined) is not None


def check_salt(salt: Any, where: str) -> None:
    if not is_salt(salt):
        raise MalformedError("salt must be 16 bytes as unpadded base64url (22 chars)", path=where)


def _salts_in_order(salts: Mapping[FieldPath, Any], paths: list[FieldPath]) -> list[str]:
    """The salt of every pair, in pair order; refuses an extra, a missing or a bad salt."""
    if len(salts) == len(paths) and list(salts) == paths:
        # Given in canonical pair order, as ``commit`` draws them and bundles carry them.
        ordered = list(salts.values())
        if are_salts(ordered):
            return ordered
    known = set(paths)
    for p in salts:
        if p not in known:
            raise VerificationError(
                f"a salt is given for {json_path(p, 'record')} but the record has no such field",
                expected="one salt per field",
                computed=list(p),
            )
    out: list[str] = []
    for p in paths:
        salt = salts.get(p)
        if salt is None:
            raise VerificationError(
                f"no salt for field {json_path(p, 'record')}",
                expected="one salt per field",
                computed=list(p),
            )
        check_salt(salt, json_path(p, "salts"))
        out.append(salt)
    return out


def _pair_hashes(
    record: Any, salts: Mapping[FieldPath, Any], finish: Callable[[Any], Any]
) -> tuple[list[FieldPath], list[Any]]:
    pairs = _pairs(record)
    paths = [path for path, _, _ in pairs]
    salt_and_text = zip(_salts_in_order(salts, paths), [text for _, _, text in pairs], strict=True)
    # Disclosure i is ["<salt i>",[<text i>]; all of them, one per line, in one string.
    lines = '["' + ']\n["'.join(map('",['.join, salt_and_text)) + "]"
    return paths, list(map(finish, map(_sha256, _encode(lines, paths))))


def field_hashes(record: Any, salts: Mapping[FieldPath, Any]) -> dict[FieldPath, str]:
    """Field hash (lowercase hex) of every pair of ``record`` under ``salts``, in pair order."""
    paths, hashes = _pair_hashes(record, salts, _hexdigest)
    return dict(zip(paths, hashes, strict=True))


def record_digest(record: Any, salts: Mapping[FieldPath, Any]) -> bytes:
    """Digest v1 of ``record`` under ``salts`` (32 raw bytes)."""
    ordered = sorted(_pair_hashes(record, salts, _digest)[1])
    if len(set(ordered)) != len(ordered):
        _refuse_repeated([h.hex() for h in ordered])
    # JCS of the sorted lowercase-hex strings, ["h1","h2",...]: hex() of the concatenated
    # hashes puts a "|" between every 32 bytes, which becomes the '","' between strings.
    body = b"".join(ordered).hex("|", 32).replace("|", '","')
    return _sha256(DIGEST_DOMAIN + b'["' + body.encode("ascii") + b'"]').digest()


def _refuse_repeated(ordered_hex: list[str]) -> None:
    for a, b in itertools.pairwise(ordered_hex):
        if a == b:
            raise VerificationError(
                f"field hash {a} appears twice", expected="distinct field hashes", computed=a
            )


def _scalar_text(value: Any) -> str | None:
    """JCS of a disclosed value of the usual kinds; None for anything else."""
    kind = type(value)
    if kind is str:
        return encode_basestring(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if kind is int and -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
        return str(value)
    if (kind is dict or kind is list) and not value:
        return "{}" if kind is dict else "[]"
    return None


def _disclosure_text(salt: Any, path: FieldPath, value: Any) -> str | None:
    """JCS of ``[salt, path, value]`` for the shapes views hold; None for anything else."""
    value_text = _scalar_text(value)
    if value_text is None or type(salt) is not str:
        return None
    segments: list[str] = []
    for seg in path:
        kind = type(seg)
        if kind is str:
            segments.append(encode_basestring(seg))  # type: ignore[arg-type]
        elif kind is int and -MAX_SAFE_INTEGER <= seg <= MAX_SAFE_INTEGER:  # type: ignore[operator]
            segments.append(str(seg))
        else:
            return None
    return f"[{encode_basestring(salt)},[{','.join(segments)}],{value_text}]"


def disclosure_bytes(salt: str, path: FieldPath, value: Any) -> bytes:
    """JCS([salt, path, value]): the bytes a field hash is taken over."""
    text = _disclosure_text(salt, path, value)
    if text is not None:
        try:
            return text.encode("utf-8")
        except UnicodeEncodeError:
            pass  # a lone surrogate: canonicalize refuses it with its reason
    return canonicalize([salt, list(path), value])


def field_hash_hex(disclosure: bytes) -> str:
    return _sha256(disclosure).hexdigest()


def disclosure_hashes(disclosures: Sequence[tuple[str, FieldPath, Any]]) -> list[str]:
    """Field hash of every ``(salt, path, value)``; one encoding and one hashing loop."""
    texts = [_disclosure_text(salt, path, value) for salt, path, value in disclosures]
    if texts and None not in texts:
        joined = "\n".join(texts)  # type: ignore[arg-type]
        try:
            return list(map(_hexdigest, map(_sha256, joined.encode("utf-8").split(b"\n"))))
        except UnicodeEncodeError:
            pass
    return [field_hash_hex(disclosure_bytes(*d)) for d in disclosures]


def digest_from_field_hashes(hashes_hex: Iterable[str]) -> bytes:
    """Record digest from field hashes (any order); a repeated field hash is refused."""
    ordered = sorted(hashes_hex)
    if len(set(ordered)) != len(ordered):
        _refuse_repeated(ordered)
    body = '["' + '","'.join(ordered) + '"]' if ordered else "[]"
    return _sha256(DIGEST_DOMAIN + body.encode("ascii")).digest()
