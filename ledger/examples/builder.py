"""How every example record is built: one envelope, the pieces records share, and the
book that commits records in dependency order.

The examples of this package and the demo scenario (``api.demo.scenario``) both build
their records here, so a record of the demo and the example it extends differ only in
their data.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ledger.core.calc.inputs import factor_use
from ledger.core.crossborder.compose import record_envelope

__all__ = [
    "DigestOf",
    "RecordBook",
    "activity_line",
    "bim_archive",
    "document_hash",
    "envelope",
    "quote_factor",
]

DigestOf = Callable[[dict[str, Any]], str]


def envelope(
    rtype: str,
    rid: str,
    subject: str,
    issued_at: str,
    producer: str,
    body: dict[str, Any],
    refs: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """A schema-version-1 record of any type (docs/RECORDS.md §1)."""
    return record_envelope(rtype, rid, subject, issued_at, producer, body, refs)


def quote_factor(
    set_record: Mapping[str, Any], entry_id: str, digests: Mapping[str, str]
) -> dict[str, Any]:
    """How a line quotes entry ``entry_id`` of a factor-set record (docs/RECORDS.md §3.1)."""
    entry = next(e for e in set_record["body"]["entries"] if e["id"] == entry_id)
    return factor_use(set_record["id"], entry, digests[set_record["id"]])


def document_hash(name: str) -> str:
    """A stand-in SHA-256 for a fictional document (hash of its name)."""
    return hashlib.sha256(name.encode("utf-8")).hexdigest()


def activity_line(
    line_id: str,
    stage: str,
    process: str,
    eclass: str,
    channel: str,
    qty: str,
    unit: str,
    factor: dict[str, Any],
    evidence: str | None = None,
) -> dict[str, Any]:
    """One activity line of a carbon record; ``evidence`` names a fictional document."""
    line: dict[str, Any] = {
        "line_id": line_id,
        "stage": stage,
        "process": process,
        "emission_class": eclass,
        "cbam_channel": channel,
        "quantity": qty,
        "unit": unit,
        "factor": factor,
        "data_type": "primary",
    }
    if evidence:
        line["evidence"] = [
            {"kind": "document", "sha256": document_hash(evidence), "ref": evidence}
        ]
    return line


def bim_archive(
    rid: str,
    *,
    subject: str,
    ifc: str,
    issued_at: str,
    producer: str,
    event: dict[str, str],
    documents: list[dict[str, Any]],
    carbon_record: Mapping[str, str],
) -> dict[str, Any]:
    """A BIM archive entry of one lifecycle ``event`` of the equipment ``subject``
    (IFC GlobalId ``ifc``), filing ``documents`` and citing one carbon record
    (``{id, digest}``)."""
    link = {"id": carbon_record["id"], "digest": carbon_record["digest"]}
    body = {
        "equipment": {
            "identifiers": [
                {"scheme": "handle", "value": subject},
                {"scheme": "ifc_globalid", "value": ifc},
            ]
        },
        "event": event,
        "ifc": {"schema": "IFC4", "global_ids": [ifc]},
        "documents": documents,
        "carbon_records": [link],
    }
    refs = [{"rel": "carbon-record", **link}]
    return envelope("bim-archive", rid, subject, issued_at, producer, body, refs)


class RecordBook:
    """Records by id in the order they were added, and each one's digest.

    ``digest_of`` (record -> lowercase hex digest) is called on each record as it is
    added, so a record added later cites the digests of those added before it, and a
    caller that submits each record inside ``digest_of`` cites the real ones.
    """

    def __init__(self, digest_of: DigestOf) -> None:
        self._digest_of = digest_of
        self.records: dict[str, dict[str, Any]] = {}
        self.digests: dict[str, str] = {}

    def add(self, record: dict[str, Any]) -> dict[str, Any]:
        self.records[record["id"]] = record
        self.digests[record["id"]] = self._digest_of(record)
        return record
