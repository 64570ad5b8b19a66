"""The leader lock: at most one anchorer at a time.

PostgreSQL: a session-level advisory lock (``pg_try_advisory_lock``) on a connection kept
open for the holder. The lock lives exactly as long as that connection: when the leader
process dies or its connection drops, the server releases it, so ``lease_s`` is not used.
``renew_leader`` checks that the connection still holds the lock.

SQLite: a row in ``leader_leases`` (name, holder, expires_at), changed only inside a write
transaction (``BEGIN IMMEDIATE``), so two acquirers are serialized by the database lock.
A holder owns the lock until ``expires_at``; it must renew well before then and stop
acting as leader as soon as ``renew_leader`` returns False. Another holder can take the
lock only after the lease has expired by the store's clock. Leases compare wall-clock
times of processes on one machine (SQLite is local); the contract's strict batch sequence
remains the last line of defence if a paused leader wakes up after losing its lease.
"""

from __future__ import annotations

import contextlib
import hashlib
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, text, update
from sqlalchemy.exc import SQLAlchemyError

from ledger.core.errors import MalformedError
from ledger.store.errors import map_db_error
from ledger.store.models import Base, LeaderLease

if TYPE_CHECKING:
    from ledger.store.engine import Store


_KEEPALIVES = (
    ("tcp_keepalives_idle", 10),
    ("tcp_keepalives_interval", 5),
    ("tcp_keepalives_count", 3),
)


def advisory_key(name: str) -> int:
    """The signed 64-bit advisory-lock key of a lock name (first 8 bytes of SHA-256)."""
    return int.from_bytes(
        hashlib.sha256(b"carbonledger.leader\x00" + name.encode()).digest()[:8], "big", signed=True
    )


def _check(name: str, holder: str, lease_s: float | None = None) -> None:
    if not name or not holder:
        raise MalformedError("lock name and holder must be non-empty", path="leader")
    if lease_s is not None and lease_s <= 0:
        raise MalformedError(f"lease must be positive, got {lease_s}", path="leader.lease_s")


def _pg_holds(conn: Any, key: int) -> bool:
    # pg_locks shows a bigint advisory key as classid (high 32 bits), objid (low 32 bits)
    # and objsubid 1 (postgresql.org/docs/current/view-pg-locks.html).
    unsigned = key & 0xFFFFFFFFFFFFFFFF
    row = conn.execute(
        text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND pid = pg_backend_pid() AND classid::bigint = :hi AND objid::bigint = :lo"
            " AND objsubid = 1"
        ),
        {"hi": unsigned >> 32, "lo": unsigned & 0xFFFFFFFF},
    ).scalar_one()
    return int(row) > 0


def acquire_leader(store: Store, name: str, holder: str, lease_s: float) -> bool:
    """Takes the lock ``name`` for ``holder``; True when ``holder`` now holds it."""
    _check(name, holder, lease_s)
    if store.dialect == "postgresql":
        if (name, holder) in store._leader_connections:
            return renew_leader(store, name, holder, lease_s)
        try:
            conn = store.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            try:
                # The server notices a vanished leader host within about 25 s instead of the
                # kernel's two hours, and frees the lock (runtime-config-connection.html).
                for setting, value in _KEEPALIVES:
                    conn.execute(text(f"SET {setting} = {value}"))
                won = bool(
                    conn.execute(
                        text("SELECT pg_try_advisory_lock(:k)"), {"k": advisory_key(name)}
                    ).scalar_one()
                )
            except BaseException:
                conn.close()
                raise
        except SQLAlchemyError as exc:
            raise map_db_error(exc, Base.metadata) from exc
        if won:
            store._leader_connections[(name, holder)] = conn
        else:
            conn.close()
        return won

    def work(session: Any) -> bool:
        now = store.clock()
        lease = session.get(LeaderLease, name)
        if lease is None:
            session.add(
                LeaderLease(
                    name=name,
                    holder=holder,
                    acquired_at=now,
                    expires_at=now + timedelta(seconds=lease_s),
                )
            )
            return True
        if lease.holder != holder and lease.expires_at > now:
            return False
        if lease.holder != holder:
            lease.holder = holder
            lease.acquired_at = now
        lease.expires_at = now + timedelta(seconds=lease_s)
        return True

    with store.transaction() as session:
        won = work(session)
    if won:
        store._leader_connections[(name, holder)] = None
    return won


def renew_leader(store: Store, name: str, holder: str, lease_s: float) -> bool:
    """Extends ``holder``'s lease; False when it no longer holds the lock (stop leading)."""
    _check(name, holder, lease_s)
    if store.dialect == "postgresql":
        conn = store._leader_connections.get((name, holder))
        if conn is None:
            return False
        try:
            held = _pg_holds(conn, advisory_key(name))
        except SQLAlchemyError:
            held = False
        if not held:
            store._leader_connections.pop((name, holder), None)
            with contextlib.suppress(SQLAlchemyError):
                conn.close()
        return held
    with store.transaction() as session:
        now = store.clock()
        result = session.execute(
            update(LeaderLease)
            .where(
                LeaderLease.name == name,
                LeaderLease.holder == holder,
                LeaderLease.expires_at > now,
            )
            .values(expires_at=now + timedelta(seconds=lease_s))
        )
        held = bool(getattr(result, "rowcount", 0) == 1)
    if not held:
        store._leader_connections.pop((name, holder), None)
    return held


def release_leader(store: Store, name: str, holder: str) -> None:
    """Gives the lock up (a no-op when ``holder`` does not hold it)."""
    _check(name, holder)
    if store.dialect == "postgresql":
        conn = store._leader_connections.pop((name, holder), None)
        if conn is None:
            return
        try:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": advisory_key(name)})
        except SQLAlchemyError:
            pass  # a dead connection has released the lock already
        finally:
            with contextlib.suppress(SQLAlchemyError):
                conn.close()
        return
    store._leader_connections.pop((name, holder), None)
    with store.transaction() as session:
        session.execute(
            delete(LeaderLease).where(LeaderLease.name == name, LeaderLease.holder == holder)
        )


def release_all(store: Store) -> None:
    for name, holder in list(store._leader_connections):
        release_leader(store, name, holder)
