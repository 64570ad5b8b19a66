"""Manifest publishing: ``batches.manifest_published_at`` (anchoring/publishing.py).

A nullable column, so the batches already stored simply count as not yet published: once
a Kubo URL is configured the anchorer publishes them, oldest first.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ledger.store.types import UTCDateTime

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("batches", sa.Column("manifest_published_at", UTCDateTime(), nullable=True))
    op.create_index("ix_batches_manifest_published_at", "batches", ["manifest_published_at"])


def downgrade() -> None:
    op.drop_index("ix_batches_manifest_published_at", table_name="batches")
    # SQLite drops a column only by rebuilding the table: batch mode does that.
    with op.batch_alter_table("batches") as batch:
        batch.drop_column("manifest_published_at")
