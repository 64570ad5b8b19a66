"""Helpers shared by the repository modules."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ledger.core.errors import ConflictError, NotFoundError
from ledger.store.errors import map_db_error
from ledger.store.models import Base


def flush(session: Session) -> None:
    """Flushes, turning a constraint violation into ``ConstraintError`` right here, so the
    caller sees the ledger error inside its transaction block."""
    try:
        session.flush()
    except SQLAlchemyError as exc:
        raise map_db_error(exc, Base.metadata) from exc


def execute(session: Session, statement: Any, values: Any = None) -> Any:
    try:
        return session.execute(statement) if values is None else session.execute(statement, values)
    except SQLAlchemyError as exc:
        raise map_db_error(exc, Base.metadata) from exc


def rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0))


def move_state(
    session: Session,
    key: Any,
    key_value: object,
    *,
    transitions: Mapping[str, Sequence[str]],
    to: str,
    what: str,
    **values: object,
) -> None:
    """Move the row whose ``key`` column equals ``key_value`` to state ``to``, only from a
    state ``transitions`` allows, in one compare-and-set UPDATE: of two writers racing for
    the same move, exactly one succeeds. ``what`` names the row in errors ("batch 7")."""
    model = key.class_
    allowed_from = tuple(state for state, targets in transitions.items() if to in targets)
    moved = rowcount(
        execute(
            session,
            update(model)
            .where(key == key_value, model.state.in_(allowed_from))
            .values(state=to, **values)
            .execution_options(synchronize_session=False),
        )
    )
    if moved != 1:
        current = session.scalar(select(model.state).where(key == key_value))
        if current is None:
            raise NotFoundError(f"no {what}")
        raise ConflictError(f"{what} is {current}; it cannot move to {to}")
