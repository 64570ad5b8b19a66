"""What the store's read functions hand out: frozen values copied from its rows.

No ORM object leaves the store through these: a value outlives its transaction, cannot
lazy-load, and cannot write anything back. Names follow the columns (hex strings end in
``_hex``; EVM hashes keep their ``0x``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ledger.store.models import Attestation, Batch, BatchLeaf, ProducerKey, Record, Revocation

__all__ = [
    "LinkTarget",
    "RecordFacts",
    "Referrer",
    "StoredAttestation",
    "StoredBatch",
    "StoredKey",
    "StoredLeaf",
    "StoredRecord",
    "StoredRevocation",
]


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

    @classmethod
    def of(cls, row: Record) -> StoredRecord:
        return cls(
            id=row.id,
            record_id=row.record_id,
            type=row.type,
            schema_version=row.schema_version,
            subject=row.subject,
            producer=row.producer,
            issued_at=row.issued_at,
            accepted_at=row.accepted_at,
            digest_hex=row.digest_hex,
            status=row.status,
            batch_seq=row.batch_seq,
            supersedes=row.supersedes,
            full_view=bytes(row.full_view),
            key_id=row.key_id,
            signature=bytes(row.signature),
            receipt=bytes(row.receipt),
        )


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

    @classmethod
    def of(cls, row: Batch) -> StoredBatch:
        return cls(
            seq=row.seq,
            state=row.state,
            root_hex=row.root_hex,
            leaf_count=row.leaf_count,
            manifest=bytes(row.manifest),
            manifest_digest_hex=row.manifest_digest_hex,
            manifest_cid=row.manifest_cid,
            created_at=row.created_at,
            anchored_at=row.anchored_at,
            anchored_block_number=row.anchored_block_number,
            anchored_block_hash=row.anchored_block_hash,
            tx_hash=row.tx_hash,
            log_hash_hex=row.log_hash_hex,
        )


@dataclass(frozen=True)
class StoredLeaf:
    """A record digest in a batch with its Merkle proof (hex nodes, no ``0x``)."""

    batch_seq: int
    digest_hex: str
    proof: tuple[str, ...]

    @classmethod
    def of(cls, row: BatchLeaf) -> StoredLeaf:
        return cls(row.batch_seq, row.digest_hex, tuple(row.proof))


@dataclass(frozen=True)
class StoredRevocation:
    digest_hex: str
    state: str
    reason_code: int
    reason_digest_hex: str
    requested_at: datetime
    tx_hash: str | None
    block_number: int | None

    @classmethod
    def of(cls, row: Revocation) -> StoredRevocation:
        return cls(
            digest_hex=row.digest_hex,
            state=row.state,
            reason_code=row.reason_code,
            reason_digest_hex=row.reason_digest_hex,
            requested_at=row.requested_at,
            tx_hash=row.tx_hash,
            block_number=row.block_number,
        )


@dataclass(frozen=True)
class StoredAttestation:
    digest_hex: str
    attester: str
    report_digest_hex: str
    verdict: str
    observed_at: datetime
    state: str
    tx_hash: str | None
    block_number: int | None

    @classmethod
    def of(cls, row: Attestation) -> StoredAttestation:
        return cls(
            digest_hex=row.digest_hex,
            attester=row.attester,
            report_digest_hex=row.report_digest_hex,
            verdict=row.verdict,
            observed_at=row.observed_at,
            state=row.state,
            tx_hash=row.tx_hash,
            block_number=row.block_number,
        )


@dataclass(frozen=True)
class StoredKey:
    """A producer key and its validity window."""

    key_id: str
    producer: str
    public_key_hex: str
    valid_from: datetime
    valid_until: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, row: ProducerKey) -> StoredKey:
        return cls(
            key_id=row.key_id,
            producer=row.producer,
            public_key_hex=row.public_key_hex,
            valid_from=row.valid_from,
            valid_until=row.valid_until,
            revoked_at=row.revoked_at,
        )


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
