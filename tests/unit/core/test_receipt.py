"""Receipts (ledger.core.receipt, docs/FORMAT.md §5)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ledger.core.errors import MalformedError, SignatureError, VerificationError
from ledger.core.receipt import Receipt, issue_receipt, receipt_signed_bytes, verify_receipt
from ledger.core.signature import private_key_from_seed, public_key_bytes

# Pure: also run in the verifier's wheel-only venv (tests/verifier/test_distribution.py).
pytestmark = pytest.mark.verifier_dist

DOC = json.loads(
    (Path(__file__).resolve().parents[2] / "vectors" / "receipt" / "receipt.json").read_text()
)
KEY = private_key_from_seed(bytes.fromhex(DOC["seed"]))
PUB = bytes.fromhex(DOC["public_key"])


def _issued() -> Receipt:
    return issue_receipt(
        record_id=DOC["body"]["record_id"],
        digest=bytes.fromhex(DOC["body"]["digest"]),
        accepted_at=datetime(2026, 1, 31, 12, 0, 0, tzinfo=UTC),
        max_merge_delay_s=DOC["max_merge_delay_s"],
        service_key=KEY,
    )


def test_vector_provenance_and_key() -> None:
    assert DOC["description"] and DOC["source"]
    assert public_key_bytes(KEY) == PUB


def test_issued_receipt_matches_reference() -> None:
    receipt = _issued()
    assert receipt.body() == DOC["body"]
    assert receipt_signed_bytes(receipt.body()).hex() == DOC["signed_bytes_hex"]
    assert receipt.signature.hex() == DOC["signature"]
    verify_receipt(receipt, PUB, digest_hex=DOC["body"]["digest"], record_id="rec-2026-0001")


def test_reference_receipt_parses_and_verifies() -> None:
    receipt = Receipt.from_json({**DOC["body"], "signature": DOC["signature"]})
    verify_receipt(receipt, PUB)
    assert receipt.to_json() == {**DOC["body"], "signature": DOC["signature"]}


def test_tampered_receipts_fail() -> None:
    good = _issued().to_json()
    for name, value in [
        ("anchor_by", "2026-01-31T13:00:00Z"),
        ("record_id", "rec-2026-0002"),
        ("digest", "00" * 32),
        ("accepted_at", "2026-01-31T11:59:59Z"),
    ]:
        with pytest.raises(SignatureError):
            verify_receipt(Receipt.from_json({**good, name: value}), PUB)
    other = public_key_bytes(private_key_from_seed(b"\x01" * 32))
    with pytest.raises(SignatureError, match="another service key"):
        verify_receipt(Receipt.from_json(good), other)


def test_receipt_for_another_record_fails() -> None:
    receipt = _issued()
    with pytest.raises(VerificationError):
        verify_receipt(receipt, PUB, digest_hex="11" * 32)
    with pytest.raises(VerificationError):
        verify_receipt(receipt, PUB, record_id="someone-else")


def test_malformed_receipts_name_their_path() -> None:
    good = _issued().to_json()
    cases = [
        ({**good, "format": "carbonledger-receipt/2"}, "receipt.format"),
        ({**good, "accepted_at": "2026-01-31T12:00:00+00:00"}, "receipt.accepted_at"),
        ({**good, "anchor_by": "2026-01-31T11:00:00Z"}, "receipt.anchor_by"),
        ({**good, "digest": "AB" * 32}, "receipt.digest"),
        ({**good, "signature": "00"}, "receipt.signature"),
        ({**good, "record_id": ""}, "receipt.record_id"),
        ({**good, "extra": True}, "receipt"),
    ]
    for obj, path in cases:
        with pytest.raises(MalformedError) as info:
            Receipt.from_json(obj)
        assert info.value.path == path


def test_issue_refuses_bad_inputs() -> None:
    with pytest.raises(MalformedError):
        issue_receipt(
            record_id="r",
            digest=b"\x00" * 31,
            accepted_at=datetime.now(UTC),
            max_merge_delay_s=1,
            service_key=KEY,
        )
    with pytest.raises(MalformedError):
        issue_receipt(
            record_id="r",
            digest=b"\x00" * 32,
            accepted_at=datetime(2026, 1, 1),
            max_merge_delay_s=1,
            service_key=KEY,
        )
