"""Operations: server-side page sessions, the audit log of access, key requests of the
two-person rule (ledger/store/sessions.py, auditlog.py, apikeys.py; docs/API.md §2).

No data changes. Page sessions signed in before this revision carried their state in the
cookie only; they are not in ``page_sessions`` and so no longer count: their holders sign
in again.

Revision ID: 0005_operations
Revises: 0006_chain_state
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Importing the models puts these tables on Base.metadata (see r0002).
import ledger.store.apikeys
import ledger.store.auditlog
import ledger.store.sessions  # noqa: F401
from ledger.store.models import AutoId
from ledger.store.types import UTCDateTime

revision: str = "0005_operations"
down_revision: str | None = "0006_chain_state"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "page_sessions",
        sa.Column("token_sha256_hex", sa.String(64), nullable=False),
        sa.Column("principal", sa.String(200), nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("ended_reason", sa.String(32), nullable=True),
        sa.PrimaryKeyConstraint("token_sha256_hex", name="pk_page_sessions"),
        sa.ForeignKeyConstraint(
            ["principal"], ["principals.name"], name="fk_page_sessions_principal_principals"
        ),
        sa.ForeignKeyConstraint(
            ["key_id"], ["api_keys.key_id"], name="fk_page_sessions_key_id_api_keys"
        ),
    )
    op.create_index("ix_page_sessions_principal", "page_sessions", ["principal"])
    op.create_index("ix_page_sessions_key_id", "page_sessions", ["key_id"])
    op.create_index("ix_page_sessions_expires_at", "page_sessions", ["expires_at"])
    op.create_table(
        "audit_events",
        sa.Column("id", AutoId, autoincrement=True, nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("principal", sa.String(200), nullable=True),
        sa.Column("key_id", sa.String(32), nullable=True),
        sa.Column("target", sa.String(500), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_audit_events"),
        sa.CheckConstraint(
            "kind IN ('key_issued', 'key_requested', 'key_confirmed', "
            "'key_request_cancelled', 'key_revoked', 'session_ended', 'privileged_read')",
            name=op.f("ck_audit_events_kind"),
        ),
    )
    op.create_index("ix_audit_events_actor", "audit_events", ["actor"])
    op.create_index("ix_audit_events_principal", "audit_events", ["principal"])
    op.create_table(
        "key_requests",
        sa.Column("request_id", sa.String(16), nullable=False),
        sa.Column("principal", sa.String(200), nullable=False),
        sa.Column("requested_by", sa.String(200), nullable=False),
        sa.Column("requested_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("decided_by", sa.String(200), nullable=True),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("key_id", sa.String(32), nullable=True),
        sa.PrimaryKeyConstraint("request_id", name="pk_key_requests"),
        sa.ForeignKeyConstraint(
            ["principal"], ["principals.name"], name="fk_key_requests_principal_principals"
        ),
        sa.CheckConstraint(
            "state IN ('pending', 'confirmed', 'cancelled')", name=op.f("ck_key_requests_state")
        ),
    )
    op.create_index("ix_key_requests_principal", "key_requests", ["principal"])


def downgrade() -> None:
    op.drop_table("key_requests")
    op.drop_table("audit_events")
    op.drop_table("page_sessions")
