"""Which of the factor sets some records link are confidential (a supplier's declared
values), so that ``ledger.core.policy.public_view`` can decide what the public sees of
those records (docs/RECORDS.md §4).

Whether a factor set is confidential is a fact of that other record (its ``status``), so
it is read from the store: one query for all the sets a page or a bundle links.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ledger.core.canonical import parse_json
from ledger.core.errors import LedgerError, StorageError
from ledger.core.policy import is_confidential_set
from ledger.store import Transaction
from ledger.store.inputs import full_views

__all__ = ["confidential_sets"]

_DEPENDS = ("carbon-record", "factor-substitution")


def _linked_sets(records: Iterable[Mapping[str, Any]]) -> set[str]:
    out: set[str] = set()
    for record in records:
        if record.get("type") not in _DEPENDS:
            continue
        for ref in record.get("refs", ()):
            if ref.get("rel") == "factor-set":
                out.add(str(ref.get("id")))
    return out


def confidential_sets(session: Transaction, records: Iterable[Mapping[str, Any]]) -> frozenset[str]:
    """The ids of the confidential factor sets that ``records`` (record JSON) link."""
    wanted = _linked_sets(records)
    if not wanted:
        return frozenset()
    out = set()
    for set_id, stored in full_views(session, wanted).items():
        try:
            view = parse_json(stored.full_view, root="full_view")
            record = view["record"]
        except (LedgerError, KeyError, TypeError):
            raise StorageError(f"record {set_id}: stored full view unreadable") from None
        if is_confidential_set(record):
            out.add(set_id)
    return frozenset(out)
