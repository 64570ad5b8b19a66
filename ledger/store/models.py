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
#: What an outbox transaction does: anchor a batch, or write a record's status.
TX_PURPOSES = ("anchor", "revoke", "supersede")
CHAIN_TX_STATES = ("pending", "broadcast", "mined", "failed")
#: Where a mirrored chain fact came from: a request made through the service, or the chain
#: itself (a transaction someone sent directly, read back by the follower).
FACT_SOURCES = ("request", "chain")

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


class ProducerKeyType(Base):
    """A record type a producer key may sign: the store's mirror of a TrustRegistry grant
    (docs/CONTRACTS.md §4 "Record types a key may sign"). The key may sign the type at ``t``
    when ``granted_at <= t`` and (``withdrawn_at`` is None or ``t < withdrawn_at``).
    """

    __tablename__ = "producer_key_types"

    key_id: Mapped[str] = mapped_column(ForeignKey("producer_keys.key_id"), primary_key=True)
    record_type: Mapped[str] = mapped_column(String(64), primary_key=True)
    granted_at: Mapped[datetime]
    withdrawn_at: Mapped[datetime | None]
    granted_tx_hash: Mapped[str | None] = mapped_column(String(66))


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
    #: Indexed (migration 0009): a search by root or by transaction finds the batch.
    root_hex: Mapped[str] = mapped_column(String(64), index=True)
    leaf_count: Mapped[int] = mapped_column(Integer)
    manifest: Mapped[bytes] = mapped_column(LargeBinary)
    manifest_digest_hex: Mapped[str] = mapped_column(String(64), unique=True)
    manifest_cid: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(16), index=True)
    anchored_at: Mapped[datetime | None]
    anchored_block_number: Mapped[int | None] = mapped_column(BigInteger)
    anchored_block_hash: Mapped[str | None] = mapped_column(String(66))
    tx_hash: Mapped[str | None] = mapped_column(String(66), index=True)
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
        # Counts by type and the latest records of a type (the home page, migration 0009).
        Index("ix_records_type_id", "type", "id"),
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
    """The anchorer's outbox (docs/OPERATIONS.md §1): a signed transaction, stored before it
    is broadcast, re-broadcast byte for byte after a crash.

    ``purpose`` says what it does: ``anchor`` a batch (``batch_seq``), or write a record's
    status: ``revoke`` (``target_id`` is the ``revocations`` row) or ``supersede`` (the
    ``supersessions`` row). One intent may have several transactions with the same nonce
    (fee bumps); at most one of them is ``mined`` (partial unique indexes), so the store
    itself refuses to record a batch as anchored, or a status as written, twice.
    """

    __tablename__ = "anchor_txs"
    __table_args__ = (
        CheckConstraint(_in("state", ANCHOR_TX_STATES), name="state"),
        CheckConstraint(_in("purpose", TX_PURPOSES), name="purpose"),
        CheckConstraint(
            "(purpose = 'anchor' AND batch_seq IS NOT NULL AND target_id IS NULL)"
            " OR (purpose <> 'anchor' AND batch_seq IS NULL AND target_id IS NOT NULL)",
            name="purpose_target",
        ),
        Index(
            "uq_anchor_txs_mined_batch",
            "batch_seq",
            unique=True,
            sqlite_where="state = 'mined'",
            postgresql_where="state = 'mined'",
        ),
        Index(
            "uq_anchor_txs_mined_target",
            "purpose",
            "target_id",
            unique=True,
            sqlite_where="state = 'mined' AND target_id IS NOT NULL",
            postgresql_where="state = 'mined' AND target_id IS NOT NULL",
        ),
        Index("ix_anchor_txs_purpose_target_id", "purpose", "target_id"),
    )

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    purpose: Mapped[str] = mapped_column(String(16), default="anchor", server_default="anchor")
    batch_seq: Mapped[int | None] = mapped_column(ForeignKey("batches.seq"), index=True)
    target_id: Mapped[int | None] = mapped_column(BigInteger)
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
    """A revocation of a record digest (AnchorRegistry ``revoke``, docs/CONTRACTS.md §3).

    Requested through the service (``source`` ``request``: ``pending`` until the anchorer
    signs its transaction, ``broadcast`` while it is in flight, ``failed`` while the chain
    refuses it, retried from ``next_attempt_at``) or found on the chain by the follower
    (``source`` ``chain``). ``mined`` means the registry holds it, K blocks deep: ``block_*``
    and ``revoked_at`` (that block's timestamp) say where.
    """

    __tablename__ = "revocations"
    __table_args__ = (
        CheckConstraint(_in("state", CHAIN_TX_STATES), name="state"),
        CheckConstraint(_in("source", FACT_SOURCES), name="source"),
    )

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    digest_hex: Mapped[str] = mapped_column(String(64), unique=True)
    reason_code: Mapped[int] = mapped_column(Integer)
    reason_digest_hex: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(16))
    tx_hash: Mapped[str | None] = mapped_column(String(66), unique=True)
    block_number: Mapped[int | None] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(16), default="request", server_default="request")
    requested_by: Mapped[str | None] = mapped_column(String(200))
    block_hash: Mapped[str | None] = mapped_column(String(66))
    revoked_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class Supersession(Base):
    """That a record digest is superseded by an anchored successor (AnchorRegistry
    ``markSuperseded``, docs/CONTRACTS.md §3): queued by the anchorer in the transaction that
    records the successor's batch as anchored, then written through the outbox like a
    revocation (same states and columns)."""

    __tablename__ = "supersessions"
    __table_args__ = (
        CheckConstraint(_in("state", CHAIN_TX_STATES), name="state"),
        CheckConstraint(_in("source", FACT_SOURCES), name="source"),
    )

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    digest_hex: Mapped[str] = mapped_column(String(64), unique=True)
    successor_digest_hex: Mapped[str] = mapped_column(String(64), index=True)
    successor_seq: Mapped[int] = mapped_column(BigInteger)
    requested_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16), default="request", server_default="request")
    tx_hash: Mapped[str | None] = mapped_column(String(66), unique=True)
    block_number: Mapped[int | None] = mapped_column(BigInteger)
    block_hash: Mapped[str | None] = mapped_column(String(66))
    superseded_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class Attestation(Base):
    """A verification body's attestation of a record digest (TrustRegistry ``attest``).

    Noted through the API by an auditor (``source`` ``request``, ``pending`` until the
    follower sees it on the chain) or read from the chain by the follower (``source``
    ``chain``). Once ``mined``: the body's address, its index among the digest's
    attestations, the block and that block's timestamp (``filed_at``).
    """

    __tablename__ = "attestations"
    __table_args__ = (
        CheckConstraint(_in("state", CHAIN_TX_STATES), name="state"),
        CheckConstraint(_in("source", FACT_SOURCES), name="source"),
        UniqueConstraint("digest_hex", "attestation_index"),
    )

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    digest_hex: Mapped[str] = mapped_column(String(64), index=True)
    attester: Mapped[str] = mapped_column(String(200))
    report_digest_hex: Mapped[str] = mapped_column(String(64))
    verdict: Mapped[str] = mapped_column(String(32))
    observed_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(16))
    tx_hash: Mapped[str | None] = mapped_column(String(66), unique=True)
    block_number: Mapped[int | None] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(16), default="request", server_default="request")
    body_address: Mapped[str | None] = mapped_column(String(42))
    attestation_index: Mapped[int | None] = mapped_column(Integer)
    block_hash: Mapped[str | None] = mapped_column(String(66))
    filed_at: Mapped[datetime | None]


class AccreditedBody(Base):
    """The follower's mirror of a TrustRegistry accreditation (docs/CONTRACTS.md §4)."""

    __tablename__ = "accredited_bodies"

    address: Mapped[str] = mapped_column(String(42), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(Text)
    regions: Mapped[str] = mapped_column(Text)
    valid_from: Mapped[datetime]
    valid_until: Mapped[datetime]
    withdrawn: Mapped[bool]
    block_number: Mapped[int] = mapped_column(BigInteger)


class ChainEvent(Base):
    """Every registry event the follower has read, K blocks deep (``anchoring.follower``):
    the log it derives the mirrored facts from, and re-derives after a reorg."""

    __tablename__ = "chain_events"
    __table_args__ = (UniqueConstraint("block_number", "log_index"),)

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    block_number: Mapped[int] = mapped_column(BigInteger, index=True)
    block_hash: Mapped[str] = mapped_column(String(66))
    log_index: Mapped[int] = mapped_column(Integer)
    tx_hash: Mapped[str] = mapped_column(String(66))
    contract: Mapped[str] = mapped_column(String(32))
    event: Mapped[str] = mapped_column(String(64), index=True)
    args: Mapped[dict[str, Any]] = mapped_column(JSON)


class ChainCursor(Base):
    """How far a chain reader got: ``block_number`` (with its hash, to notice a reorg) is the
    last block read; ``head_block`` the chain height it saw then (their difference is its
    lag)."""

    __tablename__ = "chain_cursors"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    block_number: Mapped[int] = mapped_column(BigInteger)
    block_hash: Mapped[str] = mapped_column(String(66))
    head_block: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime]


class ChainBlock(Base):
    """Hashes of blocks a chain reader stopped at, newest kept: after a reorg deeper than
    its confirmations, the newest one still canonical is where it reads again from."""

    __tablename__ = "chain_blocks"

    reader: Mapped[str] = mapped_column(String(64), primary_key=True)
    number: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[str] = mapped_column(String(66))


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
