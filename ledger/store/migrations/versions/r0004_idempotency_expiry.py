"""Idempotency-key retention: an index on ``idempotency_keys.claimed_at``.

Keys now expire (ledger/store/access.py, docs/API.md §3.1) and each submission purges a
bounded number of expired rows, oldest first; the index lets that look-up read only the
rows it deletes instead of scanning the table. No data changes: keys already stored
simply expire by their claim time like new ones.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_idempotency_keys_claimed_at", "idempotency_keys", ["claimed_at"])


def downgrade() -> None:
    op.drop_index("ix_idempotency_keys_claimed_at", table_name="idempotency_keys")
