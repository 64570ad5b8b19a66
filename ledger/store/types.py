"""Column types the store needs beyond SQLAlchemy's: aware UTC timestamps and uint256.

Both exist so that the same values come back from SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from ledger.core.errors import MalformedError, StorageError

# Widths of the text columns every layer bounds its input by (the migrations spell the
# same numbers out, as they were when each was written).
MAX_ID_CHARS = 200
MAX_PRODUCER_CHARS = 200
MAX_SUBJECT_CHARS = 400
MAX_PRINCIPAL_CHARS = 200
MAX_IDEMPOTENCY_KEY_CHARS = 200


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC timestamp: the ledger's timestamps are aware UTC everywhere.

    PostgreSQL stores ``timestamptz``. SQLite has no time type: SQLAlchemy stores ISO text,
    and this type writes the UTC wall time there and re-attaches UTC on reading. Naive
    datetimes are refused on the way in: their zone is a guess.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise MalformedError(f"naive datetime {value.isoformat()} refused; pass aware UTC")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise StorageError(
                f"expected a timestamp from the database, got {type(value).__name__}"
            )
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class UInt256(TypeDecorator[int]):
    """A non-negative integer up to 2**256 - 1 (wei amounts), stored as decimal text.

    SQLite's NUMERIC affinity would turn large values into floats (and no quantity is ever
    a float), and BIGINT stops at 2**63 - 1; decimal text is exact on both backends.
    """

    impl = String(78)
    cache_ok = True

    def process_bind_param(self, value: int | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**256:
            raise MalformedError(f"expected an integer in [0, 2**256), got {value!r}")
        return str(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> int | None:
        if value is None:
            return None
        return int(value)
