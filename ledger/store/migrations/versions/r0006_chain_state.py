"""Chain state: record statuses written through the outbox, the follower's mirror.

- ``anchor_txs`` becomes the outbox of every transaction the anchorer signs: ``purpose``
  (``anchor``, ``revoke``, ``supersede``) and ``target_id`` (the revocation or supersession
  row); ``batch_seq`` is set for anchors only. Rows already stored are anchors.
- ``revocations`` gain where they came from (``source``, ``requested_by``), where they were
  mined (``block_hash``, ``revoked_at``) and the retry bookkeeping (``attempts``,
  ``next_attempt_at``, ``last_error``). Rows already stored were requested through the
  service.
- ``supersessions``: the AnchorRegistry status "superseded by", queued when a successor is
  anchored.
- ``attestations`` gain the on-chain facts (body address, index, block hash, block time).
- ``producer_key_types``: the record types each producer key may sign (TrustRegistry grants).
  Keys already stored get none: they may sign nothing until the registrar grants their
  types on-chain (``carbonledger keys grant``), which the follower mirrors.
- ``accredited_bodies``, ``chain_events``, ``chain_cursors``, ``chain_blocks``: the
  follower's mirror of registry events, its cursor and the block hashes it stopped at.

Revision ID: 0006_chain_state
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ledger.store.types import UTCDateTime

revision: str = "0006_chain_state"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AutoId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
CHAIN_STATES = "state IN ('pending', 'broadcast', 'mined', 'failed')"
SOURCES = "source IN ('request', 'chain')"


def _retry_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
    ]


def upgrade() -> None:
    # SQLite changes a column's nullability and adds check constraints only by rebuilding
    # the table: batch mode does that (and plain ALTERs on PostgreSQL).
    with op.batch_alter_table("anchor_txs") as batch:
        batch.add_column(
            sa.Column("purpose", sa.String(16), server_default="anchor", nullable=False)
        )
        batch.add_column(sa.Column("target_id", sa.BigInteger(), nullable=True))
        batch.alter_column("batch_seq", existing_type=sa.BigInteger(), nullable=True)
        batch.create_check_constraint(
            "ck_anchor_txs_purpose", "purpose IN ('anchor', 'revoke', 'supersede')"
        )
        batch.create_check_constraint(
            "ck_anchor_txs_purpose_target",
            "(purpose = 'anchor' AND batch_seq IS NOT NULL AND target_id IS NULL)"
            " OR (purpose <> 'anchor' AND batch_seq IS NULL AND target_id IS NOT NULL)",
        )
    op.create_index(
        "uq_anchor_txs_mined_target",
        "anchor_txs",
        ["purpose", "target_id"],
        unique=True,
        sqlite_where=sa.text("state = 'mined' AND target_id IS NOT NULL"),
        postgresql_where=sa.text("state = 'mined' AND target_id IS NOT NULL"),
    )
    op.create_index("ix_anchor_txs_purpose_target_id", "anchor_txs", ["purpose", "target_id"])

    with op.batch_alter_table("revocations") as batch:
        batch.add_column(
            sa.Column("source", sa.String(16), server_default="request", nullable=False)
        )
        batch.add_column(sa.Column("requested_by", sa.String(200), nullable=True))
        batch.add_column(sa.Column("block_hash", sa.String(66), nullable=True))
        batch.add_column(sa.Column("revoked_at", UTCDateTime(), nullable=True))
        for column in _retry_columns():
            batch.add_column(column)
        batch.create_check_constraint("ck_revocations_source", SOURCES)

    op.create_table(
        "supersessions",
        sa.Column("id", AutoId, autoincrement=True, nullable=False),
        sa.Column("digest_hex", sa.String(64), nullable=False),
        sa.Column("successor_digest_hex", sa.String(64), nullable=False),
        sa.Column("successor_seq", sa.BigInteger(), nullable=False),
        sa.Column("requested_at", UTCDateTime(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("source", sa.String(16), server_default="request", nullable=False),
        sa.Column("tx_hash", sa.String(66), nullable=True),
        sa.Column("block_number", sa.BigInteger(), nullable=True),
        sa.Column("block_hash", sa.String(66), nullable=True),
        sa.Column("superseded_at", UTCDateTime(), nullable=True),
        *_retry_columns(),
        sa.PrimaryKeyConstraint("id", name="pk_supersessions"),
        sa.UniqueConstraint("digest_hex", name="uq_supersessions_digest_hex"),
        sa.UniqueConstraint("tx_hash", name="uq_supersessions_tx_hash"),
        sa.CheckConstraint(CHAIN_STATES, name=op.f("ck_supersessions_state")),
        sa.CheckConstraint(SOURCES, name=op.f("ck_supersessions_source")),
    )
    op.create_index(
        "ix_supersessions_successor_digest_hex", "supersessions", ["successor_digest_hex"]
    )

    with op.batch_alter_table("attestations") as batch:
        batch.add_column(
            sa.Column("source", sa.String(16), server_default="request", nullable=False)
        )
        batch.add_column(sa.Column("body_address", sa.String(42), nullable=True))
        batch.add_column(sa.Column("attestation_index", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("block_hash", sa.String(66), nullable=True))
        batch.add_column(sa.Column("filed_at", UTCDateTime(), nullable=True))
        batch.create_check_constraint("ck_attestations_source", SOURCES)
        batch.create_unique_constraint(
            "uq_attestations_digest_hex_attestation_index", ["digest_hex", "attestation_index"]
        )

    op.create_table(
        "producer_key_types",
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("record_type", sa.String(64), nullable=False),
        sa.Column("granted_at", UTCDateTime(), nullable=False),
        sa.Column("withdrawn_at", UTCDateTime(), nullable=True),
        sa.Column("granted_tx_hash", sa.String(66), nullable=True),
        sa.PrimaryKeyConstraint("key_id", "record_type", name="pk_producer_key_types"),
        sa.ForeignKeyConstraint(
            ["key_id"], ["producer_keys.key_id"], name="fk_producer_key_types_key_id_producer_keys"
        ),
    )
    op.create_table(
        "accredited_bodies",
        sa.Column("address", sa.String(42), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("regions", sa.Text(), nullable=False),
        sa.Column("valid_from", UTCDateTime(), nullable=False),
        sa.Column("valid_until", UTCDateTime(), nullable=False),
        sa.Column("withdrawn", sa.Boolean(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("address", name="pk_accredited_bodies"),
    )
    op.create_table(
        "chain_events",
        sa.Column("id", AutoId, autoincrement=True, nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("block_hash", sa.String(66), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("tx_hash", sa.String(66), nullable=False),
        sa.Column("contract", sa.String(32), nullable=False),
        sa.Column("event", sa.String(64), nullable=False),
        sa.Column("args", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_chain_events"),
        sa.UniqueConstraint(
            "block_number", "log_index", name="uq_chain_events_block_number_log_index"
        ),
    )
    op.create_index("ix_chain_events_block_number", "chain_events", ["block_number"])
    op.create_index("ix_chain_events_event", "chain_events", ["event"])
    op.create_table(
        "chain_cursors",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("block_hash", sa.String(66), nullable=False),
        sa.Column("head_block", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_chain_cursors"),
    )
    op.create_table(
        "chain_blocks",
        sa.Column("reader", sa.String(64), nullable=False),
        sa.Column("number", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.String(66), nullable=False),
        sa.PrimaryKeyConstraint("reader", "number", name="pk_chain_blocks"),
    )


def downgrade() -> None:
    for table in ("chain_blocks", "chain_cursors", "chain_events", "accredited_bodies"):
        op.drop_table(table)
    op.drop_table("producer_key_types")
    with op.batch_alter_table("attestations") as batch:
        batch.drop_constraint("uq_attestations_digest_hex_attestation_index", type_="unique")
        batch.drop_constraint("ck_attestations_source", type_="check")
        for column in ("filed_at", "block_hash", "attestation_index", "body_address", "source"):
            batch.drop_column(column)
    op.drop_index("ix_supersessions_successor_digest_hex", table_name="supersessions")
    op.drop_table("supersessions")
    with op.batch_alter_table("revocations") as batch:
        batch.drop_constraint("ck_revocations_source", type_="check")
        for column in (
            "last_error", "next_attempt_at", "attempts", "revoked_at", "block_hash",
            "requested_by", "source",
        ):  # fmt: skip
            batch.drop_column(column)
    op.drop_index("ix_anchor_txs_purpose_target_id", table_name="anchor_txs")
    op.drop_index("uq_anchor_txs_mined_target", table_name="anchor_txs")
    # Status transactions have no batch: they cannot survive the old schema.
    op.execute("DELETE FROM anchor_txs WHERE purpose <> 'anchor'")
    with op.batch_alter_table("anchor_txs") as batch:
        batch.drop_constraint("ck_anchor_txs_purpose_target", type_="check")
        batch.drop_constraint("ck_anchor_txs_purpose", type_="check")
        batch.alter_column("batch_seq", existing_type=sa.BigInteger(), nullable=False)
        batch.drop_column("target_id")
        batch.drop_column("purpose")
