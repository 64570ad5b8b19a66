"""Terminal keys: the store's mirror of the TrustRegistry's collection-terminal keys
(interface version 3) and of what each may sign for, and the spans of stored meter-reading
batches (ledger/store/terminals.py).

- ``terminal_keys``: a terminal's Ed25519 or SM2 key, its terminal id (SHA-256 of the
  terminal's identifier), its SM2 distinguishing identifier, window and revocation.
- ``terminal_grants``: the metering points and record types granted to each terminal key.
- ``reading_spans``: per stored ``meter-reading`` batch, its metering point and the first
  start and last end of its readings, for the overlap check at acceptance.

No data changes: no meter reading could be stored before this revision.

Revision ID: 0010_terminal_keys
Revises: 0006_chain_state
Create Date: 2026-12-10
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ledger.store.types import UTCDateTime

revision: str = "0010_terminal_keys"
down_revision: str | None = "0009_pages"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "terminal_keys",
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("terminal_id_hex", sa.String(64), nullable=False),
        sa.Column("scheme", sa.String(16), nullable=False),
        sa.Column("public_key_hex", sa.String(130), nullable=False),
        sa.Column("distinguishing_id_hex", sa.Text(), nullable=True),
        sa.Column("valid_from", UTCDateTime(), nullable=False),
        sa.Column("valid_until", UTCDateTime(), nullable=True),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.Column("registered_tx_hash", sa.String(66), nullable=True),
        sa.PrimaryKeyConstraint("key_id", name="pk_terminal_keys"),
        sa.UniqueConstraint("public_key_hex", name="uq_terminal_keys_public_key_hex"),
        sa.CheckConstraint(
            "scheme IN ('ed25519', 'sm2-sm3')", name=op.f("ck_terminal_keys_scheme")
        ),
    )
    op.create_index("ix_terminal_keys_terminal_id_hex", "terminal_keys", ["terminal_id_hex"])
    op.create_table(
        "terminal_grants",
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(1024), nullable=False),
        sa.Column("granted_at", UTCDateTime(), nullable=False),
        sa.Column("withdrawn_at", UTCDateTime(), nullable=True),
        sa.Column("granted_tx_hash", sa.String(66), nullable=True),
        sa.PrimaryKeyConstraint("key_id", "kind", "name", name="pk_terminal_grants"),
        sa.ForeignKeyConstraint(
            ["key_id"], ["terminal_keys.key_id"], name="fk_terminal_grants_key_id_terminal_keys"
        ),
        sa.CheckConstraint(
            "kind IN ('metering-point', 'record-type')", name=op.f("ck_terminal_grants_kind")
        ),
    )
    op.create_table(
        "reading_spans",
        sa.Column("record_id", sa.String(200), nullable=False),
        sa.Column("metering_point", sa.String(400), nullable=False),
        sa.Column("first_start", UTCDateTime(), nullable=False),
        sa.Column("last_end", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("record_id", name="pk_reading_spans"),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.record_id"], name="fk_reading_spans_record_id_records"
        ),
    )
    op.create_index(
        "ix_reading_spans_metering_point_first_start",
        "reading_spans",
        ["metering_point", "first_start"],
    )


def downgrade() -> None:
    op.drop_index("ix_reading_spans_metering_point_first_start", table_name="reading_spans")
    op.drop_table("reading_spans")
    op.drop_table("terminal_grants")
    op.drop_index("ix_terminal_keys_terminal_id_hex", table_name="terminal_keys")
    op.drop_table("terminal_keys")
