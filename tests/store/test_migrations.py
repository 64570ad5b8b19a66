"""Migrations from an empty database, and the schema they build matching the models."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from ledger.core.errors import MalformedError, StorageError
from ledger.store import Store
from ledger.store.migrate import head_revision
from ledger.store.models import Base
from ledger.store.producers import add_producer, get_producer_key
from ledger.store.records import get_record, insert_pending_records
from tests.store.conftest import new_record

# Every store here migrates its own empty database (not a copy of the migrated template).
pytestmark = pytest.mark.empty_database

TABLES = {
    "producers",
    "producer_keys",
    "records",
    "record_refs",
    "batches",
    "batch_leaves",
    "anchor_txs",
    "revocations",
    "attestations",
    "alerts",
    "leader_leases",
    "alembic_version",
}


def test_migrates_empty_database_to_head(store: Store) -> None:
    with store.engine.connect() as conn:
        # Later migrations add tables of their own (r0002: API access).
        assert set(inspect(conn).get_table_names()) >= TABLES
        assert MigrationContext.configure(conn).get_current_revision() == head_revision()


def test_migrated_schema_matches_models(store: Store) -> None:
    # Alembic's autogenerate diff between the migrated database and the models: empty
    # means the hand-written migration and ledger/store/models.py agree.
    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_reopen_is_idempotent_and_keeps_data(store_url: str, key_id: str, store: Store) -> None:
    with store.transaction() as session:
        insert_pending_records(session, [new_record(key_id, 1)])
    store.close()
    again = Store.open(store_url, create=False)
    try:
        with again.transaction(readonly=True) as session:
            assert get_record(session, "rec-0001").status == "pending"
        assert again.integrity_check() == []
    finally:
        again.close()


def test_open_without_create_refuses_an_unmigrated_database(store_url: str) -> None:
    # SQLite: no file yet; PostgreSQL: an empty database. Neither is silently created.
    with pytest.raises(StorageError, match="create=True"):
        Store.open(store_url, create=False)


def test_integrity_check_of_healthy_database_is_empty(store: Store) -> None:
    assert store.integrity_check() == []


def test_timestamps_come_back_aware_utc(store: Store, key_id: str) -> None:
    plus_eight = timezone(timedelta(hours=8))
    created = datetime(2026, 3, 1, 20, 30, 15, 123456, tzinfo=plus_eight)
    with store.transaction() as session:
        add_producer(session, "svc-bim", created_at=created)
    with store.transaction(readonly=True) as session:
        from ledger.store.models import Producer

        producer = session.get(Producer, "svc-bim")
        assert producer is not None
        assert producer.created_at.tzinfo is UTC
        assert producer.created_at == datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)
        assert get_producer_key(session, key_id).valid_from.tzinfo is UTC


def test_naive_timestamp_is_refused(store: Store) -> None:
    with pytest.raises(MalformedError, match="naive"), store.transaction() as session:
        add_producer(session, "svc-naive", created_at=datetime(2026, 3, 1, 12, 0))


def test_unsupported_url_is_malformed() -> None:
    with pytest.raises(MalformedError, match=r"store\.url"):
        Store.open("mysql://root@127.0.0.1/ledger")
