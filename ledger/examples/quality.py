"""Example data quality and assurance blocks (docs/RECORDS.md §3.8.1): a record of schema
version 2 made from a version 1 example, its primary data share computed by calc/1 §13.
The ratings, the coverage and the verification body are fictional."""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Mapping
from typing import Any

__all__ = ["VERIFIER", "with_quality"]

VERIFIER = {"name": "Example Verification Body", "accreditation": "CNAS-EX-0001"}
REPORT = hashlib.sha256(b"example verification report T-101 2025").hexdigest()


def with_quality(
    record: Mapping[str, Any],
    *,
    source: Mapping[str, Any] | None = None,
    assured: bool = True,
    rid: str | None = None,
) -> dict[str, Any]:
    """``record`` (a carbon record, or a conversion with its ``source``) as schema 2 with a
    quality block whose primary data share recomputes."""
    from ledger.core.calc.lines import primary_data_share
    from ledger.core.calc.substitution import substitution_primary_data_share
    from ledger.core.records import validate_record

    out = copy.deepcopy(dict(record))
    out["schema_version"] = "2"
    if rid is not None:
        out["id"] = rid
    if out["type"] == "carbon-record":
        share = primary_data_share(validate_record(record))
    else:
        if source is None:
            raise ValueError("a conversion's quality needs its source record")
        share = substitution_primary_data_share(validate_record(record), validate_record(source))
    quality: dict[str, Any] = {
        "primary_data_share": share or "0",
        "coverage_pct": "99.6",
        "ratings": {
            "technological": "1.6",
            "temporal": "1.2",
            "geographical": "2.1",
            "completeness": "1.4",
            "reliability": "1.8",
        },
    }
    if assured:
        quality["assurance"] = {
            "coverage": "product level",
            "level": "limited",
            "boundary": "Cradle-to-Gate",
            "provider": dict(VERIFIER),
            "completed_at": "2026-03-10T00:00:00Z",
            "standard": "ISO 14064-3:2019",
            "report_sha256": REPORT,
        }
    out["body"]["quality"] = quality
    return out
