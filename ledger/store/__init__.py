"""The SQLAlchemy store of the ledger service and its Alembic migrations."""
