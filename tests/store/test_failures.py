"""Failures become answers, never half-written records:
SQLite contention waits (busy timeout) or answers UnavailableError; a full disk answers
UnavailableError; a killed PostgreSQL connection answers UnavailableError, and the next
transaction succeeds."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from ledger.core.errors import StorageError, UnavailableError
from ledger.store import ConstraintError, Store, sqlite_url
from ledger.store.models import Record
from ledger.store.producers import add_producer, add_producer_key
from ledger.store.records import find_record, insert_pending_records
from tests.pgfixture import admin_execute
from tests.store.conftest import PRODUCER, PUBLIC_KEY_HEX, T0, new_record

HOLD_S = 2.0
# Another process takes the write lock (BEGIN IMMEDIATE), says so, holds it, commits.
HOLDER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
conn.execute(
    "INSERT INTO alerts (raised_at, kind, message) VALUES ('2026-03-01 12:00:00', 'x', 'held')"
)
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("COMMIT")
"""


def _register_key(store: Store) -> str:
    with store.transaction() as session:
        add_producer(session, PRODUCER, created_at=T0)
        return add_producer_key(
            session,
            producer=PRODUCER,
            public_key_hex=PUBLIC_KEY_HEX,
            valid_from=T0,
            record_types=(),
        ).key_id


def _count(store: Store) -> int:
    with store.transaction(readonly=True) as session:
        return int(session.scalar(select(func.count()).select_from(Record)) or 0)


@pytest.fixture
def lock_holder(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    path = tmp_path / "data" / "ledger.sqlite3"
    Store.open(sqlite_url(tmp_path / "data")).close()
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path), str(HOLD_S)], stdout=subprocess.PIPE, text=True
    )
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait(timeout=10)


def _wait_locked(proc: subprocess.Popen[str]) -> float:
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "locked"
    return time.monotonic()


@pytest.mark.slow
def test_sqlite_write_waits_for_another_writer(
    tmp_path: Path, lock_holder: subprocess.Popen[str]
) -> None:
    store = Store.open(sqlite_url(tmp_path / "data"), busy_timeout_s=10)
    try:
        locked_at = _wait_locked(lock_holder)
        key_id = _register_key(store)
        waited_s = time.monotonic() - locked_at
        with store.transaction() as session:
            insert_pending_records(session, [new_record(key_id, 1)])
        assert waited_s >= HOLD_S * 0.7
        assert lock_holder.wait(timeout=10) == 0
        assert _count(store) == 1
    finally:
        store.close()


@pytest.mark.slow
def test_sqlite_busy_beyond_timeout_is_unavailable_then_retried(
    tmp_path: Path, lock_holder: subprocess.Popen[str]
) -> None:
    store = Store.open(sqlite_url(tmp_path / "data"), busy_timeout_s=0.3, retry_attempts=12)
    try:
        _wait_locked(lock_holder)
        with pytest.raises(UnavailableError) as raised:
            _register_key(store)
        assert raised.value.retry_after_s is not None
        # store.run retries the whole transaction with backoff until the writer is done.
        key_id = store.run(
            lambda s: (
                add_producer_key(
                    s,
                    producer=add_producer(s, PRODUCER, created_at=T0).producer,
                    public_key_hex=PUBLIC_KEY_HEX,
                    valid_from=T0,
                    record_types=(),
                ).key_id
            )
        )
        store.run(lambda s: insert_pending_records(s, [new_record(key_id, 1)]))
        assert _count(store) == 1
    finally:
        store.close()


def test_sqlite_full_disk_is_unavailable_and_stores_nothing(tmp_path: Path) -> None:
    # SQLITE_FULL provoked through max_page_count (sqlite.org/pragma.html#pragma_max_page_count):
    # the same error path as a full filesystem, without filling one.
    store = Store.open(sqlite_url(tmp_path))
    try:
        key_id = _register_key(store)
        big = [replace(new_record(key_id, n), full_view=bytes(200_000)) for n in range(1, 4)]
        with pytest.raises(UnavailableError, match="full"), store.transaction() as session:
            pages = session.execute(text("PRAGMA page_count")).scalar_one()
            session.execute(text(f"PRAGMA max_page_count = {int(pages) + 5}"))
            insert_pending_records(session, big)
        assert _count(store) == 0
    finally:
        store.close()


@pytest.mark.postgres
def test_postgres_killed_connection_is_unavailable_then_recovers(pg_database_url: str) -> None:
    admin_url = pg_database_url.rsplit("/", 1)[0] + "/postgres"
    store = Store.open(pg_database_url)
    try:
        key_id = _register_key(store)
        with pytest.raises(UnavailableError), store.transaction() as session:
            insert_pending_records(session, [new_record(key_id, 1)])
            pid = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
            admin_execute(admin_url, f"SELECT pg_terminate_backend({int(pid)})")
            insert_pending_records(session, [new_record(key_id, 2)])
        with store.transaction(readonly=True) as session:
            assert find_record(session, "rec-0001") is None
            assert find_record(session, "rec-0002") is None
        store.run(lambda s: insert_pending_records(s, [new_record(key_id, 3)]))
        assert _count(store) == 1
    finally:
        store.close()


@pytest.mark.postgres
def test_postgres_connection_lost_between_transactions_is_retried(pg_database_url: str) -> None:
    admin_url = pg_database_url.rsplit("/", 1)[0] + "/postgres"
    store = Store.open(pg_database_url)
    try:
        key_id = _register_key(store)
        name = pg_database_url.rsplit("/", 1)[1]
        # Every pooled connection of the store dies while idle.
        admin_execute(
            admin_url,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{name}' AND pid <> pg_backend_pid()",
        )
        store.run(lambda s: insert_pending_records(s, [new_record(key_id, 1)]))
        assert _count(store) == 1
    finally:
        store.close()


def test_unreachable_postgres_is_unavailable() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # Nothing listens on the port once the socket is closed.
    with pytest.raises(UnavailableError):
        Store.open(f"postgresql+psycopg://nobody@127.0.0.1:{port}/ledger", busy_timeout_s=1)


@pytest.mark.postgres
def test_missing_postgres_database_is_a_storage_error(pg_admin_url: str) -> None:
    # A configuration mistake, not an outage: no point retrying.
    missing = pg_admin_url.rsplit("/", 1)[0] + "/no_such_database"
    with pytest.raises(StorageError, match="does not exist"):
        Store.open(missing)


KILLED_WRITER = """
import sys, time
from ledger.store import Store
from ledger.store.records import insert_pending_records
from tests.store.conftest import new_record
store = Store.open(sys.argv[1])
with store.transaction() as session:
    insert_pending_records(session, [new_record(sys.argv[2], 1)])
print("committed", flush=True)
with store.transaction() as session:
    insert_pending_records(session, [new_record(sys.argv[2], n) for n in range(2, 50)])
    session.flush()
    print("uncommitted", flush=True)
    time.sleep(60)
"""


def test_killed_writer_leaves_committed_records_only(store_url: str, key_id: str) -> None:
    """SIGKILL mid-transaction: the acknowledged (committed) record is there, the open
    transaction left nothing, and the database checks clean."""
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, store_url, key_id],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "committed"
        assert proc.stdout.readline().strip() == "uncommitted"
    finally:
        proc.kill()
        proc.wait(timeout=10)
    store = Store.open(store_url, create=False)
    try:
        with store.transaction(readonly=True) as session:
            assert find_record(session, "rec-0001") is not None
            assert find_record(session, "rec-0002") is None
        assert _count(store) == 1
        assert store.integrity_check() == []
        store.run(lambda s: insert_pending_records(s, [new_record(key_id, 2)]))
    finally:
        store.close()


# The lower bound below proves the writer waited for the lock (it cannot be shorter unless
# the busy timeout was ignored); "no longer than its timeout" is this hang guard.
@pytest.mark.timeout(60)
def test_write_blocked_beyond_timeout_is_unavailable(
    store_url: str, store: Store, key_id: str
) -> None:
    """Two writers of the same record id: the second waits for the first's lock (SQLite:
    the database write lock; PostgreSQL: the unique index entry) no longer than its timeout,
    then answers UnavailableError; after the first commits, it gets the conflict."""
    impatient = Store.open(store_url, busy_timeout_s=0.5)
    try:
        with store.transaction() as session:
            insert_pending_records(session, [new_record(key_id, 1)])
            started = time.monotonic()
            with pytest.raises(UnavailableError), impatient.transaction() as other:
                insert_pending_records(other, [new_record(key_id, 1)])
            assert time.monotonic() - started >= 0.4
        with pytest.raises(ConstraintError), impatient.transaction() as other:
            insert_pending_records(other, [new_record(key_id, 1)])
    finally:
        impatient.close()
