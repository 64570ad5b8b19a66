"""Helpers shared by the repository modules."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ledger.store.errors import map_db_error
from ledger.store.models import Base


def flush(session: Session) -> None:
    """Flushes, turning a constraint violation into ``ConstraintError`` right here, so the
    caller sees the ledger error inside its transaction block."""
    try:
        session.flush()
    except SQLAlchemyError as exc:
        raise map_db_error(exc, Base.metadata) from exc


def execute(session: Session, statement: Any) -> Any:
    try:
        return session.execute(statement)
    except SQLAlchemyError as exc:
        raise map_db_error(exc, Base.metadata) from exc


def rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0))
