"""What the store's read functions hand out: frozen values copied from its rows.

No ORM object leaves the store through these: a value outlives its transaction, cannot
lazy-load, and cannot write anything back. Names follow the columns (hex strings end in
``_hex``; EVM hashes keep their ``0x``).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from ledger.store.models import Base

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

__all__ = [
    "LinkTarget",
    "RecordFacts",
    "Referrer",
    "StoredAttestation",
    "StoredBatch",
    "StoredKey",
    "StoredKeyType",
    "StoredLeaf",
    "StoredRecord",
    "StoredRevocation",
    "StoredSupersession",
    "copy_row",
]

R = TypeVar("R", bound="DataclassInstance")


def copy_row(cls: type[R], row: Base) -> R:
    """The value of type ``cls`` (a frozen dataclass) with the row's columns of the same
    names: binary columns as ``bytes``, JSON lists as tuples."""
    values: dict[str, Any] = {}
    for f in fields(cls):
        value = getattr(row, f.name)
        if isinstance(value, memoryview | bytearray):
            value = bytes(value)
        elif isinstance(value, list):
            value = tuple(value)
        values[f.name] = value
    return cls(**values)


@dataclass(frozen=True)
class StoredRecord:
    """An accepted record as stored: ``id`` is its place in acceptance order, ``full_view``
    the canonical bytes of the record with its salts, ``receipt`` the signed receipt."""

    id: int
    record_id: str
    type: str
    schema_version: str
    subject: str
    producer: str
    issued_at: datetime
    accepted_at: datetime
    digest_hex: str
    status: str
    batch_seq: int | None
    supersedes: str | None
    full_view: bytes
    key_id: str
    signature: bytes
    receipt: bytes


@dataclass(frozen=True)
class RecordFacts:
    """What the invariant checker reads of every record: no views, no signatures."""

    record_id: str
    digest_hex: str
    status: str
    batch_seq: int | None
    receipt: bytes


@dataclass(frozen=True)
class StoredBatch:
    """A sealed batch and how far its anchoring has come; ``manifest`` is its canonical
    bytes (public: the manifest lists digests, never record ids)."""

    seq: int
    state: str
    root_hex: str
    leaf_count: int
    manifest: bytes
    manifest_digest_hex: str
    manifest_cid: str
    created_at: datetime
    anchored_at: datetime | None
    anchored_block_number: int | None
    anchored_block_hash: str | None
    tx_hash: str | None
    log_hash_hex: str | None


@dataclass(frozen=True)
class StoredLeaf:
    """A record digest in a batch with its Merkle proof (hex nodes, no ``0x``)."""

    batch_seq: int
    digest_hex: str
    proof: tuple[str, ...]


@dataclass(frozen=True)
class StoredRevocation:
    """A revocation of a record digest, as requested and as far as it has come on-chain."""

    digest_hex: str
    state: str
    reason_code: int
    reason_digest_hex: str
    requested_at: datetime
    tx_hash: str | None
    block_number: int | None
    source: str
    revoked_at: datetime | None
    last_error: str | None


@dataclass(frozen=True)
class StoredSupersession:
    """The registry's "superseded by" status of a record digest, as the anchorer writes it
    (or the follower finds it on-chain)."""

    digest_hex: str
    successor_digest_hex: str
    successor_seq: int
    state: str
    source: str
    tx_hash: str | None
    block_number: int | None
    superseded_at: datetime | None
    last_error: str | None


@dataclass(frozen=True)
class StoredAttestation:
    """A verification body's attestation of a record digest, as noted."""

    digest_hex: str
    attester: str
    report_digest_hex: str
    verdict: str
    observed_at: datetime
    state: str
    tx_hash: str | None
    block_number: int | None
    source: str
    body_address: str | None
    attestation_index: int | None
    filed_at: datetime | None


@dataclass(frozen=True)
class StoredKey:
    """A producer key and its validity window."""

    key_id: str
    producer: str
    public_key_hex: str
    valid_from: datetime
    valid_until: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True)
class Referrer:
    """A record whose ``refs`` point at another one, with the relation."""

    rel: str
    record_id: str
    type: str
    producer: str


@dataclass(frozen=True)
class LinkTarget:
    """What the accept path checks of a record a link points at."""

    record_id: str
    digest_hex: str
    type: str
    subject: str
    producer: str


@dataclass(frozen=True)
class StoredKeyType:
    """A record type granted to a producer key (TrustRegistry ``grantRecordType``), and when
    it was withdrawn, if it was."""

    key_id: str
    record_type: str
    granted_at: datetime
    withdrawn_at: datetime | None
