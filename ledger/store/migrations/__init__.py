"""Alembic migrations of the store; run through ``ledger.store.migrate``, not alembic.ini."""
