"""The frozen values the store hands out name real columns of the tables they are copied
from (``ledger.store.rows.copy_row`` reads each field by name)."""

from __future__ import annotations

from dataclasses import fields

import pytest

from ledger.store.models import Attestation, Base, Batch, BatchLeaf, ProducerKey, Record, Revocation
from ledger.store.rows import (
    StoredAttestation,
    StoredBatch,
    StoredKey,
    StoredLeaf,
    StoredRecord,
    StoredRevocation,
)


@pytest.mark.parametrize(
    ("value", "model"),
    [
        (StoredRecord, Record),
        (StoredBatch, Batch),
        (StoredLeaf, BatchLeaf),
        (StoredRevocation, Revocation),
        (StoredAttestation, Attestation),
        (StoredKey, ProducerKey),
    ],
)
def test_every_field_is_a_column(value: type, model: type[Base]) -> None:
    columns = set(model.__table__.columns.keys())
    assert {f.name for f in fields(value)} - columns == set()
