"""Example claims (docs/RECORDS.md §3.11): importers declaring the storage tank T-101's
embedded emissions, the figure resting on its EU CBAM conversion.

Not part of :func:`ledger.examples.example_records` (whose records the demo and the
API test world submit): a claim is an importer's act, made with its own producer key.
The importer and its EORI number are fictional.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ledger.examples.equipment import TANK_HANDLE

__all__ = [
    "CLAIM_PRODUCER",
    "IMPORTER",
    "claim_record",
]

CLAIM_PRODUCER = "urn:carbonledger:producer:import-declarations"
IMPORTER = {
    "id": "urn:carbonledger:enterprise:example-eu-importer",
    "name": "Example Process Plant Importer GmbH",
    "eori": "DE123456789012345",
}


def claim_record(
    *,
    rid: str,
    regime: str,
    source_id: str,
    digests: Mapping[str, str],
    year: int = 2026,
    issued_at: str = "2026-04-15T09:00:00Z",
    subject: str = TANK_HANDLE,
    declarant: Mapping[str, str] = IMPORTER,
    supersedes: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A claim of ``subject`` into ``regime`` on the figure of ``source_id``."""
    refs: list[dict[str, str]] = [{"rel": "source", "id": source_id, "digest": digests[source_id]}]
    if supersedes is not None:
        refs.append({"rel": "supersedes", **supersedes, "reason": "correction"})
    return {
        "type": "claim",
        "schema_version": "1",
        "id": rid,
        "subject": subject,
        "issued_at": issued_at,
        "producer": CLAIM_PRODUCER,
        "refs": refs,
        "body": {
            "regime": regime,
            "year": year,
            "declarant": dict(declarant),
            "source": {"id": source_id, "digest": digests[source_id]},
            "reference": f"{regime} declaration {year}, consignment 1 of 1",
        },
    }
