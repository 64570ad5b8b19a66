"""The durable store of the ledger service: SQLAlchemy 2 models, repositories and the
Alembic migrations (DESIGN.md §5).

Open it with ``Store.open(url)`` (``sqlite_url(data_dir)`` for the default file); do every
write inside ``store.transaction()`` (or ``store.run(work)`` to retry transient errors) with
the repository functions of ``records``, ``batches``, ``anchors``, ``producers``,
``chainfacts`` and ``alerts``. ``store.acquire_leader``/``renew_leader``/``release_leader``
keep one anchorer at a time (``leader``); ``store.integrity_check()`` is the fsck.
"""

from sqlalchemy.orm import Session

from ledger.store.engine import Clock, Store, sqlite_url
from ledger.store.errors import ConstraintError

# ``Session`` is the transaction ``Store.transaction()`` yields, which the repository
# functions take: its type is all a caller outside the store needs of SQLAlchemy.
__all__ = ["Clock", "ConstraintError", "Session", "Store", "sqlite_url"]
