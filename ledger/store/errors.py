"""Translation of database errors into the ledger's error tree (``ledger.core.errors``).

- a constraint violation → ``ConstraintError`` (a ``ConflictError``) naming the constraint;
- a busy/locked SQLite database, a full disk, an I/O error, a lost or refused PostgreSQL
  connection → ``UnavailableError`` (retryable: the API answers 503 with Retry-After);
- anything else the database reports → ``StorageError``.
"""

from __future__ import annotations

from sqlalchemy import MetaData, PrimaryKeyConstraint, UniqueConstraint
from sqlalchemy import exc as sa_exc

from ledger.core.errors import ConflictError, LedgerError, StorageError, UnavailableError

RETRY_AFTER_S = 1.0

# SQLite result texts (sqlite.org/rescode.html) that mean "try again later".
_SQLITE_TRANSIENT = (
    "database is locked",
    "database is busy",
    "database table is locked",
    "database or disk is full",
    "disk i/o error",
    "unable to open database file",
)
# SQLSTATE classes that mean the server or the connection is (temporarily) gone:
# 08 connection exception, 53 insufficient resources (disk full), 57P operator intervention
# (admin shutdown, terminated backend), 40001/40P01 serialization failure and deadlock,
# 55P03 lock not available (lock_timeout, the PostgreSQL side of SQLite's busy timeout).
_PG_TRANSIENT_PREFIXES = ("08", "53", "57P", "40001", "40P01", "55P03")

# Connection failures that retrying will not fix: the operator must change the settings.
_PG_CONFIG_ERRORS = (
    "does not exist",
    "password authentication failed",
    "no pg_hba.conf entry",
)


class ConstraintError(ConflictError):
    """A write broke a uniqueness, foreign-key or check constraint.

    ``constraint`` is the constraint's name as declared in ``ledger.store.models``
    (``uq_records_record_id``, ``uq_batch_leaves_digest_hex``, ``pk_batches`` …), or ``""``
    when the database did not say.
    """

    def __init__(self, message: str, *, constraint: str) -> None:
        super().__init__(message)
        self.constraint = constraint


def _sqlite_constraint(message: str, metadata: MetaData) -> str:
    """Maps SQLite's "UNIQUE constraint failed: t.a, t.b" to the declared constraint name."""
    if "constraint failed:" not in message:
        return ""
    detail = message.split("constraint failed:", 1)[1].strip()
    if message.startswith("CHECK"):
        return detail
    columns = [part.strip() for part in detail.split(",")]
    if not columns or "." not in columns[0]:
        return ""
    table_name = columns[0].split(".", 1)[0]
    names = sorted(c.split(".", 1)[1] for c in columns)
    table = metadata.tables.get(table_name)
    if table is None:
        return ""
    for constraint in table.constraints:
        if not isinstance(constraint, PrimaryKeyConstraint | UniqueConstraint):
            continue
        cols = sorted(c.name for c in getattr(constraint, "columns", []))
        if cols == names and constraint.name:
            return str(constraint.name)
    for index in table.indexes:
        if index.unique and sorted(c.name for c in index.columns) == names:
            return str(index.name)
    return ""


def _pg_sqlstate(error: BaseException) -> str:
    return str(getattr(error, "sqlstate", "") or "")


def is_transient(error: BaseException) -> bool:
    """True when retrying the whole transaction later may succeed."""
    if isinstance(error, UnavailableError):
        return True
    if isinstance(error, sa_exc.DBAPIError):
        if error.connection_invalidated:
            return True
        orig = error.orig
        state = _pg_sqlstate(orig) if orig is not None else ""
        if state:
            return state.startswith(_PG_TRANSIENT_PREFIXES)
        text = str(orig).lower()
        if any(marker in text for marker in _SQLITE_TRANSIENT):
            return True
        if any(marker in text for marker in _PG_CONFIG_ERRORS):
            return False
        # psycopg raises OperationalError without SQLSTATE when the socket is gone.
        return isinstance(error, sa_exc.OperationalError) and (
            "connection" in text or "server closed" in text or "terminat" in text
        )
    return False


def map_db_error(error: BaseException, metadata: MetaData) -> LedgerError:
    """The ledger error for a SQLAlchemy/DBAPI error (returned, for the caller to raise)."""
    if isinstance(error, LedgerError):
        return error
    wrapped = getattr(error, "orig", None)
    if isinstance(wrapped, LedgerError):
        # Raised by one of our column types while binding a parameter.
        return wrapped
    if isinstance(error, sa_exc.IntegrityError):
        orig = error.orig
        diag = getattr(orig, "diag", None)
        name = getattr(diag, "constraint_name", None) if diag is not None else None
        constraint = str(name) if name else _sqlite_constraint(str(orig), metadata)
        first_line = str(orig).strip().splitlines()[0] if str(orig).strip() else "integrity"
        return ConstraintError(
            f"conflict with stored data ({constraint or 'constraint'}): {first_line}",
            constraint=constraint,
        )
    if is_transient(error):
        cause: BaseException = getattr(error, "orig", None) or error
        first = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
        return UnavailableError(
            f"database unavailable, retry later: {first}", retry_after_s=RETRY_AFTER_S
        )
    if isinstance(error, sa_exc.SQLAlchemyError):
        return StorageError(f"database error: {error}")
    if isinstance(error, OSError):
        return UnavailableError(f"storage unavailable: {error}", retry_after_s=RETRY_AFTER_S)
    return StorageError(f"unexpected storage failure: {type(error).__name__}: {error}")
