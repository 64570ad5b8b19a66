"""The one read the pages need that the API has no operation for: which records the
caller may see behind the digests of a batch manifest (manifests list digests, never ids:
docs/FORMAT.md §4). Object-level rules are ``ledger.service.query.Access``, as everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.service.query import Access
from ledger.store import Store
from ledger.store.models import Record

__all__ = ["records_by_digest"]


def records_by_digest(store: Store, digests_hex: Sequence[str], access: Access) -> dict[str, str]:
    """digest -> record id, for the digests whose record ``access`` may see."""
    if not digests_hex:
        return {}

    def work(session: Session) -> dict[str, str]:
        rows = session.execute(
            select(Record.digest_hex, Record.record_id, Record.producer).where(
                Record.digest_hex.in_(list(digests_hex))
            )
        )
        return {str(d): str(rid) for d, rid, producer in rows if access.may_see(str(producer))}

    return store.run(work, readonly=True)
