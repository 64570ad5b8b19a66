"""Durability drift: the store refuses to open with settings
under which an acknowledged record could be lost, and says which setting and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from ledger.core.errors import StorageError
from ledger.store import Store, sqlite_url
from ledger.store.records import insert_pending_records
from tests.pgfixture import admin_execute
from tests.store.conftest import new_record


def test_sqlite_url_is_in_the_data_directory(tmp_path: Path) -> None:
    assert sqlite_url(tmp_path) == f"sqlite+pysqlite:///{tmp_path}/ledger.sqlite3"


def test_sqlite_connection_settings(tmp_path: Path) -> None:
    store = Store.open(sqlite_url(tmp_path), busy_timeout_s=2.5)
    try:
        with store.engine.connect() as conn:
            pragma = {
                name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "synchronous", "busy_timeout", "foreign_keys")
            }
        assert pragma == {
            "journal_mode": "wal",
            "synchronous": 2,
            "busy_timeout": 2500,
            "foreign_keys": 1,
        }
    finally:
        store.close()


@pytest.mark.parametrize(
    ("pragmas", "setting", "fix"),
    [
        ({"synchronous": "NORMAL"}, "synchronous is NORMAL", "synchronous=FULL"),
        ({"synchronous": "OFF"}, "synchronous is OFF", "synchronous=FULL"),
        ({"journal_mode": "DELETE"}, "journal_mode is DELETE", "journal_mode=WAL"),
        ({"foreign_keys": "OFF"}, "foreign_keys is OFF", "foreign_keys=ON"),
    ],
)
def test_sqlite_refuses_weaker_settings(
    tmp_path: Path, pragmas: dict[str, str], setting: str, fix: str
) -> None:
    # First a healthy store, so the refusal is about drift on an existing database.
    Store.open(sqlite_url(tmp_path)).close()
    with pytest.raises(StorageError) as raised:
        Store.open(sqlite_url(tmp_path), sqlite_pragmas=pragmas)
    assert setting in str(raised.value)
    assert fix in str(raised.value)


def test_sqlite_in_memory_is_refused() -> None:
    with pytest.raises(StorageError, match="journal_mode is MEMORY"):
        Store.open("sqlite://")


def test_sqlite_extra_is_accepted(tmp_path: Path) -> None:
    Store.open(sqlite_url(tmp_path), sqlite_pragmas={"synchronous": "EXTRA"}).close()


@pytest.mark.postgres
def test_postgres_refuses_synchronous_commit_off(pg_database_url: str) -> None:
    name = pg_database_url.rsplit("/", 1)[1]
    admin_url = pg_database_url.rsplit("/", 1)[0] + "/postgres"
    admin_execute(admin_url, f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    with pytest.raises(StorageError) as raised:
        Store.open(pg_database_url)
    assert "synchronous_commit is off" in str(raised.value)
    assert "synchronous_commit = on" in str(raised.value)


@pytest.mark.postgres
def test_postgres_checks_every_new_connection(pg_database_url: str) -> None:
    """Drift after opening: a pooled connection made later is checked too."""
    store = Store.open(pg_database_url)
    try:
        with store.transaction() as session:
            assert session.execute(text("SHOW synchronous_commit")).scalar() == "on"
        name = pg_database_url.rsplit("/", 1)[1]
        admin_url = pg_database_url.rsplit("/", 1)[0] + "/postgres"
        admin_execute(admin_url, f'ALTER DATABASE "{name}" SET synchronous_commit = off')
        store.engine.dispose()
        with pytest.raises(StorageError, match="synchronous_commit"), store.transaction() as s:
            insert_pending_records(s, [new_record("00" * 32, 1)])
    finally:
        store.close()
