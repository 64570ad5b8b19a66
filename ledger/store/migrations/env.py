"""Alembic environment: runs on the connection ``ledger.store.migrate`` passes in.

There is no alembic.ini and no URL here; the store opens the connection (with its
durability settings already checked) and hands it over in ``config.attributes``.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

import ledger.store.apikeys
import ledger.store.auditlog
import ledger.store.sessions  # noqa: F401
from ledger.store import access as _access  # noqa: F401  (registers the access tables on Base)
from ledger.store import claims as _claims  # noqa: F401  (the claims register)
from ledger.store import directory as _directory  # noqa: F401  (the pages' directory)
from ledger.store import exchange as _exchange  # noqa: F401  (the PACT index and requests)
from ledger.store import grants as _grants  # noqa: F401  (access requests, access log)
from ledger.store import terminals as _terminals  # noqa: F401  (and the terminal tables)
from ledger.store import webhooks as _webhooks  # noqa: F401  (subscriptions and deliveries)
from ledger.store.models import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    if connection.dialect.name == "postgresql":
        # Two processes opening a fresh database at once: one migrates, the other waits
        # and then finds the schema at head.
        connection.execute(text("SELECT pg_advisory_xact_lock(7305716384)"))
    context.run_migrations()
