"""Keeping the directory (``ledger.store.directory``) in step with the records.

``index_accepted`` runs in the transaction that stores accepted records (the accept path),
so the indexes the pages and the registry read never lag the ledger. ``index_of`` decides
what one record contributes, from its validated content: only what the public may read of
it (docs/RECORDS.md §4), and the document hashes of archive entries, which are looked up
by exact value only. ``rebuild_indexes`` fills the indexes from the stored records once, in
a store made before they existed.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from ledger.core.canonical import parse_json
from ledger.core.clock import Clock
from ledger.core.errors import LedgerError, StorageError
from ledger.core.records import Record
from ledger.store import Store, Transaction
from ledger.store.directory import IndexedRecord
from ledger.store.indexes import (
    clear_indexes,
    index_records,
    is_index_complete,
    mark_index_complete,
    rule_regions,
)
from ledger.store.rows import StoredRecord

__all__ = ["EQUIPMENT_TYPES", "index_accepted", "index_of", "rebuild_indexes"]

log = logging.getLogger("carbonledger.directory")

#: Record types whose subject is a piece of equipment (docs/RECORDS.md §1.1).
EQUIPMENT_TYPES = (
    "carbon-record",
    "bim-archive",
    "factor-substitution",
    "risk-assessment",
    "equivalence-declaration",
)
_REBUILD_CHUNK = 500


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _link_id(value: Any) -> str | None:
    return _text(value.get("id")) if isinstance(value, Mapping) else None


def _identifiers(equipment: Any) -> tuple[tuple[str, str], ...]:
    items = equipment.get("identifiers") if isinstance(equipment, Mapping) else None
    out = []
    for item in items if isinstance(items, list) else ():
        if isinstance(item, Mapping) and _text(item.get("scheme")) and _text(item.get("value")):
            out.append((str(item["scheme"]), str(item["value"])))
    return tuple(out)


def index_of(
    record_pk: int,
    record: Mapping[str, Any],
    *,
    regions: Mapping[str, str],
) -> IndexedRecord:
    """What the directory keeps of ``record`` (a validated record's JSON), stored as
    ``record_pk``; ``regions`` gives the region of the region rules a conversion may cite."""
    rtype, subject = str(record["type"]), str(record["subject"])
    body = record.get("body")
    body = body if isinstance(body, Mapping) else {}
    base: dict[str, Any] = {
        "record_pk": record_pk,
        "record_id": str(record["id"]),
        "type": rtype,
        "subject": subject,
        "issued_at": record["issued_at"],
        "is_equipment": rtype in EQUIPMENT_TYPES,
    }
    equipment = body.get("equipment")
    if isinstance(equipment, Mapping):
        base["identifiers"] = _identifiers(equipment)
        base["equipment_name"] = _text(equipment.get("name"))
        base["cn_code"] = _text(equipment.get("cn_code"))
    if rtype == "carbon-record":
        totals = body.get("totals")
        if isinstance(totals, Mapping):
            base["figure"], base["unit"] = _text(totals.get("total")), _text(totals.get("unit"))
    elif rtype == "factor-substitution":
        result = body.get("result")
        if isinstance(result, Mapping):
            base["figure"], base["unit"] = _text(result.get("total")), _text(result.get("unit"))
        base["source_id"] = _link_id(body.get("source"))
        base["rule_id"] = _link_id(body.get("rule"))
        base["region"] = regions.get(base["rule_id"] or "")
    elif rtype == "risk-assessment":
        result = body.get("result")
        if isinstance(result, Mapping):
            base["figure"], base["unit"] = _text(result.get("total")), _text(result.get("unit"))
        base["source_id"] = _link_id(body.get("source"))
        base["region"] = _text(body.get("region"))
        base["level"] = _text(body.get("level"))
    elif rtype == "credit-change":
        enterprise = body.get("enterprise")
        base["enterprise_name"] = (
            _text(enterprise.get("name")) if isinstance(enterprise, Mapping) else None
        )
        base["grade"] = _text(body.get("grade"))
        base["previous_grade"] = _text(body.get("previous_grade"))
        deadline = _text(body.get("rectification_deadline"))
        base["warning_deadline"] = date.fromisoformat(deadline) if deadline else None
    elif rtype in ("region-rule", "factor-set"):
        base["region"] = _text(body.get("region"))
    elif rtype == "bim-archive":
        documents = body.get("documents")
        base["documents"] = tuple(
            str(d["sha256"])
            for d in (documents if isinstance(documents, list) else ())
            if isinstance(d, Mapping) and _text(d.get("sha256"))
        )
    return IndexedRecord(**base)


def _regions_for(session: Transaction, records: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """The regions of the rules these records cite: from the records themselves (a rule
    in the same bulk) or from the index (a rule stored before)."""
    own = {
        str(r["id"]): str(r["body"]["region"])
        for r in records
        if r.get("type") == "region-rule" and isinstance(r.get("body"), Mapping)
    }
    cited = {
        rid
        for r in records
        if r.get("type") == "factor-substitution"
        for rid in [_link_id(r["body"].get("rule")) if isinstance(r.get("body"), Mapping) else None]
        if rid is not None and rid not in own
    }
    return {**rule_regions(session, cited), **own}


def _as_json(record: Record) -> Mapping[str, Any]:
    return {**record.raw, "issued_at": record.issued_at}


def index_accepted(session: Transaction, accepted: Sequence[tuple[int, Record]]) -> None:
    """Index records just stored (store id, validated record), in acceptance order."""
    records = [_as_json(r) for _pk, r in accepted]
    regions = _regions_for(session, records)
    index_records(
        session,
        [
            index_of(pk, rec, regions=regions)
            for (pk, _r), rec in zip(accepted, records, strict=True)
        ],
    )


def _stored_json(row: StoredRecord) -> Mapping[str, Any]:
    try:
        view = parse_json(row.full_view, root="full_view")
        record = dict(view["record"])
    except (LedgerError, KeyError, TypeError):
        raise StorageError(f"record {row.record_id}: stored full view unreadable") from None
    record["issued_at"] = row.issued_at
    return record


def rebuild_indexes(store: Store, *, clock: Clock) -> bool:
    """Fill the indexes from every stored record when they are incomplete (a store made
    before them); returns whether it rebuilt. One transaction: readers see the old state
    until it commits."""
    if store.run(is_index_complete, readonly=True):
        return False
    from ledger.store import records as record_repo

    def work(session: Transaction) -> bool:
        if is_index_complete(session):
            return False
        clear_indexes(session)
        after = 0
        while True:
            rows = record_repo.records_matching(session, after=after, limit=_REBUILD_CHUNK)
            if not rows:
                break
            records = [_stored_json(r) for r in rows]
            regions = _regions_for(session, records)
            index_records(
                session,
                [
                    index_of(r.id, rec, regions=regions)
                    for r, rec in zip(rows, records, strict=True)
                ],
            )
            after = rows[-1].id
        mark_index_complete(session, at=clock())
        return True

    rebuilt = store.run(work)
    if rebuilt:
        log.info("directory indexes rebuilt from the stored records")
    return rebuilt
