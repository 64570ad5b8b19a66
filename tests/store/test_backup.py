"""Consistent copies of a live store (docs/OPERATIONS.md §9), on SQLite and PostgreSQL:
the copy opens at this version's schema, holds what was committed when it was taken, and
passes the integrity check; writers are not stopped meanwhile."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import pytest

from ledger.store import Store
from ledger.store.backup import restore_postgres, snapshot_store
from ledger.store.records import insert_pending_records
from tests.pgfixture import admin_execute, database_url
from tests.store.conftest import new_record


def _write(store: Store, key_id: str, first: int, count: int) -> None:
    for n in range(first, first + count):
        with store.transaction() as session:
            insert_pending_records(session, [new_record(key_id, n)])


def _records(url: str) -> int:
    store = Store.open(url, create=False)
    try:
        assert store.integrity_check() == []
        with store.transaction(readonly=True) as session:
            from ledger.store.records import count_by_status

            return sum(count_by_status(session).values())
    finally:
        store.close()


def test_a_snapshot_taken_while_writing_is_consistent(
    store: Store, key_id: str, backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    _write(store, key_id, 1, 20)
    writer = threading.Thread(target=_write, args=(store, key_id, 1000, 40))
    writer.start()
    try:
        target = tmp_path / ("copy.sqlite3" if backend == "sqlite" else "copy.pgdump")
        snapshot = snapshot_store(store, target)
    finally:
        writer.join()
    assert 20 <= snapshot.records <= 60
    assert snapshot.schema_revision is not None
    if backend == "sqlite":
        url = f"sqlite+pysqlite:///{target}"
    else:
        admin = request.getfixturevalue("pg_admin_url")
        name = f"restored_{uuid.uuid4().hex}"
        admin_execute(admin, f'CREATE DATABASE "{name}"')
        request.addfinalizer(
            lambda: admin_execute(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        )
        url = database_url(admin, name)
        restore_postgres(target, url)
    assert _records(url) == snapshot.records
    with pytest.raises(Exception, match="never overwrites"):
        snapshot_store(store, target)
