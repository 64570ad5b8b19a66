"""The CBAM supplier-to-declarant package from the store (docs/CBAM.md).

Reads the consignments' conversions with what their figures rest on (the source carbon
record, the region rule and the factor sets the lines quote), checks that the caller reads
each source carbon record in full and that every record is anchored and none revoked (a
package is made of provable figures) and that no consignment's conversion is superseded
by an anchored correction (a package declares current figures), asks the export lock for
each unit in the EU, and computes the package with ``ledger.core.cbam`` — the same
function the verifier recomputes it with.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ledger.core.cbam import (
    Consignment,
    Evidence,
    compute_package,
    consignment_ids,
    factor_set_ids,
    parse_request,
)
from ledger.core.errors import ConflictError, NotFoundError
from ledger.service.exchange import record_from_view
from ledger.service.export import NotYetAnchoredError
from ledger.service.exportlock import LockCheck, no_lock, require_unlocked
from ledger.service.query import Access
from ledger.service.revocation import revocation_phrase
from ledger.store import Store
from ledger.store import exchange as index

__all__ = ["CBAM_REGION", "CbamService", "RevokedSourceError", "SupersededSourceError"]

#: The region whose export lock a CBAM package asks.
CBAM_REGION = "EU"


class RevokedSourceError(ConflictError):
    """A package would rest on a revoked record (409): carbon-verify fails its check 8."""

    def __init__(self, record_id: str, state: str) -> None:
        super().__init__(
            f"{record_id} is revoked (revocation {revocation_phrase(state)}): a CBAM package "
            "is made of figures that stand, and a revoked record's do not"
        )
        self.record_id = record_id


class SupersededSourceError(ConflictError):
    """A consignment's conversion has an anchored correction (409): declare that one."""

    def __init__(self, record_id: str, successor: str) -> None:
        super().__init__(
            f"{record_id} is superseded by {successor}: a CBAM package declares the "
            "current conversion of each consignment; list the correction instead"
        )
        self.record_id = record_id
        self.successor = successor


class CbamService:
    def __init__(self, store: Store, *, lock: LockCheck = no_lock) -> None:
        self.store = store
        self.lock = lock

    def _snapshots(
        self, ids: Iterable[str], *, current: bool = False
    ) -> dict[str, index.RecordSnapshot]:
        """The records ``ids``, each anchored and not revoked; with ``current``, not
        superseded either."""
        wanted = sorted(set(ids))
        found: dict[str, index.RecordSnapshot] = self.store.run(
            lambda s: index.records_by_id(s, wanted), readonly=True
        )
        for rid in wanted:
            snap = found.get(rid)
            if snap is None:
                raise NotFoundError(f"no record with id {rid!r}")
            if not snap.anchored:
                raise NotYetAnchoredError(rid, None)
            if snap.revocation is not None:
                raise RevokedSourceError(rid, snap.revocation)
            if current and snap.superseded_by is not None:
                raise SupersededSourceError(rid, snap.superseded_by)
        return found

    def package(self, value: Any, access: Access) -> dict[str, Any]:
        """The package of an operator's request (``carbonledger-cbam-request/1``)."""
        request = parse_request(value)
        conversions = {
            rid: Evidence(record_from_view(s.full_view, rid), s.digest_hex)
            for rid, s in self._snapshots(consignment_ids(request), current=True).items()
        }
        linked = self._snapshots(
            e.record.body[key]["id"]
            for e in conversions.values()
            for key in ("source", "rule")
            if isinstance(e.record.body.get(key), Mapping)
        )
        for snap in linked.values():
            # The package shows line quantities and factors: the caller must read the
            # operator's carbon records in full (docs/API.md §2).
            if snap.type == "carbon-record" and not access.sees_full(snap.producer, snap.subject):
                raise NotFoundError(f"no record with id {snap.record_id!r} visible in full")
        level1 = {
            rid: Evidence(record_from_view(s.full_view, rid), s.digest_hex)
            for rid, s in linked.items()
        }
        set_ids = {
            r.id
            for e in (*conversions.values(), *level1.values())
            for r in e.record.refs
            if r.rel == "factor-set"
        }
        sets = {
            rid: Evidence(record_from_view(s.full_view, rid), s.digest_hex)
            for rid, s in self._snapshots(set_ids).items()
        }
        for conv in conversions.values():
            require_unlocked(self.lock, conv.record.subject, CBAM_REGION)
        consignments = {
            rid: Consignment(
                conv,
                level1[conv.record.body["source"]["id"]],
                level1[conv.record.body["rule"]["id"]],
                _sets_of(
                    conv,
                    level1[conv.record.body["source"]["id"]],
                    level1[conv.record.body["rule"]["id"]],
                    sets,
                ),
            )
            for rid, conv in conversions.items()
            if conv.record.type == "factor-substitution"
        }
        return compute_package(request, consignments)


def _sets_of(
    conv: Evidence, source: Evidence, rule: Evidence, sets: Mapping[str, Evidence]
) -> dict[str, Evidence]:
    return {rid: sets[rid] for rid in factor_set_ids(conv, source, rule) if rid in sets}
