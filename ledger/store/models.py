"""The tables of the store (SQLAlchemy 2 declarative models).

The migrations in ``ledger/store/migrations/versions`` create exactly these tables; a test
compares the two. Uniqueness is enforced by named constraints, not by isolation levels
: a constraint violation surfaces as ``ConstraintError`` (a
``ConflictError``) naming the constraint.

Lifecycle (docs/OPERATIONS.md §1): a record is inserted ``pending`` in the transaction that
acknowledges it, moves to ``batched`` in the transaction that seals its batch, and to
``anchored`` in the transaction that records the batch's anchor. A check constraint ties
``status`` to ``batch_seq`` so no record can claim a batch it is not in.

Conventions: digests are lowercase hex without prefix (``*_hex``, 64 characters); EVM values
(transaction and block hashes) keep ``0x``; timestamps are aware UTC; canonical JSON is
stored as the exact bytes that were hashed or signed (``LargeBinary``), never re-serialized.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ledger.store.types import (
    MAX_ID_CHARS,
    MAX_PRODUCER_CHARS,
    MAX_SUBJECT_CHARS,
    UInt256,
    UTCDateTime,
)

# Stable constraint names on both backends; the error mapping reports these names.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

RECORD_STATUSES = ("pending", "batched", "anchored")
BATCH_STATES = ("sealed", "anchoring", "anchored", "failed", "disputed")
ANCHOR_TX_STATES = ("signed", "broadcast", "mined", "replaced", "reverted")
CHAIN_TX_STATES = ("pending", "broadcast", "mined", "failed")

# An autoincrement key that is INTEGER PRIMARY KEY (the rowid) on SQLite and BIGINT elsewhere.
AutoId = BigInteger().with_variant(Integer(), "sqlite")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


class Producer(Base):
    """A platform service that writes records (``producer`` in docs/RECORDS.md §1)."""

    __tablename__ = "producers"

    producer: Mapped[str] = mapped_column(String(MAX_PRODUCER_CHARS), primary_key=True)
    display_name: Mapped[str | None] = mapped_column(String(400))
    created_at: Mapped[datetime]


class ProducerKey(Base):
    """An Ed25519 public key of a producer, with its validity window (docs/FORMAT.md §3).

    ``key_id`` is the SHA-256 (hex) of the raw 32-byte public key. ``registered_tx_hash`` is
    the TrustRegistry transaction that registered it, once there is one.
    """

    __tablename__ = "producer_keys"

    key_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    producer: Mapped[str] = mapped_column(ForeignKey("producers.producer"), index=True)
    public_key_hex: Mapped[str] = mapped_column(String(64), unique=True)
    valid_from: Mapped[datetime]
    valid_until: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    registered_tx_hash: Mapped[str | None] = mapped_column(String(66))


class Batch(Base):
    """A sealed Merkle batch (docs/FORMAT.md §4) and where its anchoring stands.

    ``seq`` is the contract's batch number: from 1, no gaps, each once (primary key).
    States: ``sealed`` → ``anchoring`` → ``anchored``; ``failed`` (retryable, with
    ``last_error``) and ``disputed`` (the chain disagrees with what we recorded).
    Publishing the manifest to IPFS is a separate step, independent of the state.
    """

    __tablename__ = "batches"
    __table_args__ = (
        CheckConstraint("seq >= 1", name="seq_positive"),
        CheckConstraint("leaf_count >= 1", name="leaf_count_positive"),
        CheckConstraint(_in("state", BATCH_STATES), name="state"),
    )

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root_hex: Mapped[str] = mapped_column(String(64))
    leaf_count: Mapped[int] = mapped_column(Integer)
    manifest: Mapped[bytes] = mapped_column(LargeBinary)
    manifest_digest_hex: Mapped[str] = mapped_column(String(64), unique=True)
    manifest_cid: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(16), index=True)
    anchored_at: Mapped[datetime | None]
    anchored_block_number: Mapped[int | None] = mapped_column(BigInteger)
    anchored_block_hash: Mapped[str | None] = mapped_column(String(66))
    tx_hash: Mapped[str | None] = mapped_column(String(66))
    log_hash_hex: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(Text)
    #: When the manifest bytes were stored on the Kubo node (``anchoring.publishing``);
    #: None while unpublished or when no node is configured (docs/OPERATIONS.md §5).
    manifest_published_at: Mapped[datetime | None] = mapped_column(index=True)


class Record(Base):
    """An accepted record (docs/RECORDS.md §1) with its commitment, signature and receipt.

    ``id`` is the acceptance order. ``full_view`` holds the canonical JSON bytes of the
    record with its salts (docs/FORMAT.md §2.3); ``receipt`` the signed receipt bytes
    (docs/FORMAT.md §5). ``key_id`` must name a registered producer key.
    """

    __tablename__ = "records"
    __table_args__ = (
        CheckConstraint(_in("status", RECORD_STATUSES), name="status"),
        CheckConstraint(
            "(status = 'pending' AND batch_seq IS NULL)"
            " OR (status <> 'pending' AND batch_seq IS NOT NULL)",
            name="status_batch",
        ),
        Index("ix_records_subject_id", "subject", "id"),
        Index("ix_records_status_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    record_id: Mapped[str] = mapped_column(String(MAX_ID_CHARS), unique=True)
    type: Mapped[str] = mapped_column(String(64))
    schema_version: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(MAX_SUBJECT_CHARS))
    producer: Mapped[str] = mapped_column(String(MAX_PRODUCER_CHARS), index=True)
    issued_at: Mapped[datetime]
    digest_hex: Mapped[str] = mapped_column(String(64), unique=True)
    full_view: Mapped[bytes] = mapped_column(LargeBinary)
    key_id: Mapped[str] = mapped_column(ForeignKey("producer_keys.key_id"))
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    accepted_at: Mapped[datetime]
    receipt: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16))
    batch_seq: Mapped[int | None] = mapped_column(ForeignKey("batches.seq"), index=True)
    supersedes: Mapped[str | None] = mapped_column(String(MAX_ID_CHARS), index=True)


class RecordRef(Base):
    """One link of a record (``refs`` in docs/RECORDS.md §1): ``rel``, target id and digest.

    Indexed both ways, so the trail of a subject and the records citing a given one
    (reverse links) are single index scans.
    """

    __tablename__ = "record_refs"
    __table_args__ = (UniqueConstraint("record_pk", "position"),)

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    record_pk: Mapped[int] = mapped_column(ForeignKey("records.id"))
    position: Mapped[int] = mapped_column(Integer)
    rel: Mapped[str] = mapped_column(String(64))
    ref_id: Mapped[str] = mapped_column(String(MAX_ID_CHARS), index=True)
    ref_digest_hex: Mapped[str | None] = mapped_column(String(64), index=True)


class BatchLeaf(Base):
    """A record digest in a batch, with its Merkle proof (JSON list of 0x-less hex nodes).

    ``digest_hex`` is unique: a record digest appears in at most one batch (docs/FORMAT.md §4).
    """

    __tablename__ = "batch_leaves"
    __table_args__ = (CheckConstraint("leaf_index >= 0", name="leaf_index_nonnegative"),)

    batch_seq: Mapped[int] = mapped_column(ForeignKey("batches.seq"), primary_key=True)
    leaf_index: Mapped[int] = mapped_column(Integer, primary_key=True)
    digest_hex: Mapped[str] = mapped_column(ForeignKey("records.digest_hex"), unique=True)
    proof: Mapped[list[str]] = mapped_column(JSON)


class AnchorTx(Base):
    """The anchoring outbox: a signed transaction, stored before
    it is broadcast, re-broadcast byte for byte after a crash.

    A batch may have several transactions with the same nonce (fee bumps); at most one of a
    batch's transactions is ``mined`` (partial unique index), so the store itself refuses to
    record a batch as anchored twice.
    """

    __tablename__ = "anchor_txs"
    __table_args__ = (
        CheckConstraint(_in("state", ANCHOR_TX_STATES), name="state"),
        Index(
            "uq_anchor_txs_mined_batch",
            "batch_seq",
            unique=True,
            sqlite_where="state = 'mined'",
            postgresql_where="state = 'mined'",
        ),
    )

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    batch_seq: Mapped[int] = mapped_column(ForeignKey("batches.seq"), index=True)
    nonce: Mapped[int] = mapped_column(BigInteger)
    raw_tx: Mapped[bytes] = mapped_column(LargeBinary)
    tx_hash: Mapped[str] = mapped_column(String(66), unique=True)
    max_fee_per_gas: Mapped[int] = mapped_column(UInt256)
    priority_fee_per_gas: Mapped[int] = mapped_column(UInt256)
    created_at: Mapped[datetime]
    broadcast_at: Mapped[datetime | None]
    state: Mapped[str] = mapped_column(String(16), index=True)
    block_number: Mapped[int | None] = mapped_column(BigInteger)
    block_hash: Mapped[str | None] = mapped_column(String(66))
    last_error: Mapped[str | None] = mapped_column(Text)


class Revocation(Base):
    """A revocation of a record digest (AnchorRegistry ``revoke``, docs/CONTRACTS.md)."""

    __tablename__ = "revocations"
    __table_args__ = (CheckConstraint(_in("state", CHAIN_TX_STATES), name="state"),)

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    digest_hex: Mapped[str] = mapped_column(String(64), unique=True)
    reason_code: Mapped[int] = mapped_column(Integer)
    reason_digest_hex: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(16))
    tx_hash: Mapped[str | None] = mapped_column(String(66), unique=True)
    block_number: Mapped[int | None] = mapped_column(BigInteger)


class Attestation(Base):
    """A verification body's attestation of a record digest (TrustRegistry ``attest``)."""

    __tablename__ = "attestations"
    __table_args__ = (CheckConstraint(_in("state", CHAIN_TX_STATES), name="state"),)

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    digest_hex: Mapped[str] = mapped_column(String(64), index=True)
    attester: Mapped[str] = mapped_column(String(200))
    report_digest_hex: Mapped[str] = mapped_column(String(64))
    verdict: Mapped[str] = mapped_column(String(32))
    observed_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(16))
    tx_hash: Mapped[str | None] = mapped_column(String(66), unique=True)
    block_number: Mapped[int | None] = mapped_column(BigInteger)


class Alert(Base):
    """Something an operator must look at (shown by the status command and page)."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    raised_at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(64), index=True)
    message: Mapped[str] = mapped_column(Text)
    resolved_at: Mapped[datetime | None]


class LeaderLease(Base):
    """The leader lock on SQLite (see ``ledger.store.leader``); unused on PostgreSQL."""

    __tablename__ = "leader_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    acquired_at: Mapped[datetime]
    expires_at: Mapped[datetime]
