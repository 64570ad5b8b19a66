"""A consistent copy of the store while the service runs (docs/OPERATIONS.md §9).

- SQLite: ``VACUUM INTO`` (sqlite.org/lang_vacuum.html#vacuuminto) in one read
  transaction: the copy is the database as of one moment, WAL included, compacted, and
  writers go on meanwhile (WAL readers never block them);
- PostgreSQL: ``pg_dump --format=custom`` from a snapshot this process exports (so the
  counts it reports are those of the dump), restored with ``pg_restore`` into an empty
  database; when the client programs are not installed, ``BackupToolMissingError`` says so.
"""

from __future__ import annotations

import glob
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from ledger.core.errors import LedgerError, StorageError
from ledger.store.engine import Store
from ledger.store.migrate import current_revision
from ledger.store.models import Batch, Record

__all__ = [
    "BackupToolMissingError",
    "StoreSnapshot",
    "pg_tool",
    "restore_postgres",
    "snapshot_store",
]


class BackupToolMissingError(LedgerError):
    """``pg_dump`` or ``pg_restore`` is not installed."""


@dataclass(frozen=True)
class StoreSnapshot:
    kind: str  # "sqlite" or "postgresql"
    file: Path
    schema_revision: str | None
    records: int
    batches: int


def pg_tool(name: str) -> str:
    """The path of a PostgreSQL client program: on PATH, else Debian's versioned bin."""
    found = shutil.which(name)
    if found is None:
        candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
        found = candidates[0] if candidates else None
    if found is None:
        raise BackupToolMissingError(
            f"{name} is not installed: install the PostgreSQL client programs (the server's "
            "major version), or back the database up with the tools of its host"
        )
    return found


def _counts(store: Store) -> tuple[str | None, int, int]:
    with store.engine.connect() as conn:
        revision = current_revision(conn)
        records = int(conn.execute(select(func.count()).select_from(Record)).scalar_one())
        batches = int(conn.execute(select(func.count()).select_from(Batch)).scalar_one())
    return revision, records, batches


def snapshot_store(store: Store, target: Path) -> StoreSnapshot:
    """Write a consistent copy of ``store`` to ``target`` (which must not exist)."""
    if target.exists():
        raise StorageError(f"{target} exists already: a backup never overwrites")
    if store.dialect == "sqlite":
        database = store.engine.url.database or ""
        # A connection of its own (not the pool's): VACUUM cannot run in a transaction.
        source = sqlite3.connect(f"file:{database}?mode=ro", uri=True, isolation_level=None)
        try:
            source.execute("PRAGMA busy_timeout = 5000")
            source.execute("VACUUM INTO ?", (str(target),))
        except sqlite3.Error as exc:
            raise StorageError(f"the SQLite copy failed: {exc}") from exc
        finally:
            source.close()
        copy = Store.open(f"sqlite+pysqlite:///{target}", create=False)
        try:
            revision, records, batches = _counts(copy)
        finally:
            copy.close()
        os.chmod(target, 0o600)
        return StoreSnapshot("sqlite", target, revision, records, batches)
    url = store.engine.url.set(drivername="postgresql")
    # One snapshot for the counts and the dump: exported from a transaction held open
    # until pg_dump has started from it (postgresql.org/docs/current/functions-admin.html,
    # pg_export_snapshot; pg_dump --snapshot).
    with store.engine.connect() as conn:
        conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
        exported = str(conn.execute(text("SELECT pg_export_snapshot()")).scalar_one())
        revision = current_revision(conn)
        records = int(conn.execute(select(func.count()).select_from(Record)).scalar_one())
        batches = int(conn.execute(select(func.count()).select_from(Batch)).scalar_one())
        dump = [
            pg_tool("pg_dump"), "--format=custom", "--no-owner", f"--snapshot={exported}",
            "--file", str(target), "--dbname", url.render_as_string(hide_password=False),
        ]  # fmt: skip
        result = subprocess.run(dump, capture_output=True, text=True, check=False)
        conn.rollback()
    if result.returncode != 0:
        raise StorageError(f"pg_dump failed: {result.stderr.strip().splitlines()[-1:]}")
    os.chmod(target, 0o600)
    return StoreSnapshot("postgresql", target, revision, records, batches)


def restore_postgres(dump: Path, url: str) -> None:
    """``pg_restore`` of ``dump`` into the (empty) database at ``url``."""
    parsed = make_url(url).set(drivername="postgresql")
    engine = create_engine(make_url(url).set(drivername="postgresql+psycopg"))
    try:
        with engine.connect() as conn:
            tables = conn.execute(
                text("SELECT count(*) FROM information_schema.tables WHERE table_schema='public'")
            ).scalar_one()
    finally:
        engine.dispose()
    if tables:
        raise StorageError("the target database is not empty: restore into an empty one")
    command = [
        pg_tool("pg_restore"), "--no-owner", "--exit-on-error",
        "--dbname", parsed.render_as_string(hide_password=False), str(dump),
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise StorageError(f"pg_restore failed: {result.stderr.strip().splitlines()[-1:]}")
