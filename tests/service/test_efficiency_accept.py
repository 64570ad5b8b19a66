"""The carbon-efficiency reference data through the accept path, and meter readings refused
until terminal keys are registered (docs/RECORDS.md §3.9-§3.12)."""

from __future__ import annotations

from typing import Any

import pytest

from ledger.core.signature import key_id, public_key_bytes
from ledger.core.view import Commitment, commit
from ledger.examples import efficiency as ex
from ledger.examples import factors as ref
from ledger.service import LedgerService, RefusedRecordError
from ledger.store import Store
from ledger.store.producers import add_producer, add_producer_key, grant_key_type
from tests.service.conftest import KEYS_FROM, PRODUCER_KEYS, dump, seeded_key, submission

EDGE_KEY = seeded_key(ex.PRODUCER_METERING)


@pytest.fixture
def plant() -> tuple[list[str], dict[str, Commitment]]:
    commitments: dict[str, Commitment] = {}

    def digest_of(record: dict[str, Any]) -> str:
        commitments[record["id"]] = commit(record)
        return commitments[record["id"]].digest_hex

    order = list(ex.efficiency_example_records(digest_of, days=1))
    return order, commitments


def test_reference_data_accepted_and_readings_refused(
    service: LedgerService, store: Store, plant: tuple[list[str], dict[str, Commitment]]
) -> None:
    order, commitments = plant
    with store.transaction() as session:
        add_producer(session, ex.PRODUCER_METERING, created_at=KEYS_FROM)
        add_producer_key(
            session,
            producer=ex.PRODUCER_METERING,
            public_key_hex=EDGE_KEY.public_key().public_bytes_raw().hex(),
            valid_from=KEYS_FROM,
            record_types=("metadata-template", "meter-reading"),
        )
        desk = key_id(public_key_bytes(PRODUCER_KEYS[ref.PRODUCER_REFDATA]))
        for rtype in ("metadata-template", "industry-benchmark", "efficiency-grading-rule"):
            grant_key_type(session, desk, rtype, granted_at=KEYS_FROM)
    for rid in order:
        c = commitments[rid]
        if c.record["type"] == "meter-reading":
            break
        key = EDGE_KEY if c.record["producer"] == ex.PRODUCER_METERING else None
        receipt = service.accept(submission(c, key))
        assert receipt.record_id == rid
    batch = next(c for c in commitments.values() if c.record["type"] == "meter-reading")
    before = dump(store)
    with pytest.raises(RefusedRecordError) as info:
        service.accept(submission(batch, EDGE_KEY))
    assert info.value.field == "type"
    assert "terminals whose keys the TrustRegistry holds" in str(info.value)
    assert dump(store) == before
