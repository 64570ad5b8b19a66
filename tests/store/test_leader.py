"""The leader lock: one anchorer at a time (semantics in ledger/store/leader.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.core.clock import ManualClock
from ledger.core.errors import MalformedError
from ledger.store import Store, sqlite_url
from tests.pgfixture import admin_execute
from tests.store.conftest import T0

LOCK = "anchorer"


def test_two_holders_one_wins(store: Store) -> None:
    assert store.acquire_leader(LOCK, "node-a", lease_s=30)
    assert not store.acquire_leader(LOCK, "node-b", lease_s=30)
    # Acquiring again as the holder is a renewal, not a second lock.
    assert store.acquire_leader(LOCK, "node-a", lease_s=30)
    assert store.renew_leader(LOCK, "node-a", lease_s=30)
    assert not store.renew_leader(LOCK, "node-b", lease_s=30)
    # Other lock names are independent.
    assert store.acquire_leader("revoker", "node-b", lease_s=30)


def test_release_hands_over(store: Store) -> None:
    assert store.acquire_leader(LOCK, "node-a", lease_s=30)
    store.release_leader(LOCK, "node-b")  # not the holder: no effect
    assert not store.acquire_leader(LOCK, "node-b", lease_s=30)
    store.release_leader(LOCK, "node-a")
    assert store.acquire_leader(LOCK, "node-b", lease_s=30)
    assert not store.renew_leader(LOCK, "node-a", lease_s=30)


def test_two_stores_compete(store_url: str, store: Store, clock: ManualClock) -> None:
    other = Store.open(store_url, clock=clock)
    try:
        assert other.acquire_leader(LOCK, "node-b", lease_s=30)
        assert not store.acquire_leader(LOCK, "node-a", lease_s=30)
    finally:
        other.close()  # closing gives the lock up
    assert store.acquire_leader(LOCK, "node-a", lease_s=30)


def test_lease_expiry_on_sqlite(tmp_path: Path) -> None:
    """SQLite: the lease ends by the clock unless renewed (PostgreSQL has no lease)."""
    clock = ManualClock(T0)
    store = Store.open(sqlite_url(tmp_path), clock=clock)
    try:
        _lease_expiry(store, clock)
    finally:
        store.close()


def _lease_expiry(store: Store, clock: ManualClock) -> None:
    assert store.acquire_leader(LOCK, "node-a", lease_s=10)
    clock.advance(9)
    assert not store.acquire_leader(LOCK, "node-b", lease_s=10)
    assert store.renew_leader(LOCK, "node-a", lease_s=10)  # now until t0 + 19 s
    clock.advance(9)
    assert not store.acquire_leader(LOCK, "node-b", lease_s=10)
    clock.advance(1)  # t0 + 19 s: expired
    assert not store.renew_leader(LOCK, "node-a", lease_s=10)
    assert store.acquire_leader(LOCK, "node-b", lease_s=10)
    assert not store.acquire_leader(LOCK, "node-a", lease_s=10)


@pytest.mark.postgres
def test_lock_follows_connection_on_postgres(pg_database_url: str, pg_admin_url: str) -> None:
    """PostgreSQL: the advisory lock lives as long as the holder's connection."""
    store = Store.open(pg_database_url)
    try:
        _lock_follows_connection(store, pg_admin_url)
    finally:
        store.close()


def _lock_follows_connection(store: Store, pg_admin_url: str) -> None:
    assert store.acquire_leader(LOCK, "node-a", lease_s=30)
    # The leader's process dies: its connection goes, and the server frees the lock.
    conn = store._leader_connections[(LOCK, "node-a")]
    pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
    admin_execute(pg_admin_url, f"SELECT pg_terminate_backend({int(pid)})")
    assert not store.renew_leader(LOCK, "node-a", lease_s=30)
    assert store.acquire_leader(LOCK, "node-b", lease_s=30)


def test_bad_arguments(store: Store) -> None:
    with pytest.raises(MalformedError):
        store.acquire_leader(LOCK, "", lease_s=30)
    with pytest.raises(MalformedError):
        store.acquire_leader(LOCK, "node-a", lease_s=0)
