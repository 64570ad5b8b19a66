"""Evidence bundles, ``carbonledger-bundle/1`` (docs/FORMAT.md §6).

A bundle carries everything an auditor needs besides read access to the chain: chain
coordinates, the items (a full or redacted view, digest, producer signature, batch seq,
Merkle proof), the headers of the batches they are in, and the closure (the records the
items refer to, in the same item shape). Its serialization is the JCS of its JSON form,
so a verifier can insist that a bundle re-encodes to exactly the bytes it was given:
no two byte strings carry the same bundle.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ledger.core import jsonshape
from ledger.core.canonical import canonicalize, canonicalize_parsed, parse_json
from ledger.core.errors import MalformedError
from ledger.core.merkle import MAX_PROOF_LENGTH, verify_inclusion
from ledger.core.receipt import Receipt
from ledger.core.signature import Signature
from ledger.core.view import RedactedView, View, parse_view, verify_view

__all__ = [
    "BUNDLE_FORMAT",
    "MAX_BUNDLE_BYTES",
    "BatchHeader",
    "Bundle",
    "BundleItem",
    "ChainRef",
    "bundle_from_json",
    "parse_bundle",
    "serialize_bundle",
]

BUNDLE_FORMAT = "carbonledger-bundle/1"
#: Limits a verifier applies before doing any work (docs/FORMAT.md §6). 100,000 items:
#: a year of hourly readings of eleven meters, or a large enterprise's ratings, verified
#: in one run (the first version's 10,000 stay readable: a cap raise only admits more).
MAX_BUNDLE_BYTES = 512 << 20
MAX_BUNDLE_DEPTH = 64
MAX_ITEMS = 100_000
MAX_BATCHES = 10_000
MAX_RECEIPTS = 100_000
_FORMAT = re.compile(r"carbonledger-bundle/(\d+)\Z")
_BUNDLE = frozenset({"format", "chain", "items", "batches", "closure"})
_BUNDLE_OPTIONAL = frozenset({"receipts", "service"})
_CHAIN = frozenset({"chain_id", "anchor_registry", "trust_registry"})
_BATCH_HEADER = frozenset(
    {"root", "manifest_digest", "leaf_count", "tx_hash", "block_number", "block_hash"}
)
_ITEM = frozenset({"view", "digest", "signature", "batch_seq", "proof"})
_SERVICE_KEY = frozenset({"key_id", "public_key"})
_SEQ_KEY = re.compile(r"(0|[1-9][0-9]{0,18})\Z")


def _hex32(value: Any, where: str, *, prefixed: bool = False) -> bytes:
    """32 bytes as lowercase hex: bare for digests, ``0x``-prefixed for EVM hashes."""
    return jsonshape.hex_bytes(value, where, size=32, prefixed=prefixed)


@dataclass(frozen=True)
class ChainRef:
    chain_id: int
    anchor_registry: str
    trust_registry: str

    def to_json(self) -> dict[str, Any]:
        return {
            "chain_id": self.chain_id,
            "anchor_registry": self.anchor_registry,
            "trust_registry": self.trust_registry,
        }

    @classmethod
    def from_json(cls, obj: Any, where: str) -> ChainRef:
        jsonshape.members(obj, where, _CHAIN)
        return cls(
            jsonshape.integer(obj["chain_id"], f"{where}.chain_id", minimum=1),
            jsonshape.address(obj["anchor_registry"], f"{where}.anchor_registry"),
            jsonshape.address(obj["trust_registry"], f"{where}.trust_registry"),
        )


@dataclass(frozen=True)
class BatchHeader:
    """A batch as anchored: the verifier checks each field against the chain."""

    root: bytes
    manifest_digest: bytes
    leaf_count: int
    tx_hash: bytes
    block_number: int
    block_hash: bytes

    def to_json(self) -> dict[str, Any]:
        return {
            "root": self.root.hex(),
            "manifest_digest": self.manifest_digest.hex(),
            "leaf_count": self.leaf_count,
            "tx_hash": "0x" + self.tx_hash.hex(),
            "block_number": self.block_number,
            "block_hash": "0x" + self.block_hash.hex(),
        }

    @classmethod
    def from_json(cls, obj: Any, where: str) -> BatchHeader:
        jsonshape.members(obj, where, _BATCH_HEADER)
        return cls(
            root=_hex32(obj["root"], f"{where}.root"),
            manifest_digest=_hex32(obj["manifest_digest"], f"{where}.manifest_digest"),
            leaf_count=jsonshape.integer(obj["leaf_count"], f"{where}.leaf_count", minimum=1),
            tx_hash=_hex32(obj["tx_hash"], f"{where}.tx_hash", prefixed=True),
            block_number=jsonshape.integer(obj["block_number"], f"{where}.block_number", minimum=0),
            block_hash=_hex32(obj["block_hash"], f"{where}.block_hash", prefixed=True),
        )


@dataclass(frozen=True)
class BundleItem:
    """One record with its evidence: view, digest, signature, batch seq and proof."""

    view: View
    digest: bytes
    signature: Signature
    batch_seq: int
    proof: tuple[bytes, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "view": self.view.to_json(),
            "digest": self.digest.hex(),
            "signature": self.signature.to_json(),
            "batch_seq": self.batch_seq,
            "proof": [p.hex() for p in self.proof],
        }

    @classmethod
    def from_json(cls, obj: Any, where: str) -> BundleItem:
        jsonshape.members(obj, where, _ITEM)
        proof = jsonshape.array(obj["proof"], f"{where}.proof", limit=MAX_PROOF_LENGTH)
        return cls(
            view=parse_view(obj["view"], path=f"{where}.view"),
            digest=_hex32(obj["digest"], f"{where}.digest"),
            signature=Signature.from_json(obj["signature"], path=f"{where}.signature"),
            batch_seq=jsonshape.integer(obj["batch_seq"], f"{where}.batch_seq", minimum=0),
            proof=tuple(_hex32(p, f"{where}.proof[{i}]") for i, p in enumerate(proof)),
        )

    @property
    def is_redacted(self) -> bool:
        return isinstance(self.view, RedactedView)

    def verify_against(self, root: bytes) -> None:
        """Recompute the digest from the view and fold the proof into ``root``.

        Raises DigestMismatchError / InclusionProofError. The signature and the root's
        presence on-chain are the verifier's to check: they need the chain.
        """
        verify_view(self.view, self.digest.hex())
        verify_inclusion(self.digest, self.proof, root)


@dataclass(frozen=True)
class ServiceKey:
    """The service's public key, under which the bundle's receipts are signed (docs/FORMAT.md §5).

    Its id is SHA-256 of the key, so the pair is self-certifying; whether it is *the*
    service's key is for the auditor to pin (the verifier's ``--service-key-id``).
    """

    key_id: str
    public_key: bytes

    def to_json(self) -> dict[str, Any]:
        return {"key_id": self.key_id, "public_key": self.public_key.hex()}

    @classmethod
    def from_json(cls, obj: Any, where: str) -> ServiceKey:
        jsonshape.members(obj, where, _SERVICE_KEY)
        public_key = _hex32(obj["public_key"], f"{where}.public_key")
        expected = hashlib.sha256(public_key).hexdigest()
        if obj["key_id"] != expected:
            raise MalformedError("key_id is not SHA-256 of public_key", path=f"{where}.key_id")
        return cls(expected, public_key)


@dataclass(frozen=True)
class Bundle:
    chain: ChainRef
    items: tuple[BundleItem, ...]
    batches: dict[int, BatchHeader]
    closure: tuple[BundleItem, ...] = ()
    receipts: tuple[Receipt, ...] | None = None
    #: present exactly when ``receipts`` is: every byte of a bundle is checkable
    service: ServiceKey | None = None
    format: str = field(default=BUNDLE_FORMAT)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "format": self.format,
            "chain": self.chain.to_json(),
            "items": [item.to_json() for item in self.items],
            "batches": {str(seq): h.to_json() for seq, h in self.batches.items()},
            "closure": [item.to_json() for item in self.closure],
        }
        if self.receipts is not None:
            out["receipts"] = [r.to_json() for r in self.receipts]
        if self.service is not None:
            out["service"] = self.service.to_json()
        return out

    def item_for_digest(self, digest: bytes) -> BundleItem | None:
        for item in (*self.items, *self.closure):
            if item.digest == digest:
                return item
        return None


def _check_format(value: Any) -> None:
    if not isinstance(value, str):
        raise MalformedError("expected a format string", path="bundle.format")
    m = _FORMAT.match(value)
    if m is None:
        raise MalformedError(f"not a carbonledger bundle: {value[:80]!r}", path="bundle.format")
    if value != BUNDLE_FORMAT:
        raise MalformedError(
            f"unsupported bundle version {m.group(1)} (this code reads {BUNDLE_FORMAT})",
            path="bundle.format",
        )


def bundle_from_json(obj: Any) -> Bundle:
    """Build a ``Bundle`` from parsed JSON, refusing anything off-format with its path."""
    _check_format(jsonshape.obj(obj, "bundle").get("format"))
    jsonshape.members(obj, "bundle", _BUNDLE, _BUNDLE_OPTIONAL)
    chain = ChainRef.from_json(obj["chain"], "bundle.chain")
    raw_batches = obj["batches"]
    if not isinstance(raw_batches, dict):
        raise MalformedError("expected an object keyed by batch seq", path="bundle.batches")
    if len(raw_batches) > MAX_BATCHES:
        raise MalformedError(f"more than {MAX_BATCHES} batches", path="bundle.batches")
    batches: dict[int, BatchHeader] = {}
    for key, header in raw_batches.items():
        where = f'bundle.batches["{key}"]' if not _SEQ_KEY.match(key) else f"bundle.batches.{key}"
        if not _SEQ_KEY.match(key):
            raise MalformedError(
                "a batch key is its seq in decimal without leading zeros", path=where
            )
        batches[int(key)] = BatchHeader.from_json(header, where)
    groups: dict[str, tuple[BundleItem, ...]] = {}
    for name in ("items", "closure"):
        entries = jsonshape.array(obj[name], f"bundle.{name}", limit=MAX_ITEMS)
        parsed = []
        for i, entry in enumerate(entries):
            item = BundleItem.from_json(entry, f"bundle.{name}[{i}]")
            if item.batch_seq not in batches:
                raise MalformedError(
                    f"batch {item.batch_seq} is not among bundle.batches",
                    path=f"bundle.{name}[{i}].batch_seq",
                )
            parsed.append(item)
        groups[name] = tuple(parsed)
    if not groups["items"]:
        raise MalformedError("a bundle carries at least one item", path="bundle.items")
    receipts: tuple[Receipt, ...] | None = None
    service: ServiceKey | None = None
    if ("receipts" in obj) != ("service" in obj):
        missing = "service" if "receipts" in obj else "receipts"
        raise MalformedError(
            "receipts and the service key that signed them come together",
            path=f"bundle.{missing}",
        )
    if "receipts" in obj:
        service = ServiceKey.from_json(obj["service"], "bundle.service")
        entries = jsonshape.array(obj["receipts"], "bundle.receipts", limit=MAX_RECEIPTS)
        receipts = tuple(
            Receipt.from_json(r, path=f"bundle.receipts[{i}]") for i, r in enumerate(entries)
        )
        for i, receipt in enumerate(receipts):
            if receipt.service_key_id != service.key_id:
                raise MalformedError(
                    "signed by another key than bundle.service",
                    path=f"bundle.receipts[{i}].service_key_id",
                )
    return Bundle(chain, groups["items"], batches, groups["closure"], receipts, service)


def parse_bundle(
    data: bytes, *, max_bytes: int = MAX_BUNDLE_BYTES, require_canonical: bool = False
) -> Bundle:
    """Strictly parse bundle bytes. With ``require_canonical``, refuse any bytes that are
    not exactly the bundle's own serialization (RFC 8785), so no mutation is harmless."""
    obj = parse_json(data, max_bytes=max_bytes, max_depth=MAX_BUNDLE_DEPTH, root="bundle")
    bundle = bundle_from_json(obj)
    del obj  # the parsed tree's containers, before the canonical bytes are compared
    if require_canonical and not _is_canonical(bundle, data):
        raise MalformedError("bundle bytes are not in canonical form (RFC 8785)", path="bundle")
    return bundle


def _canonical_pieces(bundle: Bundle) -> Iterator[bytes]:
    """The RFC 8785 bytes of ``bundle`` in pieces, one item (or receipt) at a time, so
    that comparing them with a bundle's bytes holds one item's JSON at a time, never a
    second copy of the whole bundle. Every value comes from parse_json (no float, no
    integer beyond 2^53-1), so the C-speed encoder writes its RFC 8785 bytes; the member
    names are ASCII, so their code-unit order is their sorted order."""
    members: dict[str, Any] = {
        "format": bundle.format,
        "chain": bundle.chain.to_json(),
        "items": bundle.items,
        "batches": {str(seq): h.to_json() for seq, h in bundle.batches.items()},
        "closure": bundle.closure,
    }
    if bundle.receipts is not None:
        members["receipts"] = bundle.receipts
    if bundle.service is not None:
        members["service"] = bundle.service.to_json()
    yield b"{"
    for n, name in enumerate(sorted(members)):
        yield (b"," if n else b"") + canonicalize_parsed(name) + b":"
        value = members[name]
        if isinstance(value, tuple):
            yield b"["
            for i, element in enumerate(value):
                yield (b"," if i else b"") + canonicalize_parsed(element.to_json())
            yield b"]"
        else:
            yield canonicalize_parsed(value)
    yield b"}"


def _is_canonical(bundle: Bundle, data: bytes) -> bool:
    """Whether ``data`` is exactly the canonical serialisation of ``bundle``."""
    view = memoryview(data)
    at = 0
    for piece in _canonical_pieces(bundle):
        end = at + len(piece)
        if view[at:end] != piece:
            return False
        at = end
    return at == len(view)


def serialize_bundle(bundle: Bundle) -> bytes:
    """The one byte encoding of ``bundle``: JCS of its JSON form."""
    return canonicalize(bundle.to_json())
