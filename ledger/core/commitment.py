"""Salted field commitments and the record digest v1 (DESIGN.md §3.2, docs/FORMAT.md §2).

A record is flattened to (path, value) pairs; each pair is committed with its own
16-byte salt as the field hash SHA-256(JCS([salt, path, value])); the record digest
binds the sorted field hashes under a domain tag. A full view (record + salts) and a
redacted view (disclosures of revealed pairs + field hashes of hidden ones) verify
against the same digest.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import re
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from json.encoder import encode_basestring
from typing import Any

from ledger.core.canonical import MAX_SAFE_INTEGER, canonicalize, json_path
from ledger.core.errors import DigestMismatchError, MalformedError, VerificationError

__all__ = [
    "DIGEST_DOMAIN",
    "SALT_BYTES",
    "Commitment",
    "Disclosure",
    "FieldPath",
    "RedactedView",
    "View",
    "commit",
    "digest_from_field_hashes",
    "disclosure_bytes",
    "field_hash_hex",
    "flatten",
    "path_sort_key",
    "reconstruct",
    "record_digest",
    "redact",
    "verify_view",
    "view_digest",
]

FieldPath = tuple[str | int, ...]
SaltSource = Callable[[int], bytes]

#: DESIGN.md §3.2: record digest = SHA-256(tag || 0x00 || JCS(sorted field hashes)).
DIGEST_DOMAIN = b"carbonledger.record.v1\x00"
SALT_BYTES = 16
_SALT_TEXT = re.compile(r"[A-Za-z0-9_-]{22}\Z")
_HEX64 = re.compile(r"[0-9a-f]{64}\Z")
_SURROGATE = re.compile("[\ud800-\udfff]")


class _Hidden:
    """Stands in, in a reconstructed record, for an array element that is not disclosed."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<hidden>"


HIDDEN = _Hidden()


def _segment_json(seg: str | int) -> str:
    return encode_basestring(seg) if isinstance(seg, str) else str(seg)


def path_sort_key(path: FieldPath) -> tuple[tuple[int, int, bytes], ...]:
    """Order of ``flatten``: members by UTF-16 code units (RFC 8785 §3.2.3), elements by index."""
    return tuple(
        (0, seg, b"") if isinstance(seg, int) else (1, 0, seg.encode("utf-16-be", "surrogatepass"))
        for seg in path
    )


def _string_json(text: str, path: FieldPath) -> str:
    if _SURROGATE.search(text):
        raise MalformedError("lone surrogate (RFC 8785 §3.2.2.2)", path=json_path(path))
    # RFC 8785 §3.2.2.2 string form: Python's encoder uses the same escapes (property-tested).
    return encode_basestring(text)


def _scalar_json(value: Any, path: FieldPath) -> str:
    if isinstance(value, str):
        return _string_json(value, path)
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, int) and -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
        return str(value)
    if isinstance(value, int):
        raise MalformedError("integer beyond ±(2^53-1)", path=json_path(path))
    if isinstance(value, float):
        raise MalformedError("float refused: quantities are decimal strings", path=json_path(path))
    raise MalformedError(f"{type(value).__name__} is not a JSON value", path=json_path(path))


def _flatten_into(
    value: Any, path: list[str | int], path_json: list[str], out: list[tuple[FieldPath, Any, str]]
) -> None:
    # Each pair keeps the canonical JSON of "path,value" so disclosures need no second walk.
    if isinstance(value, dict):
        if not value:
            out.append((tuple(path), {}, "[" + ",".join(path_json) + "],{}"))
            return
        if not all(isinstance(key, str) for key in value):
            raise MalformedError("member names must be strings", path=json_path(path))
        for key in sorted(value, key=lambda k: k.encode("utf-16-be", "surrogatepass")):
            path.append(key)
            path_json.append(_string_json(key, tuple(path)))
            _flatten_into(value[key], path, path_json, out)
            path.pop()
            path_json.pop()
    elif isinstance(value, list):
        if not value:
            out.append((tuple(path), [], "[" + ",".join(path_json) + "],[]"))
            return
        for i, item in enumerate(value):
            path.append(i)
            path_json.append(str(i))
            _flatten_into(item, path, path_json, out)
            path.pop()
            path_json.pop()
    else:
        tail = _scalar_json(value, tuple(path))
        out.append((tuple(path), value, "[" + ",".join(path_json) + "]," + tail))


def _flatten_json(record: Any) -> list[tuple[FieldPath, Any, str]]:
    if not isinstance(record, dict):
        raise MalformedError("a record is a JSON object")
    out: list[tuple[FieldPath, Any, str]] = []
    _flatten_into(record, [], [], out)
    return out


def flatten(record: Any) -> list[tuple[FieldPath, Any]]:
    """(path, value) pairs of ``record`` in canonical order (DESIGN.md §3.2)."""
    return [(p, v) for p, v, _ in _flatten_json(record)]


def encode_salt(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _is_salt(salt: Any) -> bool:
    # 22 base64url characters carry 132 bits; the last 4 must be zero or the same 16 bytes
    # would have 16 spellings (padding-bit malleability).
    return isinstance(salt, str) and bool(_SALT_TEXT.match(salt)) and salt[-1] in "AQgw"


def check_salt(salt: Any, where: str) -> None:
    if not _is_salt(salt):
        raise MalformedError("salt must be 16 bytes as unpadded base64url (22 chars)", path=where)


def disclosure_bytes(salt: str, path: FieldPath, value: Any) -> bytes:
    """JCS([salt, path, value]): the bytes a field hash is taken over."""
    return canonicalize([salt, list(path), value])


def field_hash_hex(disclosure: bytes) -> str:
    return hashlib.sha256(disclosure).hexdigest()


def digest_from_field_hashes(hashes_hex: Iterable[str]) -> bytes:
    """Record digest from field hashes (any order); a repeated field hash is refused."""
    ordered = sorted(hashes_hex)
    for a, b in itertools.pairwise(ordered):
        if a == b:
            raise VerificationError(
                f"field hash {a} appears twice", expected="distinct field hashes", computed=a
            )
    body = "[" + ",".join(f'"{h}"' for h in ordered) + "]"
    return hashlib.sha256(DIGEST_DOMAIN + body.encode("ascii")).digest()


@dataclass(frozen=True)
class Disclosure:
    """One revealed pair: its salt, path and value."""

    salt: str
    path: FieldPath
    value: Any

    def to_json(self) -> list[Any]:
        return [self.salt, list(self.path), self.value]

    def field_hash_hex(self) -> str:
        return field_hash_hex(disclosure_bytes(self.salt, self.path, self.value))


@dataclass(frozen=True)
class Commitment:
    """Full view: the record and the salt of every pair, keyed by path."""

    record: dict[str, Any]
    salts: Mapping[FieldPath, str]

    def _hashes(self) -> dict[FieldPath, str]:
        pairs = _flatten_json(self.record)
        paths = {p for p, _, _ in pairs}
        for p in self.salts:
            if p not in paths:
                raise VerificationError(
                    f"a salt is given for {json_path(p, 'record')} but the record has no such "
                    "field",
                    expected="one salt per field",
                    computed=list(p),
                )
        out: dict[FieldPath, str] = {}
        for p, _, tail in pairs:
            salt = self.salts.get(p)
            if salt is None:
                raise VerificationError(
                    f"no salt for field {json_path(p, 'record')}",
                    expected="one salt per field",
                    computed=list(p),
                )
            if not _is_salt(salt):
                check_salt(salt, json_path(p, "salts"))
            out[p] = hashlib.sha256(f"[{encode_basestring(salt)},{tail}]".encode()).hexdigest()
        return out

    def field_hashes(self) -> dict[FieldPath, str]:
        """Field hash (lowercase hex) of every pair, in canonical order."""
        return self._hashes()

    @property
    def digest(self) -> bytes:
        return digest_from_field_hashes(self._hashes().values())

    @property
    def digest_hex(self) -> str:
        return self.digest.hex()

    def disclosures(self) -> list[Disclosure]:
        self._hashes()
        return [Disclosure(self.salts[p], p, v) for p, v in flatten(self.record)]

    def to_json(self) -> dict[str, Any]:
        """The full view as it appears in bundles (docs/FORMAT.md §2.3).

        Salts keep their given order (``commit`` gives them in canonical order), so a
        parsed view re-encodes to the bytes it came from.
        """
        return {
            "kind": "full",
            "record": self.record,
            "salts": [[list(p), s] for p, s in self.salts.items()],
        }


@dataclass(frozen=True)
class RedactedView:
    """Disclosures of the revealed pairs plus the field hashes of the hidden ones."""

    disclosures: tuple[Disclosure, ...]
    hidden: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "redacted",
            "disclosures": [d.to_json() for d in self.disclosures],
            "hidden": list(self.hidden),
        }


View = Commitment | RedactedView


def commit(record: dict[str, Any], *, salt_source: SaltSource = secrets.token_bytes) -> Commitment:
    """Draw a fresh salt for every pair of ``record`` from ``salt_source(16)``."""
    salts: dict[FieldPath, str] = {}
    for p, _, _ in _flatten_json(record):
        raw = salt_source(SALT_BYTES)
        if len(raw) != SALT_BYTES:
            raise MalformedError(f"salt source returned {len(raw)} bytes, not {SALT_BYTES}")
        salts[p] = encode_salt(raw)
    return Commitment(record, salts)


def record_digest(record: dict[str, Any], salts: Mapping[FieldPath, str]) -> bytes:
    """Digest v1 of ``record`` under ``salts`` (32 raw bytes)."""
    return Commitment(record, salts).digest


def redact(commitment: Commitment, reveal: Callable[[FieldPath], bool]) -> RedactedView:
    """Reveal the pairs whose path ``reveal`` accepts; keep only the field hash of the rest."""
    hashes = commitment.field_hashes()
    shown: list[Disclosure] = []
    hidden: list[str] = []
    for p, v in flatten(commitment.record):
        if reveal(p):
            shown.append(Disclosure(commitment.salts[p], p, v))
        else:
            hidden.append(hashes[p])
    return RedactedView(tuple(shown), tuple(sorted(hidden)))


def view_digest(view: View) -> bytes:
    """Recompute the record digest a view commits to."""
    if isinstance(view, Commitment):
        return view.digest
    disclosed = [d.field_hash_hex() for d in view.disclosures]
    return digest_from_field_hashes([*disclosed, *view.hidden])


def verify_view(view: View, digest_hex: str) -> None:
    """Raise unless ``view`` recomputes to ``digest_hex`` (DigestMismatchError on a mismatch)."""
    if not isinstance(digest_hex, str) or not _HEX64.match(digest_hex):
        raise MalformedError("digest must be 64 lowercase hex characters")
    computed = view_digest(view).hex()
    if computed != digest_hex:
        raise DigestMismatchError(
            "the view does not recompute to the record digest",
            expected=digest_hex,
            computed=computed,
        )


def _place(node: Any, path: FieldPath, value: Any, depth: int) -> Any:
    if depth == len(path):
        if node is not None:
            raise MalformedError("two disclosures for one field", path=json_path(path))
        return value
    seg = path[depth]
    if isinstance(seg, int):
        node = [] if node is None else node
        if not isinstance(node, list):
            raise MalformedError("disclosed paths disagree", path=json_path(path[:depth]))
        while len(node) <= seg:
            node.append(None)
        node[seg] = _place(node[seg], path, value, depth + 1)
        return node
    node = {} if node is None else node
    if not isinstance(node, dict):
        raise MalformedError("disclosed paths disagree", path=json_path(path[:depth]))
    node[seg] = _place(node.get(seg), path, value, depth + 1)
    return node


def _fill_holes(node: Any) -> Any:
    if isinstance(node, list):
        return [HIDDEN if item is None else _fill_holes(item) for item in node]
    if isinstance(node, dict):
        return {k: _fill_holes(v) for k, v in node.items()}
    return node


def reconstruct(view: View) -> dict[str, Any]:
    """The record as far as ``view`` discloses it; missing array elements are ``HIDDEN``.

    For display only: a disclosed ``null`` and a hidden element are told apart by the
    ``HIDDEN`` marker; hidden object members are simply absent.
    """
    if isinstance(view, Commitment):
        return view.record
    root: Any = None
    for d in view.disclosures:
        # Wrapping scalars keeps a disclosed null distinct from "nothing placed here yet".
        root = _place(root, d.path, _Leaf(d.value), 0)
    return _unwrap(_fill_holes(root)) if root is not None else {}


class _Leaf:
    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


def _unwrap(node: Any) -> Any:
    if isinstance(node, _Leaf):
        return node.value
    if isinstance(node, list):
        return [_unwrap(item) for item in node]
    if isinstance(node, dict):
        return {k: _unwrap(v) for k, v in node.items()}
    return node
