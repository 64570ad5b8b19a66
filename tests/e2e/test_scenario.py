"""The demo scenario builder alone (pure, no I/O): every record valid under its type's
rules, in an order where references come first, with what the issue asks the demo to show."""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import Any

from api.demo.scenario import CC_DOWNGRADE, demo_documents, demo_records
from ledger.core.records import validate_record
from ledger.examples import seeded_digest


def test_records_are_valid_and_references_come_first() -> None:
    seen: dict[str, str] = {}

    def digest_of(record: dict[str, Any]) -> str:
        validate_record(record)
        for ref in record["refs"]:
            assert seen.get(ref["id"]) == ref["digest"], (record["id"], ref)
        seen[record["id"]] = seeded_digest(record)
        return seen[record["id"]]

    records = demo_records(digest_of)
    assert list(records) == list(seen)
    assert Counter(r["type"] for r in records.values()) == {
        "factor-set": 6, "region-rule": 3, "rating-rule": 1, "carbon-record": 3,
        "bim-archive": 8, "factor-substitution": 3, "credit-change": 3,
    }  # fmt: skip


def test_downgrade_and_documents() -> None:
    records = demo_records(seeded_digest)
    downgrade = records[CC_DOWNGRADE]["body"]
    assert (downgrade["previous_grade"], downgrade["grade"]) == ("AA", "A")
    assert downgrade["reason"]["code"] == "violation-found"
    docs = demo_documents()
    hashes = {
        d["sha256"]
        for r in records.values()
        if r["type"] == "bim-archive"
        for d in r["body"]["documents"]
    }
    assert {hashlib.sha256(content).hexdigest() for content in docs.values()} <= hashes
