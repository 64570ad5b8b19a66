"""The durable store of the ledger service: SQLAlchemy 2 models, repositories and the
Alembic migrations (docs/OPERATIONS.md §1).

Open it with ``Store.open(url)`` (``sqlite_url(data_dir)`` for the default file); do every
write inside ``store.transaction()`` (or ``store.run(work)`` to retry transient errors) with
the repository functions of ``records``, ``batches``, ``anchors``, ``producers``,
``terminals``, ``chainfacts`` and ``alerts``.
``store.acquire_leader``/``renew_leader``/``release_leader`` keep one anchorer at a time
(``leader``); ``store.integrity_check()`` is the fsck.
"""

from ledger.store.engine import Store, Transaction, sqlite_url
from ledger.store.errors import ConstraintError

__all__ = ["ConstraintError", "Store", "Transaction", "sqlite_url"]
