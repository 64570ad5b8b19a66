"""No driver text reaches a caller: one sentence per unique constraint of the schema.

The defect this stops: a second revocation of a record answered 409 with "UNIQUE
constraint failed: revocations.digest_hex" in its ``detail``. Every unique or primary-key
constraint (and unique index) of the schema is violated here for real, on SQLite, through
a copy of its table; the error the store raises names the constraint and carries the
sentence of ``CONSTRAINT_MESSAGES``, never the driver's words. The same is checked against
PostgreSQL's messages through the whole store (test_a_real_violation_*).
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import (
    CheckConstraint,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    UniqueConstraint,
    create_engine,
    insert,
    text,
    types,
)
from sqlalchemy import exc as sa_exc

import ledger.store
from ledger.core.errors import ConflictError
from ledger.store import ConstraintError, Store
from ledger.store.errors import CONSTRAINT_MESSAGES, map_db_error
from ledger.store.models import Base
from ledger.store.types import UInt256, UTCDateTime
from tests.store.conftest import T0

# Every module of the store that declares tables, so the schema here is the whole schema
# whatever else this process imported.
for _module in pkgutil.iter_modules(ledger.store.__path__):
    if _module.name != "migrations":
        importlib.import_module(f"ledger.store.{_module.name}")

#: Words of SQLite's and PostgreSQL's constraint messages.
DRIVER_WORDS = re.compile(r"UNIQUE|constraint failed|duplicate key|violates|Key \(", re.I)


def _unique(table: Table) -> list[tuple[str, list[str], dict[str, Any]]]:
    """(name, columns, column values a partial index applies to) of ``table``."""
    out: list[tuple[str, list[str], dict[str, Any]]] = []
    for constraint in table.constraints:
        if isinstance(constraint, PrimaryKeyConstraint | UniqueConstraint):
            out.append((str(constraint.name), [c.name for c in constraint.columns], {}))
    for index in table.indexes:
        if index.unique:
            where = str(index.dialect_options["sqlite"].get("where") or "")
            # "state = 'mined' AND target_id IS NOT NULL": the equalities are what both rows
            # need; an index column is never NULL here.
            scope = dict(re.findall(r"(\w+) = '(\w+)'", where))
            out.append((str(index.name), [c.name for c in index.columns], scope))
    return out


# Sorted: a table's constraints come from a set, whose order differs between processes
# (pytest-xdist workers must collect the same tests in the same order).
CONSTRAINTS = sorted(
    (
        (table.name, name, columns, scope)
        for table in Base.metadata.sorted_tables
        for name, columns, scope in _unique(table)
    ),
    key=lambda constraint: (constraint[0], constraint[1]),
)


def test_every_unique_constraint_has_its_sentence() -> None:
    names = {name for _, name, _, _ in CONSTRAINTS}
    assert names - set(CONSTRAINT_MESSAGES) == set(), "constraints without a sentence"
    assert set(CONSTRAINT_MESSAGES) - names == set(), "sentences of constraints that are gone"
    for sentence in CONSTRAINT_MESSAGES.values():
        assert not DRIVER_WORDS.search(sentence)


def _value(column: Any, row: int) -> Any:
    kind = column.type
    if isinstance(kind, UTCDateTime | types.DateTime):
        return datetime(2026, 1, row, tzinfo=UTC)
    if isinstance(kind, types.Date):
        return date(2026, 1, row)
    if isinstance(kind, UInt256 | types.Integer):
        return row
    if isinstance(kind, types.LargeBinary):
        return bytes([row])
    if isinstance(kind, types.JSON):
        return [row]
    if isinstance(kind, types.Boolean):
        return bool(row % 2)
    return f"value-{row}"


def _schema_without_checks() -> MetaData:
    """The schema without CHECK constraints (the values below are arbitrary); SQLite leaves
    foreign keys unchecked unless asked (``PRAGMA foreign_keys``), so they stay."""
    schema = MetaData()
    for table in Base.metadata.sorted_tables:
        copy = table.to_metadata(schema)
        for constraint in list(copy.constraints):
            if isinstance(constraint, CheckConstraint):
                copy.constraints.discard(constraint)
        for index in copy.indexes:
            for dialect in ("sqlite", "postgresql"):
                where = index.dialect_options[dialect].get("where")
                if isinstance(where, str):  # migrations take text, create_all a clause
                    index.dialect_options[dialect]["where"] = text(where)
    return schema


@pytest.mark.parametrize(
    ("table_name", "name", "columns", "scope"),
    CONSTRAINTS,
    ids=[name for _, name, _, _ in CONSTRAINTS],
)
def test_a_violation_says_the_sentence_not_the_driver(
    table_name: str, name: str, columns: list[str], scope: dict[str, Any]
) -> None:
    schema = _schema_without_checks()
    table = schema.tables[table_name]
    engine = create_engine("sqlite://")
    schema.create_all(engine)
    rows = []
    for n in (1, 2):
        row = {c.name: _value(c, n) for c in table.columns}
        row.update({c: _value(table.columns[c], 1) for c in columns})
        row.update(scope)
        rows.append(row)
    with engine.begin() as conn, pytest.raises(sa_exc.IntegrityError) as raised:
        conn.execute(insert(table), rows[0])
        conn.execute(insert(table), rows[1])
    assert "UNIQUE constraint failed" in str(raised.value.orig)  # the real driver's text
    error = map_db_error(raised.value, Base.metadata)
    assert isinstance(error, ConstraintError)
    assert error.constraint == name
    assert error.message == CONSTRAINT_MESSAGES[name]
    assert not DRIVER_WORDS.search(error.message) and table_name not in error.message
    assert "UNIQUE constraint failed" in error.driver_message
    engine.dispose()


def test_a_real_violation_on_either_database_says_the_sentence(store: Store) -> None:
    from ledger.store.access import add_principal

    with store.transaction() as session:
        add_principal(session, "twice", role="auditor", created_at=T0)
    with pytest.raises(ConflictError) as raised, store.transaction() as session:
        add_principal(session, "twice", role="auditor", created_at=T0)
    assert isinstance(raised.value, ConstraintError)
    assert raised.value.constraint == "pk_principals"
    assert raised.value.message == CONSTRAINT_MESSAGES["pk_principals"]
    assert not DRIVER_WORDS.search(raised.value.message)
