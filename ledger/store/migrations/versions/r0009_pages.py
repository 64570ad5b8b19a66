"""Pages: the directory the pages and the registry read (ledger/store/directory.py), the
access requests and grants of authorised readers and their access log
(ledger/store/grants.py), and the new roles.

- ``enterprises``, ``enterprise_prefixes``, ``equipment``, ``equipment_identifiers``,
  ``record_facets``, ``document_hashes``: indexes over the records, written with them.
  A store that already holds records gets them empty and ``directory_state.complete``
  false: the service rebuilds them from the stored records on first use
  (``ledger.service.directory.rebuild_indexes``); a fresh store starts complete.
- ``access_requests`` and ``access_log``: authorised readers' requests and grants, and
  every read of a non-public view; principals may be ``enterprise``, ``bidder`` or
  ``financial-institution`` (the role column widens to 32 characters).
- indexes for searches and counts: ``records (type, id)``, ``batches.root_hex``,
  ``batches.tx_hash``.

Revision ID: 0009_pages
Revises: 0006_chain_state
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Importing the models puts these tables on Base.metadata (see r0002).
import ledger.store.directory
import ledger.store.grants  # noqa: F401
from ledger.store.models import AutoId
from ledger.store.types import UTCDateTime

revision: str = "0009_pages"
down_revision: str | None = "0008_exchange"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _directory() -> None:
    op.create_table(
        "enterprises",
        sa.Column("enterprise_id", sa.String(400), nullable=False),
        sa.Column("name", sa.String(400), nullable=True),
        sa.Column("name_en", sa.String(400), nullable=True),
        sa.Column("name_zh", sa.String(400), nullable=True),
        sa.Column("region", sa.String(16), nullable=True),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("sort_key", sa.String(400), nullable=False),
        sa.Column("grade", sa.String(4), nullable=True),
        sa.Column("rating_pk", sa.BigInteger(), nullable=True),
        sa.Column("rated_at", UTCDateTime(), nullable=True),
        sa.Column("warning_pk", sa.BigInteger(), nullable=True),
        sa.Column("warning_since", UTCDateTime(), nullable=True),
        sa.Column("warning_deadline", sa.Date(), nullable=True),
        sa.Column("rectified_pk", sa.BigInteger(), nullable=True),
        sa.Column("rectified_at", UTCDateTime(), nullable=True),
        sa.Column("registered_at", UTCDateTime(), nullable=True),
        sa.Column("registered_by", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("enterprise_id", name="pk_enterprises"),
    )
    op.create_index("ix_enterprises_region", "enterprises", ["region"])
    op.create_index("ix_enterprises_grade", "enterprises", ["grade"])
    op.create_index("ix_enterprises_warning_deadline", "enterprises", ["warning_deadline"])
    op.create_index("ix_enterprises_sort_key", "enterprises", ["sort_key", "enterprise_id"])
    op.create_table(
        "enterprise_prefixes",
        sa.Column("prefix", sa.String(256), nullable=False),
        sa.Column("enterprise_id", sa.String(400), nullable=False),
        sa.PrimaryKeyConstraint("prefix", name="pk_enterprise_prefixes"),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprises.enterprise_id"],
            name="fk_enterprise_prefixes_enterprise_id_enterprises",
        ),
    )
    op.create_index(
        "ix_enterprise_prefixes_enterprise_id", "enterprise_prefixes", ["enterprise_id"]
    )
    op.create_table(
        "equipment",
        sa.Column("subject", sa.String(400), nullable=False),
        sa.Column("name", sa.String(400), nullable=True),
        sa.Column("enterprise_id", sa.String(400), nullable=True),
        sa.Column("handle_prefix", sa.String(256), nullable=True),
        sa.Column("cn_code", sa.String(16), nullable=True),
        sa.Column("carbon_pk", sa.BigInteger(), nullable=True),
        sa.Column("total", sa.String(64), nullable=True),
        sa.Column("unit", sa.String(16), nullable=True),
        sa.Column("risk_level", sa.String(16), nullable=True),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("last_pk", sa.BigInteger(), nullable=False),
        sa.Column("last_issued_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("subject", name="pk_equipment"),
    )
    op.create_index("ix_equipment_handle_prefix", "equipment", ["handle_prefix"])
    op.create_index("ix_equipment_risk_level", "equipment", ["risk_level"])
    op.create_index("ix_equipment_enterprise_id_subject", "equipment", ["enterprise_id", "subject"])
    op.create_table(
        "equipment_identifiers",
        sa.Column("scheme", sa.String(16), nullable=False),
        sa.Column("value", sa.String(256), nullable=False),
        sa.Column("folded", sa.String(256), nullable=False),
        sa.Column("subject", sa.String(400), nullable=False),
        sa.PrimaryKeyConstraint("scheme", "value", name="pk_equipment_identifiers"),
    )
    op.create_index("ix_equipment_identifiers_folded", "equipment_identifiers", ["folded"])
    op.create_index("ix_equipment_identifiers_subject", "equipment_identifiers", ["subject"])
    op.create_table(
        "record_facets",
        sa.Column("record_pk", AutoId, nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(400), nullable=False),
        sa.Column("issued_at", UTCDateTime(), nullable=False),
        sa.Column("region", sa.String(32), nullable=True),
        sa.Column("level", sa.String(16), nullable=True),
        sa.Column("grade", sa.String(4), nullable=True),
        sa.Column("previous_grade", sa.String(4), nullable=True),
        sa.Column("figure", sa.String(64), nullable=True),
        sa.Column("unit", sa.String(16), nullable=True),
        sa.Column("source_id", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("record_pk", name="pk_record_facets"),
        sa.ForeignKeyConstraint(
            ["record_pk"], ["records.id"], name="fk_record_facets_record_pk_records"
        ),
    )
    op.create_index(
        "ix_record_facets_type_subject_record_pk",
        "record_facets",
        ["type", "subject", "record_pk"],
    )
    op.create_index(
        "ix_record_facets_type_region_subject", "record_facets", ["type", "region", "subject"]
    )
    op.create_table(
        "document_hashes",
        sa.Column("sha256_hex", sa.String(64), nullable=False),
        sa.Column("record_pk", AutoId, nullable=False),
        sa.PrimaryKeyConstraint("sha256_hex", "record_pk", name="pk_document_hashes"),
        sa.ForeignKeyConstraint(
            ["record_pk"], ["records.id"], name="fk_document_hashes_record_pk_records"
        ),
    )
    state = op.create_table(
        "directory_state",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("name", name="pk_directory_state"),
    )
    has_records = op.get_bind().execute(sa.text("SELECT 1 FROM records LIMIT 1")).first()
    op.bulk_insert(state, [{"name": "records", "complete": has_records is None}])


OLD_ROLES = "role IN ('producer', 'auditor', 'regulator', 'admin')"
NEW_ROLES = (
    "role IN ('producer', 'auditor', 'regulator', 'admin', 'enterprise', 'bidder', "
    "'financial-institution')"
)


def _access() -> None:
    with op.batch_alter_table("principals") as batch:
        batch.drop_constraint(op.f("ck_principals_role"), type_="check")
        batch.alter_column("role", existing_type=sa.String(16), type_=sa.String(32))
        batch.create_check_constraint(op.f("ck_principals_role"), NEW_ROLES)
    op.create_table(
        "access_requests",
        sa.Column("request_id", sa.String(16), nullable=False),
        sa.Column("requester", sa.String(200), nullable=False),
        sa.Column("requester_role", sa.String(32), nullable=False),
        sa.Column("enterprise_id", sa.String(400), nullable=False),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("requested_at", UTCDateTime(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("decided_by", sa.String(200), nullable=True),
        sa.Column("decided_as", sa.String(32), nullable=True),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("valid_until", UTCDateTime(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("ended_by", sa.String(200), nullable=True),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("request_id", name="pk_access_requests"),
        sa.ForeignKeyConstraint(
            ["requester"], ["principals.name"], name="fk_access_requests_requester_principals"
        ),
        sa.CheckConstraint(
            "state IN ('pending', 'approved', 'refused', 'revoked', 'withdrawn')",
            name=op.f("ck_access_requests_state"),
        ),
        sa.CheckConstraint(
            "scope IN ('ratings', 'carbon', 'all')", name=op.f("ck_access_requests_scope")
        ),
        sa.CheckConstraint("days >= 1 AND days <= 366", name=op.f("ck_access_requests_days")),
    )
    op.create_index("ix_access_requests_requester", "access_requests", ["requester"])
    op.create_index("ix_access_requests_enterprise_id", "access_requests", ["enterprise_id"])
    op.create_table(
        "access_log",
        sa.Column("id", AutoId, autoincrement=True, nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("principal", sa.String(200), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("target", sa.String(500), nullable=False),
        sa.Column("subject", sa.String(400), nullable=False),
        sa.Column("enterprise_id", sa.String(400), nullable=True),
        sa.Column("basis", sa.String(32), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_access_log"),
    )
    op.create_index("ix_access_log_principal", "access_log", ["principal"])
    op.create_index("ix_access_log_enterprise_id", "access_log", ["enterprise_id"])


def upgrade() -> None:
    _directory()
    _access()
    op.create_index("ix_records_type_id", "records", ["type", "id"])
    op.create_index("ix_batches_root_hex", "batches", ["root_hex"])
    op.create_index("ix_batches_tx_hash", "batches", ["tx_hash"])


def downgrade() -> None:
    op.drop_table("access_log")
    op.drop_table("access_requests")
    with op.batch_alter_table("principals") as batch:
        batch.drop_constraint(op.f("ck_principals_role"), type_="check")
        batch.alter_column("role", existing_type=sa.String(32), type_=sa.String(16))
        batch.create_check_constraint(op.f("ck_principals_role"), OLD_ROLES)
    op.drop_index("ix_batches_tx_hash", "batches")
    op.drop_index("ix_batches_root_hex", "batches")
    op.drop_index("ix_records_type_id", "records")
    for table in (
        "directory_state",
        "document_hashes",
        "record_facets",
        "equipment_identifiers",
        "equipment",
        "enterprise_prefixes",
        "enterprises",
    ):
        op.drop_table(table)
