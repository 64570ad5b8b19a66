"""Running the Alembic migrations from code (no alembic.ini, no environment variables)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

from ledger.core.errors import StorageError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise StorageError(f"the migrations in {MIGRATIONS_DIR} have no head revision")
    return head


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def upgrade_to_head(engine: Engine) -> None:
    with engine.connect() as connection:
        command.upgrade(alembic_config(connection), "head")
        connection.commit()


def check_at_head(engine: Engine) -> None:
    with engine.connect() as connection:
        current = current_revision(connection)
    head = head_revision()
    if current != head:
        raise StorageError(
            f"the store's schema is at revision {current or 'none'}, not {head}: "
            "open it with create=True (or run the migrations) first"
        )


def schema_problems(connection: Connection) -> list[str]:
    current = current_revision(connection)
    head = head_revision()
    return [] if current == head else [f"schema revision {current or 'none'} is not {head}"]
