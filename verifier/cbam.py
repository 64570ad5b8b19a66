"""Recomputing a CBAM package (docs/CBAM.md §6, docs/VERIFY.md §6.2).

A package (``carbonledger-cbam-package/1``) echoes the operator's request and every figure
it computed from the consignments' records, each with the records' digests. Given the
evidence bundles of those records (each checked by the numbered checks first), the
verifier reads the full views they carry and recomputes the package with the same function
the service used (``ledger.core.cbam.compute_package``); any figure that differs, any
record digest that differs, and any record the bundles lack is reported by its path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ledger.core.bundle import Bundle
from ledger.core.cbam import (
    PACKAGE_FORMAT,
    Consignment,
    Evidence,
    compute_package,
    consignment_ids,
    factor_set_ids,
    parse_request,
)
from ledger.core.errors import LedgerError, MalformedError
from ledger.core.records import validate_record
from ledger.core.view import Commitment

__all__ = ["package_differences", "records_of"]


def records_of(bundles: Sequence[Bundle]) -> dict[str, Evidence]:
    """Every record a bundle carries in full (items and closure), by id."""
    out: dict[str, Evidence] = {}
    for bundle in bundles:
        for item in (*bundle.items, *bundle.closure):
            if isinstance(item.view, Commitment):
                record = validate_record(item.view.record)
                out[record.id] = Evidence(record, item.digest.hex())
    return out


def _diff(stated: Any, computed: Any, path: str, out: list[str]) -> None:
    if len(out) >= 50:
        return
    if isinstance(stated, Mapping) and isinstance(computed, Mapping):
        for key in sorted(set(stated) | set(computed)):
            where = f"{path}.{key}" if path else str(key)
            if key not in stated or key not in computed:
                out.append(f"{where}: present in only one of the package and the recomputation")
            else:
                _diff(stated[key], computed[key], where, out)
    elif isinstance(stated, list) and isinstance(computed, list):
        if len(stated) != len(computed):
            out.append(f"{path}: {len(stated)} entries stated, {len(computed)} recomputed")
        for i, (a, b) in enumerate(zip(stated, computed, strict=False)):
            _diff(a, b, f"{path}[{i}]", out)
    elif stated != computed:
        out.append(f"{path}: stated {stated!r}, recomputed {computed!r}")


def package_differences(package: Any, bundles: Sequence[Bundle]) -> list[str]:
    """What differs between ``package`` and its recomputation from ``bundles`` (empty: it
    recomputes exactly). Raises ``MalformedError`` for a document that is no package."""
    if not isinstance(package, Mapping) or package.get("format") != PACKAGE_FORMAT:
        raise MalformedError(f"not a {PACKAGE_FORMAT} document", path="format")
    request = parse_request(package.get("request"))
    records = records_of(bundles)
    missing: list[str] = []
    consignments: dict[str, Consignment] = {}
    for rid in consignment_ids(request):
        conv = records.get(rid)
        if conv is None:
            missing.append(f"{rid}: not in any bundle in full")
            continue
        source = records.get(conv.record.body.get("source", {}).get("id", ""))
        rule = records.get(conv.record.body.get("rule", {}).get("id", ""))
        if source is None or rule is None:
            missing.append(f"{rid}: its source or rule is not in the bundles in full")
            continue
        sets = {rid: records[rid] for rid in factor_set_ids(conv, source, rule) if rid in records}
        consignments[rid] = Consignment(conv, source, rule, sets)
    if missing:
        return missing
    try:
        recomputed = compute_package(request, consignments)
    except LedgerError as exc:
        return [f"the package does not recompute: {exc.message}"]
    out: list[str] = []
    _diff(dict(package), recomputed, "", out)
    return out
