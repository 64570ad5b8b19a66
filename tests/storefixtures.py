"""Migrated template databases (pytest plugin, loaded from tests/conftest.py).

Opening a store on an empty database runs every Alembic migration (a tenth of a second on
SQLite, half a second on PostgreSQL); most tests only need a store at the latest
revision. So each session migrates one template per backend, and a test that opens a store
gets a copy of it:

- ``sqlite_template``: the migrated ``ledger.sqlite3`` of the session, copied into a test's
  data directory by :func:`clone_sqlite_template`;
- ``pg_migrated_database_url`` (tests/pgfixture.py): a database made with ``CREATE DATABASE
  ... TEMPLATE`` from the session's migrated one.

The migrations themselves keep running from empty databases: tests/store/test_migrations.py
(marked ``empty_database``) and the revision tests (``store_url`` without ``store``) get
an empty one.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ledger.store import Store, sqlite_url
from ledger.store.engine import DEFAULT_FILENAME


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("sqlite-template")
    Store.open(sqlite_url(directory)).close()
    path = directory / DEFAULT_FILENAME
    # Closing the last connection checkpoints the WAL into the file: the file alone is the
    # database, so a plain copy of it is a complete one.
    leftovers = [p.name for p in directory.iterdir() if p != path]
    if leftovers:
        raise RuntimeError(f"the template store left {leftovers} beside {path}")
    return path


def clone_sqlite_template(template: Path, data_dir: Path) -> str:
    """Copies the migrated template into ``data_dir``; returns the store URL there."""
    data_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, data_dir / DEFAULT_FILENAME)
    return sqlite_url(data_dir)


def fresh_store_url(
    request: pytest.FixtureRequest, backend: str, data_dir: Path, *, migrated: bool
) -> str:
    """A database of its own for one test: at the latest revision when ``migrated``
    (a copy of the session's template), else empty."""
    if backend == "sqlite":
        if migrated:
            return clone_sqlite_template(request.getfixturevalue("sqlite_template"), data_dir)
        return sqlite_url(data_dir)
    fixture = "pg_migrated_database_url" if migrated else "pg_database_url"
    return str(request.getfixturevalue(fixture))
