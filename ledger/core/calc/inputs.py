"""What a calc/1 computation reads from the records it is given: their types,
lookup by id, and factor-set entries as a line quotes them (docs/RECORDS.md §3.1)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from ledger.core.errors import DigestMismatchError, MalformedError, NotFoundError
from ledger.core.records import Record


def require_type(record: Record, rtype: str) -> None:
    """Refuse a record of another type than the computation reads."""
    if record.type != rtype:
        raise MalformedError(f"{record.id} is a {record.type}, expected a {rtype}")


def records_by_id(
    records: Mapping[str, Record] | Sequence[Record], rtype: str
) -> dict[str, Record]:
    """``records`` by id, each of type ``rtype``."""
    items = records.values() if isinstance(records, Mapping) else records
    out: dict[str, Record] = {}
    for r in items:
        require_type(r, rtype)
        out[r.id] = r
    return out


def require_links(
    links: Iterable[tuple[str, Mapping[str, Any]]],
    by_id: Mapping[str, Record],
    digests: Mapping[str, str] | None,
) -> None:
    """Every ``(path, {id, digest})`` link names a record of ``by_id`` and, given the
    ``digests`` a bundle proved (record id -> digest), exactly its digest."""
    for path, link in links:
        if link["id"] not in by_id:
            raise NotFoundError(f"{path}: {link['id']} is not in the closure")
        if digests is not None and digests.get(link["id"]) != link["digest"]:
            raise DigestMismatchError(
                f"{path}.digest: differs from the digest of {link['id']} in the bundle",
                expected=link["digest"],
                computed=digests.get(link["id"]),
            )


def equipment_mass_kg(record: Record) -> Decimal | None:
    """The mass of a carbon record's equipment, when the record states it."""
    mass = record.body["equipment"].get("mass_kg")
    return None if mass is None else Decimal(mass)


def find_entry(factor_set: Record, entry_id: str) -> Mapping[str, Any]:
    """The entry ``entry_id`` of a factor set."""
    entries: list[Mapping[str, Any]] = factor_set.body["entries"]
    for entry in entries:
        if entry["id"] == entry_id:
            return entry
    raise NotFoundError(f"factor set {factor_set.id} has no entry {entry_id!r}")


def factor_use(set_id: str, entry: Mapping[str, Any], digest: str) -> dict[str, Any]:
    """How a line quotes ``entry`` of the factor set ``set_id`` whose digest is ``digest``
    (docs/RECORDS.md §3.1)."""
    use: dict[str, Any] = {
        "set": {"id": set_id, "digest": digest},
        "entry": entry["id"],
        "activity": entry["activity"],
        "value": entry["value"],
        "unit": entry["unit"],
        "gwp_set": entry["gwp_set"],
    }
    if "per_gas" in entry:
        use["per_gas"] = dict(entry["per_gas"])
    return use


def linked_inputs(
    body: Mapping[str, Any],
    closure: Mapping[str, Record] | Sequence[Record],
    *,
    digests: Mapping[str, str] | None = None,
) -> tuple[Record, Record, list[Record]]:
    """The source, rule and factor sets a body computed under a region rule links to
    (``body.source``, ``body.rule``, ``body.factor_sets``), found in ``closure``. When
    ``digests`` (record id -> digest, as a bundle proved them) is given, every link's
    digest must match (docs/CALC.md §10)."""
    items = closure.values() if isinstance(closure, Mapping) else closure
    by_id = {r.id: r for r in items}
    links = [("body.source", body["source"]), ("body.rule", body["rule"])]
    links += [(f"body.factor_sets[{i}]", s) for i, s in enumerate(body["factor_sets"])]
    for path, link in links:
        if link["id"] not in by_id:
            raise NotFoundError(f"{path}: {link['id']} is not in the closure")
        if digests is not None and digests.get(link["id"]) != link["digest"]:
            raise DigestMismatchError(
                f"{path}.digest: differs from the digest of {link['id']} in the bundle",
                expected=link["digest"],
                computed=digests.get(link["id"]),
            )
    sets = [by_id[s["id"]] for s in body["factor_sets"]]
    return by_id[body["source"]["id"]], by_id[body["rule"]["id"]], sets
