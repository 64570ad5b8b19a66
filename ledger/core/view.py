"""Views of a record: what a bundle or a submission carries for it (docs/FORMAT.md §2.3).

A **full view** (``Commitment``) is the record with the salt of every pair; a **redacted
view** (``RedactedView``) discloses some pairs as ``[salt, path, value]`` and keeps only the
field hashes of the others. Both recompute to the same record digest (docs/FORMAT.md §2.2,
``ledger.core.commitment``). This module holds everything done to a view: commit a record,
read one from parsed JSON (``parse_view``), write it back (``to_json``), redact a full
view, recompute and verify its digest, and rebuild what it discloses for display.
"""

from __future__ import annotations

import itertools
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from ledger.core import jsonshape
from ledger.core.canonical import json_path
from ledger.core.commitment import (
    SALT_BYTES,
    FieldPath,
    are_salts,
    check_salt,
    digest_from_field_hashes,
    disclosure_bytes,
    disclosure_hashes,
    encode_salt,
    field_hash_hex,
    field_hashes,
    flatten,
    record_digest,
)
from ledger.core.errors import DigestMismatchError, MalformedError

__all__ = [
    "HIDDEN",
    "Commitment",
    "Disclosure",
    "RedactedView",
    "SaltSource",
    "View",
    "commit",
    "parse_view",
    "reconstruct",
    "redact",
    "verify_view",
    "view_digest",
]

SaltSource = Callable[[int], bytes]
_HEX64 = re.compile(r"[0-9a-f]{64}")
_HEX64_RUN = re.compile(r"(?:[0-9a-f]{64})*")
_FULL_VIEW = frozenset({"kind", "record", "salts"})
_REDACTED_VIEW = frozenset({"kind", "disclosures", "hidden"})
_SEGMENT_KINDS = frozenset({str, int})
_SCALAR_KINDS = frozenset({str, int, bool, type(None)})


class _Hidden:
    """Stands in, in a reconstructed record, for an array element that is not disclosed."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<hidden>"


HIDDEN = _Hidden()


class Disclosure(NamedTuple):
    """One revealed pair: its salt, path and value (a tuple: views hold hundreds of them)."""

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

    def field_hashes(self) -> dict[FieldPath, str]:
        """Field hash (lowercase hex) of every pair, in canonical order."""
        return field_hashes(self.record, self.salts)

    @property
    def digest(self) -> bytes:
        return record_digest(self.record, self.salts)

    @property
    def digest_hex(self) -> str:
        return self.digest.hex()

    def disclosures(self) -> list[Disclosure]:
        """Every pair as a disclosure, in canonical order (the salts checked first)."""
        self.field_hashes()
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
    for p, _ in flatten(record):
        raw = salt_source(SALT_BYTES)
        if len(raw) != SALT_BYTES:
            raise MalformedError(f"salt source returned {len(raw)} bytes, not {SALT_BYTES}")
        salts[p] = encode_salt(raw)
    return Commitment(record, salts)


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
    return digest_from_field_hashes([*disclosure_hashes(view.disclosures), *view.hidden])


def verify_view(view: View, digest_hex: str) -> None:
    """Raise unless ``view`` recomputes to ``digest_hex`` (DigestMismatchError on a mismatch)."""
    if not isinstance(digest_hex, str) or not _HEX64.fullmatch(digest_hex):
        raise MalformedError("digest must be 64 lowercase hex characters")
    computed = view_digest(view).hex()
    if computed != digest_hex:
        raise DigestMismatchError(
            "the view does not recompute to the record digest",
            expected=digest_hex,
            computed=computed,
        )


# --- reading views from parsed JSON ------------------------------------------------------
#
# A bundle of 10,000 records is read item by item, so each view is first checked in a few
# C-level passes over all its entries at once; only a view that fails them is read again
# entry by entry, which names the first fault (and accepts what the passes were too strict
# about, such as subclasses of list).


def parse_view(obj: Any, *, path: str = "view") -> View:
    """Read a full or redacted view from parsed JSON (docs/FORMAT.md §2.3), strictly."""
    kind = obj.get("kind") if isinstance(obj, dict) else None
    if kind == "full":
        jsonshape.members(obj, path, _FULL_VIEW)
        if not isinstance(obj["record"], dict):
            raise MalformedError("a record is a JSON object", path=f"{path}.record")
        entries = obj["salts"]
        if not isinstance(entries, list):
            raise MalformedError("expected an array of [path, salt]", path=f"{path}.salts")
        salts = _salts_at_once(entries)
        if salts is None:
            salts = _salts_one_by_one(entries, f"{path}.salts")
        return Commitment(obj["record"], salts)
    if kind == "redacted":
        jsonshape.members(obj, path, _REDACTED_VIEW)
        entries, hidden = obj["disclosures"], obj["hidden"]
        if not isinstance(entries, list):
            raise MalformedError("expected an array of disclosures", path=f"{path}.disclosures")
        if not isinstance(hidden, list):
            raise MalformedError("expected an array of field hashes", path=f"{path}.hidden")
        shown = _disclosures_at_once(entries)
        if shown is None:
            shown = _disclosures_one_by_one(entries, f"{path}.disclosures")
        if not _are_field_hashes(hidden):
            for i, h in enumerate(hidden):
                if not isinstance(h, str) or not _HEX64.fullmatch(h):
                    raise MalformedError(
                        "field hash must be 64 lowercase hex characters",
                        path=f"{path}.hidden[{i}]",
                    )
        return RedactedView(shown, tuple(hidden))
    raise MalformedError('view kind must be "full" or "redacted"', path=f"{path}.kind")


def _are_paths(paths: tuple[Any, ...]) -> bool:
    """Every entry an array of member names and non-negative indices (``_parse_path``)."""
    if not set(map(type, paths)) <= {list}:
        return False
    segments = list(itertools.chain.from_iterable(paths))
    kinds = set(map(type, segments))
    if not kinds <= _SEGMENT_KINDS:
        return False
    return int not in kinds or min(filter(int.__instancecheck__, segments)) >= 0


def _salts_at_once(entries: list[Any]) -> dict[FieldPath, str] | None:
    if not entries:
        return {}
    if set(map(type, entries)) != {list} or set(map(len, entries)) != {2}:
        return None
    paths, salts = zip(*entries, strict=True)
    if not _are_paths(paths) or not are_salts(list(salts)):
        return None
    out = dict(zip(map(tuple, paths), salts, strict=True))
    return out if len(out) == len(entries) else None


def _salts_one_by_one(entries: list[Any], where: str) -> dict[FieldPath, str]:
    salts: dict[FieldPath, str] = {}
    for i, entry in enumerate(entries):
        here = f"{where}[{i}]"
        if not isinstance(entry, list) or len(entry) != 2:
            raise MalformedError("expected [path, salt]", path=here)
        p = _parse_path(entry[0], f"{here}[0]")
        check_salt(entry[1], f"{here}[1]")
        if p in salts:
            raise MalformedError("second salt for one path", path=here)
        salts[p] = entry[1]
    return salts


def _disclosures_at_once(entries: list[Any]) -> tuple[Disclosure, ...] | None:
    if not entries:
        return ()
    if set(map(type, entries)) != {list} or set(map(len, entries)) != {3}:
        return None
    salts, paths, values = zip(*entries, strict=True)
    # An empty object or array is a disclosed value too; those take the careful way.
    if not set(map(type, values)) <= _SCALAR_KINDS:
        return None
    if not _are_paths(paths) or not are_salts(list(salts)):
        return None
    return tuple(map(Disclosure, salts, map(tuple, paths), values))


def _disclosures_one_by_one(entries: list[Any], where: str) -> tuple[Disclosure, ...]:
    shown: list[Disclosure] = []
    for i, entry in enumerate(entries):
        here = f"{where}[{i}]"
        if not isinstance(entry, list) or len(entry) != 3:
            raise MalformedError("expected [salt, path, value]", path=here)
        check_salt(entry[0], f"{here}[0]")
        p = _parse_path(entry[1], f"{here}[1]")
        value = entry[2]
        if isinstance(value, dict | list) and value:
            raise MalformedError("a disclosed value is a scalar, {} or []", path=f"{here}[2]")
        shown.append(Disclosure(entry[0], p, value))
    return tuple(shown)


def _parse_path(obj: Any, where: str) -> FieldPath:
    if not isinstance(obj, list):
        raise MalformedError("expected a path: an array of member names and indices", path=where)
    for i, seg in enumerate(obj):
        if isinstance(seg, bool) or not isinstance(seg, str | int):
            raise MalformedError(
                "path segment must be a string or an integer", path=f"{where}[{i}]"
            )
        if isinstance(seg, int) and seg < 0:
            raise MalformedError("array index must not be negative", path=f"{where}[{i}]")
    return tuple(obj)


def _are_field_hashes(hidden: list[Any]) -> bool:
    try:
        joined = "".join(hidden)
    except TypeError:
        return False
    return len(joined) == 64 * len(hidden) and _HEX64_RUN.fullmatch(joined) is not None


# --- rebuilding what a view discloses ----------------------------------------------------


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
