"""The initial schema: producers and keys, records and links, batches and leaves, the
anchoring outbox, revocations, attestations, alerts and the SQLite leader lease.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ledger.store.types import UInt256, UTCDateTime

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AutoId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _states(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    # Constraint names are final (op.f): the models' naming convention, which Alembic
    # applies to these operations too, must not prefix them again.
    op.create_table(
        "producers",
        sa.Column("producer", sa.String(200), nullable=False),
        sa.Column("display_name", sa.String(400), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("producer", name="pk_producers"),
    )
    op.create_table(
        "producer_keys",
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("producer", sa.String(200), nullable=False),
        sa.Column("public_key_hex", sa.String(64), nullable=False),
        sa.Column("valid_from", UTCDateTime(), nullable=False),
        sa.Column("valid_until", UTCDateTime(), nullable=True),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.Column("registered_tx_hash", sa.String(66), nullable=True),
        sa.PrimaryKeyConstraint("key_id", name="pk_producer_keys"),
        sa.ForeignKeyConstraint(
            ["producer"], ["producers.producer"], name="fk_producer_keys_producer_producers"
        ),
        sa.UniqueConstraint("public_key_hex", name="uq_producer_keys_public_key_hex"),
    )
    op.create_index("ix_producer_keys_producer", "producer_keys", ["producer"])

    op.create_table(
        "batches",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("root_hex", sa.String(64), nullable=False),
        sa.Column("leaf_count", sa.Integer(), nullable=False),
        sa.Column("manifest", sa.LargeBinary(), nullable=False),
        sa.Column("manifest_digest_hex", sa.String(64), nullable=False),
        sa.Column("manifest_cid", sa.String(100), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("anchored_at", UTCDateTime(), nullable=True),
        sa.Column("anchored_block_number", sa.BigInteger(), nullable=True),
        sa.Column("anchored_block_hash", sa.String(66), nullable=True),
        sa.Column("tx_hash", sa.String(66), nullable=True),
        sa.Column("log_hash_hex", sa.String(64), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("seq", name="pk_batches"),
        sa.UniqueConstraint("manifest_digest_hex", name="uq_batches_manifest_digest_hex"),
        sa.CheckConstraint("seq >= 1", name=op.f("ck_batches_seq_positive")),
        sa.CheckConstraint("leaf_count >= 1", name=op.f("ck_batches_leaf_count_positive")),
        sa.CheckConstraint(
            _states("state", ("sealed", "anchoring", "anchored", "failed", "disputed")),
            name=op.f("ck_batches_state"),
        ),
    )
    op.create_index("ix_batches_state", "batches", ["state"])

    op.create_table(
        "records",
        sa.Column("id", AutoId, autoincrement=True, nullable=False),
        sa.Column("record_id", sa.String(200), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("schema_version", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(400), nullable=False),
        sa.Column("producer", sa.String(200), nullable=False),
        sa.Column("issued_at", UTCDateTime(), nullable=False),
        sa.Column("digest_hex", sa.String(64), nullable=False),
        sa.Column("full_view", sa.LargeBinary(), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("accepted_at", UTCDateTime(), nullable=False),
        sa.Column("receipt", sa.LargeBinary(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("batch_seq", sa.BigInteger(), nullable=True),
        sa.Column("supersedes", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_records"),
        sa.UniqueConstraint("record_id", name="uq_records_record_id"),
        sa.UniqueConstraint("digest_hex", name="uq_records_digest_hex"),
        sa.ForeignKeyConstraint(
            ["key_id"], ["producer_keys.key_id"], name="fk_records_key_id_producer_keys"
        ),
        sa.ForeignKeyConstraint(
            ["batch_seq"], ["batches.seq"], name="fk_records_batch_seq_batches"
        ),
        sa.CheckConstraint(
            _states("status", ("pending", "batched", "anchored")), name=op.f("ck_records_status")
        ),
        sa.CheckConstraint(
            "(status = 'pending' AND batch_seq IS NULL)"
            " OR (status <> 'pending' AND batch_seq IS NOT NULL)",
            name=op.f("ck_records_status_batch"),
        ),
    )
    op.create_index("ix_records_subject_id", "records", ["subject", "id"])
    op.create_index("ix_records_status_id", "records", ["status", "id"])
    op.create_index("ix_records_producer", "records", ["producer"])
    op.create_index("ix_records_batch_seq", "records", ["batch_seq"])
    op.create_index("ix_records_supersedes", "records", ["supersedes"])

    op.create_table(
        "record_refs",
        sa.Column("id", AutoId, autoincrement=True, nullable=False),
        sa.Column("record_pk", AutoId, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("rel", sa.String(64), nullable=False),
        sa.Column("ref_id", sa.String(200), nullable=False),
        sa.Column("ref_digest_hex", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_record_refs"),
        sa.ForeignKeyConstraint(
            ["record_pk"], ["records.id"], name="fk_record_refs_record_pk_records"
        ),
        sa.UniqueConstraint("record_pk", "position", name="uq_record_refs_record_pk_position"),
    )
    op.create_index("ix_record_refs_ref_id", "record_refs", ["ref_id"])
    op.create_index("ix_record_refs_ref_digest_hex", "record_refs", ["ref_digest_hex"])

    op.create_table(
        "batch_leaves",
        sa.Column("batch_seq", sa.BigInteger(), nullable=False),
        sa.Column("leaf_index", sa.Integer(), nullable=False),
        sa.Column("digest_hex", sa.String(64), nullable=False),
        sa.Column("proof", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("batch_seq", "leaf_index", name="pk_batch_leaves"),
        sa.ForeignKeyConstraint(
            ["batch_seq"], ["batches.seq"], name="fk_batch_leaves_batch_seq_batches"
        ),
        sa.ForeignKeyConstraint(
            ["digest_hex"], ["records.digest_hex"], name="fk_batch_leaves_digest_hex_records"
        ),
        sa.UniqueConstraint("digest_hex", name="uq_batch_leaves_digest_hex"),
        sa.CheckConstraint("leaf_index >= 0", name=op.f("ck_batch_leaves_leaf_index_nonnegative")),
    )

    op.create_table(
        "anchor_txs",
        sa.Column("id", AutoId, autoincrement=True, nullable=False),
        sa.Column("batch_seq", sa.BigInteger(), nullable=False),
        sa.Column("nonce", sa.BigInteger(), nullable=False),
        sa.Column("raw_tx", sa.LargeBinary(), nullable=False),
        sa.Column("tx_hash", sa.String(66), nullable=False),
        sa.Column("max_fee_per_gas", UInt256(), nullable=False),
        sa.Column("priority_fee_per_gas", UInt256(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("broadcast_at", UTCDateTime(), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=True),
        sa.Column("block_hash", sa.String(66), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_anchor_txs"),
        sa.ForeignKeyConstraint(
            ["batch_seq"], ["batches.seq"], name="fk_anchor_txs_batch_seq_batches"
        ),
        sa.UniqueConstraint("tx_hash", name="uq_anchor_txs_tx_hash"),
        sa.CheckConstraint(
            _states("state", ("signed", "broadcast", "mined", "replaced", "reverted")),
            name=op.f("ck_anchor_txs_state"),
        ),
    )
    op.create_index("ix_anchor_txs_batch_seq", "anchor_txs", ["batch_seq"])
    op.create_index("ix_anchor_txs_state", "anchor_txs", ["state"])
    op.create_index(
        "uq_anchor_txs_mined_batch",
        "anchor_txs",
        ["batch_seq"],
        unique=True,
        sqlite_where=sa.text("state = 'mined'"),
        postgresql_where=sa.text("state = 'mined'"),
    )

    chain_states = ("pending", "broadcast", "mined", "failed")
    op.create_table(
        "revocations",
        sa.Column("id", AutoId, autoincrement=True, nullable=False),
        sa.Column("digest_hex", sa.String(64), nullable=False),
        sa.Column("reason_code", sa.Integer(), nullable=False),
        sa.Column("reason_digest_hex", sa.String(64), nullable=False),
        sa.Column("requested_at", UTCDateTime(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("tx_hash", sa.String(66), nullable=True),
        sa.Column("block_number", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_revocations"),
        sa.UniqueConstraint("digest_hex", name="uq_revocations_digest_hex"),
        sa.UniqueConstraint("tx_hash", name="uq_revocations_tx_hash"),
        sa.CheckConstraint(_states("state", chain_states), name=op.f("ck_revocations_state")),
    )
    op.create_table(
        "attestations",
        sa.Column("id", AutoId, autoincrement=True, nullable=False),
        sa.Column("digest_hex", sa.String(64), nullable=False),
        sa.Column("attester", sa.String(200), nullable=False),
        sa.Column("report_digest_hex", sa.String(64), nullable=False),
        sa.Column("verdict", sa.String(32), nullable=False),
        sa.Column("observed_at", UTCDateTime(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("tx_hash", sa.String(66), nullable=True),
        sa.Column("block_number", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_attestations"),
        sa.UniqueConstraint("tx_hash", name="uq_attestations_tx_hash"),
        sa.CheckConstraint(_states("state", chain_states), name=op.f("ck_attestations_state")),
    )
    op.create_index("ix_attestations_digest_hex", "attestations", ["digest_hex"])

    op.create_table(
        "alerts",
        sa.Column("id", AutoId, autoincrement=True, nullable=False),
        sa.Column("raised_at", UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_alerts"),
    )
    op.create_index("ix_alerts_kind", "alerts", ["kind"])

    op.create_table(
        "leader_leases",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("holder", sa.String(200), nullable=False),
        sa.Column("acquired_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_leader_leases"),
    )


def downgrade() -> None:
    for table in (
        "leader_leases",
        "alerts",
        "attestations",
        "revocations",
        "anchor_txs",
        "batch_leaves",
        "record_refs",
        "records",
        "batches",
        "producer_keys",
        "producers",
    ):
        op.drop_table(table)
