"""Opening the store: engine, connection settings, durability checks, transactions.

A record is acknowledged only after its commit (docs/OPERATIONS.md §1), so a commit must survive a
power loss. The store therefore refuses to open with weaker settings rather than
quietly run with them:

- SQLite: every connection gets ``journal_mode=WAL``, ``synchronous=FULL`` (WAL + FULL
  syncs the WAL on each commit; WAL + NORMAL can lose the last commits on power loss,
  sqlite.org/pragma.html#pragma_synchronous), ``busy_timeout`` and ``foreign_keys=ON``, and
  the values are read back; anything weaker raises ``StorageError`` naming the setting.
- PostgreSQL: ``fsync``, ``full_page_writes`` must be on and ``synchronous_commit`` must not
  be ``off`` (postgresql.org/docs/current/wal-async-commit.html); checked on every new
  connection, since the latter can be set per database, role or session.

Write transactions on SQLite start with ``BEGIN IMMEDIATE``: the write lock is taken at the
start and waited for with the busy timeout, instead of a deferred transaction failing with
SQLITE_BUSY when it tries to upgrade its read lock mid-way. Before it, a writer takes its
turn at the store's write gate (``ledger.store.writegate``), shared by the threads and
processes (API workers) writing to one database file.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

from ledger.core.clock import Clock, system_clock
from ledger.core.errors import LedgerError, MalformedError, StorageError, UnavailableError
from ledger.store import leader
from ledger.store.errors import map_db_error
from ledger.store.integrity import lifecycle_problems
from ledger.store.migrate import check_at_head, schema_problems, upgrade_to_head
from ledger.store.models import Base
from ledger.store.writegate import WriteGate

T = TypeVar("T")
#: The handle of one transaction, as ``Store.transaction`` and ``Store.run`` give it: code
#: above the store only passes it on to the store's own functions.
Transaction = Session

DEFAULT_FILENAME = "ledger.sqlite3"
# synchronous: 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA (sqlite.org/pragma.html#pragma_synchronous).
_SYNCHRONOUS_LEVELS = {"OFF": 0, "NORMAL": 1, "FULL": 2, "EXTRA": 3}
_REQUIRED_PRAGMAS = {"journal_mode": "WAL", "synchronous": "FULL", "foreign_keys": "ON"}


def sqlite_url(data_dir: str | Path) -> str:
    """The default store URL: ``<data_dir>/ledger.sqlite3``."""
    return URL.create(
        "sqlite+pysqlite", database=str(Path(data_dir) / DEFAULT_FILENAME)
    ).render_as_string()


def _create_private(database: Path) -> None:
    """Create the SQLite file 0600 (its directory 0700) unless it exists. SQLite gives the
    ``-wal`` and ``-shm`` files the mode of the database file, so they are private too."""
    database.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    except OSError as exc:
        raise StorageError(f"cannot create the store at {database}: {exc.strerror}") from exc


def _parse_url(url: str) -> URL:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise MalformedError(f"not a database URL: {exc}", path="store.url") from exc
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise MalformedError(
            f"unsupported database {parsed.get_backend_name()!r}; use sqlite or postgresql",
            path="store.url",
        )
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() != "psycopg":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _check_sqlite(dbapi_connection: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        journal = str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).upper()
        sync = int(cursor.execute("PRAGMA synchronous").fetchone()[0])
        foreign = int(cursor.execute("PRAGMA foreign_keys").fetchone()[0])
    finally:
        cursor.close()
    if journal != "WAL":
        raise StorageError(
            f"SQLite journal_mode is {journal}, not WAL: refusing to open (a file database in "
            "a writable directory is needed; set journal_mode=WAL, not an in-memory database)"
        )
    if sync < _SYNCHRONOUS_LEVELS["FULL"]:
        names = {v: k for k, v in _SYNCHRONOUS_LEVELS.items()}
        raise StorageError(
            f"SQLite synchronous is {names.get(sync, sync)}, not FULL: acknowledged records "
            "could be lost on power loss; refusing to open (set synchronous=FULL)"
        )
    if foreign != 1:
        raise StorageError("SQLite foreign_keys is OFF: refusing to open (set foreign_keys=ON)")


def _check_postgres(dbapi_connection: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        values = {}
        for setting in ("fsync", "full_page_writes", "synchronous_commit"):
            cursor.execute(f"SHOW {setting}")
            values[setting] = str(cursor.fetchone()[0]).lower()
    finally:
        cursor.close()
    # A DBAPI connection outside autocommit has an open transaction after SHOW; end it so
    # the pool hands out a clean connection.
    dbapi_connection.rollback()
    if values["synchronous_commit"] == "off":
        raise StorageError(
            "PostgreSQL synchronous_commit is off: acknowledged records could be lost on a "
            "server crash; refusing to open (fix: ALTER DATABASE/ROLE ... RESET "
            "synchronous_commit, or ALTER SYSTEM SET synchronous_commit = on)"
        )
    for setting in ("fsync", "full_page_writes"):
        if values[setting] != "on":
            raise StorageError(
                f"PostgreSQL {setting} is {values[setting]}: refusing to open "
                f"(fix: ALTER SYSTEM SET {setting} = on, then reload)"
            )


class Store:
    """The durable store. Open it with :meth:`Store.open`; close it with :meth:`close`."""

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Clock,
        retry_attempts: int,
        write_gate: WriteGate | None = None,
    ) -> None:
        self.engine = engine
        #: SQLite files: writers queue here, not in SQLite's sleeping busy handler.
        self.write_gate = write_gate
        self.clock = clock
        self.retry_attempts = retry_attempts
        self._write = sessionmaker(bind=engine, expire_on_commit=False)
        self._read = sessionmaker(
            bind=engine.execution_options(carbonledger_readonly=True), expire_on_commit=False
        )
        self._leader_connections: dict[tuple[str, str], Any] = {}

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @classmethod
    def open(
        cls,
        url: str,
        *,
        create: bool = True,
        busy_timeout_s: float = 5.0,
        sqlite_pragmas: Mapping[str, str] | None = None,
        clock: Clock = system_clock,
        retry_attempts: int = 5,
    ) -> Store:
        """Opens (and with ``create``, migrates to head) the store at ``url``.

        ``busy_timeout_s`` bounds how long a statement waits for a lock held by another
        writer (SQLite ``busy_timeout``, PostgreSQL ``lock_timeout``) and for a PostgreSQL
        connection; beyond it the transaction answers ``UnavailableError``.
        ``sqlite_pragmas`` overrides the per-connection SQLite settings (``journal_mode``,
        ``synchronous``, ``foreign_keys``, ``busy_timeout``: operator settings); values
        weaker than WAL/FULL/foreign keys on are refused with ``StorageError``.
        Without ``create``, a database that is not at the latest migration is refused.
        """
        parsed = _parse_url(url)
        unknown = sorted(set(sqlite_pragmas or {}) - {*_REQUIRED_PRAGMAS, "busy_timeout"})
        if unknown:
            raise MalformedError(f"unsupported settings {unknown}", path="sqlite_pragmas")
        pragmas = {**_REQUIRED_PRAGMAS, "busy_timeout": str(int(busy_timeout_s * 1000))}
        pragmas.update({k.lower(): v for k, v in (sqlite_pragmas or {}).items()})
        gate = None
        if parsed.get_backend_name() == "sqlite":
            database = parsed.database or ""
            if database and database != ":memory:":
                if create:
                    _create_private(Path(database))
                elif not Path(database).exists():
                    raise StorageError(
                        f"no store at {database}: open it with create=True to make one"
                    )
            engine = create_engine(
                parsed,
                # Python's sqlite3 driver opens transactions itself; turn that off so the
                # "begin" listener below decides (SQLAlchemy docs, pysqlite serializable).
                connect_args={"isolation_level": None, "timeout": busy_timeout_s},
            )
            _install_sqlite_listeners(engine, pragmas)
            if database and database != ":memory:":
                gate = WriteGate(Path(database), timeout_s=busy_timeout_s)
        else:
            engine = create_engine(
                parsed,
                pool_pre_ping=True,
                connect_args={"connect_timeout": max(1, int(busy_timeout_s))},
            )
            _install_postgres_listener(engine, lock_timeout_ms=int(busy_timeout_s * 1000))
        store = cls(engine, clock=clock, retry_attempts=retry_attempts, write_gate=gate)
        try:
            with engine.connect():
                pass
            if create:
                upgrade_to_head(engine)
            else:
                check_at_head(engine)
        except BaseException as exc:
            engine.dispose()
            if isinstance(exc, LedgerError):
                raise
            cause = getattr(exc, "orig", None)
            if isinstance(cause, LedgerError):
                raise cause from exc
            if isinstance(exc, SQLAlchemyError | OSError):
                raise map_db_error(exc, Base.metadata) from exc
            raise
        return store

    @contextmanager
    def transaction(self, *, readonly: bool = False) -> Iterator[Session]:
        """A session in one transaction: committed on normal exit, rolled back on error.

        Database errors leave as ledger errors (``ConstraintError``, ``UnavailableError``,
        ``StorageError``); nothing of a failed transaction is stored.
        """
        if readonly or self.write_gate is None:
            with self._transaction(readonly=readonly) as session:
                yield session
            return
        with self.write_gate.held(), self._transaction(readonly=False) as session:
            yield session

    @contextmanager
    def _transaction(self, *, readonly: bool) -> Iterator[Session]:
        session = (self._read if readonly else self._write)()
        try:
            yield session
            session.commit()
        except BaseException as exc:
            try:
                session.rollback()
            except SQLAlchemyError:
                # The connection is gone; the server has already rolled back.
                session.invalidate()
            if isinstance(exc, SQLAlchemyError | OSError):
                raise map_db_error(exc, Base.metadata) from exc
            raise
        finally:
            session.close()

    def run(self, work: Callable[[Session], T], *, readonly: bool = False) -> T:
        """Runs ``work`` in a transaction, retrying the whole of it on transient errors.

        Backoff doubles from 50 ms; after ``retry_attempts`` tries the last
        ``UnavailableError`` is raised. ``work`` must not have effects outside the session,
        and must tolerate its own earlier success: a connection lost during COMMIT leaves
        the outcome unknown, so a retried insert may meet its own committed row as a
        ``ConstraintError`` (the accept path answers that by comparing digests).
        """
        delay_s = 0.05
        for attempt in range(1, self.retry_attempts + 1):
            try:
                with self.transaction(readonly=readonly) as session:
                    return work(session)
            except UnavailableError:
                if attempt == self.retry_attempts:
                    raise
                time.sleep(delay_s)
                delay_s = min(delay_s * 2, 2.0)
        raise AssertionError("unreachable")

    def integrity_check(self) -> list[str]:
        """Problems found in the database and across its rows; ``[]`` when healthy.

        SQLite: ``PRAGMA integrity_check`` and ``foreign_key_check``; PostgreSQL: the
        catalogue answers and no index is invalid. Both: the schema is at the latest
        revision and the lifecycle invariants of ``ledger.store.integrity`` hold.
        """
        problems: list[str] = []
        try:
            with self.engine.execution_options(carbonledger_readonly=True).connect() as conn:
                if self.dialect == "sqlite":
                    rows = conn.exec_driver_sql("PRAGMA integrity_check").fetchall()
                    problems += [str(r[0]) for r in rows if str(r[0]) != "ok"]
                    rows = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    problems += [f"foreign key violation: {tuple(r)}" for r in rows]
                else:
                    conn.execute(text("SELECT count(*) FROM pg_catalog.pg_class")).scalar_one()
                    invalid = conn.execute(
                        text(
                            "SELECT c.relname FROM pg_index i JOIN pg_class c "
                            "ON c.oid = i.indexrelid WHERE NOT i.indisvalid"
                        )
                    ).fetchall()
                    problems += [f"invalid index: {r[0]}" for r in invalid]
                problems += schema_problems(conn)
                if not problems:
                    problems += lifecycle_problems(conn)
        except SQLAlchemyError as exc:
            raise map_db_error(exc, Base.metadata) from exc
        return problems

    def acquire_leader(self, name: str, holder: str, lease_s: float) -> bool:
        """Takes the leader lock ``name`` for ``holder`` (see ``ledger.store.leader``)."""
        return leader.acquire_leader(self, name, holder, lease_s)

    def renew_leader(self, name: str, holder: str, lease_s: float) -> bool:
        """Extends the lease; False means ``holder`` has lost the lock and must stop."""
        return leader.renew_leader(self, name, holder, lease_s)

    def release_leader(self, name: str, holder: str) -> None:
        leader.release_leader(self, name, holder)

    def close(self) -> None:
        leader.release_all(self)
        self.engine.dispose()
        if self.write_gate is not None:
            self.write_gate.close()


def _install_sqlite_listeners(engine: Engine, pragmas: Mapping[str, str]) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        cursor = dbapi_connection.cursor()
        try:
            # busy_timeout first: switching to WAL itself may wait for a lock.
            cursor.execute(f"PRAGMA busy_timeout = {int(pragmas['busy_timeout'])}")
            for name in ("journal_mode", "synchronous", "foreign_keys"):
                value = pragmas[name]
                if not value.replace("_", "").isalnum():
                    raise MalformedError(f"bad value {value!r}", path=f"sqlite_pragmas.{name}")
                cursor.execute(f"PRAGMA {name} = {value}")
        finally:
            cursor.close()
        _check_sqlite(dbapi_connection)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        readonly = conn.get_execution_options().get("carbonledger_readonly", False)
        conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")


def _install_postgres_listener(engine: Engine, *, lock_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        _check_postgres(dbapi_connection)
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"SET lock_timeout = {int(lock_timeout_ms)}")
        finally:
            cursor.close()
        dbapi_connection.commit()


__all__ = ["Store", "Transaction", "sqlite_url"]
