"""Exchange with the buyers' systems: the PACT footprint index and requests, event
subscriptions with their delivery outbox, and the claims register (ledger/store/exchange.py,
ledger/store/webhooks.py, ledger/store/claims.py).

New tables only; nothing existing changes. Footprints are indexed from the anchored records
by the service after the upgrade, so no data is moved here.

Revision ID: 0008_exchange
Revises: 0006_chain_state
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Importing the models puts these tables on Base.metadata, which Alembic's environment and
# the models-versus-migrations comparison read.
import ledger.store.claims
import ledger.store.exchange
import ledger.store.webhooks  # noqa: F401
from ledger.store.types import UTCDateTime

revision: str = "0008_exchange"
down_revision: str | None = "0005_operations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AutoId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    op.create_table(
        "pact_footprints",
        sa.Column("id", AutoId, autoincrement=True, nullable=False),
        sa.Column("record_pk", AutoId, nullable=False),
        sa.Column("pf_id", sa.String(36), nullable=False),
        sa.Column("record_id", sa.String(200), nullable=False),
        sa.Column("record_type", sa.String(64), nullable=False),
        sa.Column("producer", sa.String(200), nullable=False),
        sa.Column("subject", sa.String(400), nullable=False),
        sa.Column("digest_hex", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("validity_start", UTCDateTime(), nullable=False),
        sa.Column("validity_end", UTCDateTime(), nullable=False),
        sa.Column("preceding", sa.JSON(), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("batch_seq", sa.BigInteger(), nullable=False),
        sa.Column("tx_hash", sa.String(66), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("indexed_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_pact_footprints"),
        sa.ForeignKeyConstraint(
            ["record_pk"], ["records.id"], name="fk_pact_footprints_record_pk_records"
        ),
        sa.UniqueConstraint("record_pk", name="uq_pact_footprints_record_pk"),
        sa.UniqueConstraint("pf_id", name="uq_pact_footprints_pf_id"),
        sa.UniqueConstraint("digest_hex", name="uq_pact_footprints_digest_hex"),
        sa.CheckConstraint(
            _in("status", ("Active", "Deprecated")), name=op.f("ck_pact_footprints_status")
        ),
        sa.CheckConstraint(
            _in("state", ("anchored", "superseded", "revoked")),
            name=op.f("ck_pact_footprints_state"),
        ),
    )
    op.create_index("ix_pact_footprints_record_id", "pact_footprints", ["record_id"])
    op.create_index("ix_pact_footprints_status", "pact_footprints", ["status"])
    op.create_table(
        "pact_footprint_keys",
        sa.Column("footprint_pk", AutoId, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.String(500), nullable=False),
        sa.PrimaryKeyConstraint("footprint_pk", "kind", "value", name="pk_pact_footprint_keys"),
        sa.ForeignKeyConstraint(
            ["footprint_pk"],
            ["pact_footprints.id"],
            name="fk_pact_footprint_keys_footprint_pk_pact_footprints",
        ),
        sa.CheckConstraint(
            _in("kind", ("product", "classification", "geography")),
            name=op.f("ck_pact_footprint_keys_kind"),
        ),
    )
    op.create_index("ix_pact_footprint_keys_kind_value", "pact_footprint_keys", ["kind", "value"])
    op.create_table(
        "pact_exclusions",
        sa.Column("record_pk", AutoId, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("excluded_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("record_pk", name="pk_pact_exclusions"),
        sa.ForeignKeyConstraint(
            ["record_pk"], ["records.id"], name="fk_pact_exclusions_record_pk_records"
        ),
    )
    op.create_table(
        "pact_requests",
        sa.Column("id", AutoId, autoincrement=True, nullable=False),
        sa.Column("principal", sa.String(200), nullable=False),
        sa.Column("event_key_hex", sa.String(64), nullable=False),
        sa.Column("event_id", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("criteria", sa.JSON(), nullable=False),
        sa.Column("base_url", sa.String(2000), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("answered_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_pact_requests"),
        sa.ForeignKeyConstraint(
            ["principal"], ["principals.name"], name="fk_pact_requests_principal_principals"
        ),
        sa.UniqueConstraint(
            "principal", "event_key_hex", name="uq_pact_requests_principal_event_key_hex"
        ),
        sa.CheckConstraint(
            _in("state", ("pending", "fulfilled", "rejected")),
            name=op.f("ck_pact_requests_state"),
        ),
    )
    op.create_index("ix_pact_requests_state", "pact_requests", ["state"])
    op.create_table(
        "subscriptions",
        sa.Column("id", AutoId, autoincrement=True, nullable=False),
        sa.Column("principal", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("token_url", sa.String(2000), nullable=True),
        sa.Column("client_id", sa.String(200), nullable=True),
        sa.Column("client_secret", sa.String(500), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("disabled_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_subscriptions"),
        sa.ForeignKeyConstraint(
            ["principal"], ["principals.name"], name="fk_subscriptions_principal_principals"
        ),
        sa.CheckConstraint(_in("kind", ("webhook", "pact")), name=op.f("ck_subscriptions_kind")),
    )
    op.create_index("ix_subscriptions_principal", "subscriptions", ["principal"])
    op.create_table(
        "outbox_events",
        sa.Column("id", AutoId, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("key", sa.String(300), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_outbox_events"),
        sa.UniqueConstraint("kind", "key", name="uq_outbox_events_kind_key"),
    )
    op.create_table(
        "deliveries",
        sa.Column("id", AutoId, autoincrement=True, nullable=False),
        sa.Column("subscription_id", AutoId, nullable=False),
        sa.Column("event_pk", AutoId, nullable=True),
        sa.Column("message_id", sa.String(64), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("delivered_at", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_deliveries"),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name="fk_deliveries_subscription_id_subscriptions",
        ),
        sa.ForeignKeyConstraint(
            ["event_pk"], ["outbox_events.id"], name="fk_deliveries_event_pk_outbox_events"
        ),
        sa.UniqueConstraint("message_id", name="uq_deliveries_message_id"),
        sa.CheckConstraint(
            _in("state", ("pending", "delivered", "abandoned")),
            name=op.f("ck_deliveries_state"),
        ),
    )
    op.create_index("ix_deliveries_subscription_id", "deliveries", ["subscription_id"])
    op.create_index(
        "ix_deliveries_state_next_attempt_at", "deliveries", ["state", "next_attempt_at"]
    )
    op.create_table(
        "claims",
        sa.Column("record_pk", AutoId, nullable=False),
        sa.Column("unit", sa.String(400), nullable=False),
        sa.Column("regime", sa.String(32), nullable=False),
        sa.Column("exclusivity_group", sa.String(32), nullable=False),
        sa.Column("claimed_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("record_pk", name="pk_claims"),
        sa.ForeignKeyConstraint(["record_pk"], ["records.id"], name="fk_claims_record_pk_records"),
        sa.UniqueConstraint("unit", "exclusivity_group", name="uq_claims_unit_exclusivity_group"),
    )
    op.create_index("ix_claims_unit", "claims", ["unit"])


def downgrade() -> None:
    for table in (
        "claims",
        "deliveries",
        "outbox_events",
        "subscriptions",
        "pact_requests",
        "pact_exclusions",
        "pact_footprint_keys",
        "pact_footprints",
    ):
        op.drop_table(table)
