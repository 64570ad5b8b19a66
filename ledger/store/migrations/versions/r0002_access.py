"""API access: principals, API keys (hashed) and idempotency keys (ledger/store/access.py).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Importing the models puts these tables on Base.metadata, which Alembic's environment and
# the models-versus-migrations comparison read.
import ledger.store.access  # noqa: F401
from ledger.store.types import UTCDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "principals",
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("producer", sa.String(200), nullable=True),
        sa.Column("record_types", sa.JSON(), nullable=False),
        sa.Column("grants", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("disabled_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("name", name="pk_principals"),
        sa.CheckConstraint(
            "role IN ('producer', 'auditor', 'regulator', 'admin')",
            name=op.f("ck_principals_role"),
        ),
    )
    op.create_index("ix_principals_producer", "principals", ["producer"])
    op.create_table(
        "api_keys",
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("principal", sa.String(200), nullable=False),
        sa.Column("secret_sha256_hex", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("key_id", name="pk_api_keys"),
        sa.ForeignKeyConstraint(
            ["principal"], ["principals.name"], name="fk_api_keys_principal_principals"
        ),
    )
    op.create_index("ix_api_keys_principal", "api_keys", ["principal"])
    op.create_table(
        "idempotency_keys",
        sa.Column("principal", sa.String(200), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("request_sha256_hex", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("claimed_at", UTCDateTime(), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("principal", "key", name="pk_idempotency_keys"),
        sa.ForeignKeyConstraint(
            ["principal"], ["principals.name"], name="fk_idempotency_keys_principal_principals"
        ),
        sa.CheckConstraint(
            "state IN ('in_flight', 'done')", name=op.f("ck_idempotency_keys_state")
        ),
    )


def downgrade() -> None:
    for table in ("idempotency_keys", "api_keys", "principals"):
        op.drop_table(table)
