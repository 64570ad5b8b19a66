"""Migration 0003 (``batches.manifest_published_at``) on a store that already holds data."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from sqlalchemy import create_engine, insert, inspect
from sqlalchemy.engine import make_url

from ledger.store import Store
from ledger.store import batches as batch_repo
from ledger.store.migrate import alembic_config, current_revision, head_revision
from ledger.store.models import Batch

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def test_upgrade_from_0002_keeps_batches_and_leaves_them_unpublished(store_url: str) -> None:
    database = make_url(store_url).database
    if make_url(store_url).get_backend_name() == "sqlite" and database:
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(store_url)
    try:
        with engine.connect() as conn:
            command.upgrade(alembic_config(conn), "0002")
            conn.commit()
            assert current_revision(conn) == "0002"
            columns = {c["name"] for c in inspect(conn).get_columns("batches")}
            assert "manifest_published_at" not in columns
            # Only the columns 0002 knows: the insert names them explicitly.
            conn.execute(
                insert(Batch).values(
                    seq=1,
                    root_hex="11" * 32,
                    leaf_count=1,
                    manifest=b'{"format":"x"}',
                    manifest_digest_hex="22" * 32,
                    manifest_cid="bafkreiexample",
                    created_at=T0,
                    state="anchored",
                    anchored_at=T0,
                    tx_hash="0x" + "33" * 32,
                )
            )
            conn.commit()
    finally:
        engine.dispose()
    store = Store.open(store_url)  # migrates to head
    try:
        with store.engine.connect() as conn:
            assert current_revision(conn) == head_revision()
        with store.transaction() as session:
            batch = batch_repo.get_batch(session, 1)
            assert (batch.state, batch.root_hex, batch.manifest) == (
                "anchored",
                "11" * 32,
                b'{"format":"x"}',
            )
            assert batch.manifest_published_at is None
            assert batch_repo.count_unpublished(session) == 1
            assert [b.seq for b in batch_repo.unpublished_batches(session, limit=10)] == [1]
            assert batch_repo.mark_published(session, 1, at=T0) is True
            assert batch_repo.mark_published(session, 1, at=T0) is False
        with store.transaction(readonly=True) as session:
            assert batch_repo.get_batch(session, 1).manifest_published_at == T0
            assert batch_repo.count_unpublished(session) == 0
    finally:
        store.close()


def test_downgrade_to_0002_drops_the_column_and_keeps_rows(store_url: str) -> None:
    store = Store.open(store_url)
    store.close()
    engine = create_engine(store_url)
    try:
        with engine.connect() as conn:
            conn.execute(
                insert(Batch).values(
                    seq=1,
                    root_hex="11" * 32,
                    leaf_count=1,
                    manifest=b"{}",
                    manifest_digest_hex="22" * 32,
                    manifest_cid="bafkreiexample",
                    created_at=T0,
                    state="sealed",
                    manifest_published_at=T0,
                )
            )
            conn.commit()
            command.downgrade(alembic_config(conn), "0002")
            conn.commit()
            columns = {c["name"] for c in inspect(conn).get_columns("batches")}
            assert "manifest_published_at" not in columns
            assert conn.exec_driver_sql("SELECT seq FROM batches").scalars().all() == [1]
    finally:
        engine.dispose()
