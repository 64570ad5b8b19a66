"""Readings signed at the terminal (ledger.core.readings, docs/FORMAT.md §3.3): the signed
bytes and signatures of tests/vectors/signature/readings.json (made by sm-crypto and
node:crypto), and a batch whose readings are altered after signing."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from ledger.core import keys, sm2
from ledger.core.errors import SignatureError
from ledger.core.readings import (
    reading_content,
    reading_message,
    sign_reading,
    verify_readings,
)
from ledger.core.records import Record, validate_record
from ledger.examples.efficiency import terminals

VECTORS = Path(__file__).resolve().parents[2] / "vectors"
READINGS = json.loads((VECTORS / "signature" / "readings.json").read_text(encoding="utf-8"))
BATCH = json.loads((VECTORS / "records" / "valid_meter_reading.json").read_text(encoding="utf-8"))


def _key(case: dict[str, Any]) -> keys.PublicKey:
    ident = case.get("distinguishing_id")
    return keys.public_key(
        case["alg"],
        bytes.fromhex(case["public_key"]),
        distinguishing_id=None if ident is None else ident.encode("utf-8"),
    )


@pytest.mark.parametrize("case", READINGS["valid"], ids=lambda c: c["content"]["terminal"])
def test_message_and_signature_of_the_reference(case: dict[str, Any]) -> None:
    assert reading_message(case["content"]).hex() == case["message"]
    _key(case).verify(bytes.fromhex(case["message"]), bytes.fromhex(case["signature"]))


@pytest.mark.parametrize("case", READINGS["negative"], ids=lambda c: c["name"])
def test_negative_reading_signature_refused(case: dict[str, Any]) -> None:
    with pytest.raises(SignatureError):
        _key(case).verify(reading_message(case["content"]), bytes.fromhex(case["signature"]))


def _batch(mutate: Any = None) -> Record:
    raw = copy.deepcopy(BATCH["record"])
    if mutate is not None:
        mutate(raw)
    return validate_record(raw)


def test_batch_of_reference_signatures_verifies() -> None:
    verify_readings(_batch())


@pytest.mark.parametrize(
    ("name", "mutate", "index"),
    [
        ("quantity_altered", lambda r: r["body"]["readings"][1].update(quantity="183.26"), 1),
        ("end_extended", lambda r: r["body"]["readings"][2].update(end="2025-12-31T21:00:00Z"), 2),
        ("signatures_swapped", lambda r: _swap(r["body"]["readings"]), 0),
        ("unit_changed", lambda r: r["body"].update(unit="MWh"), 0),
        ("field_changed", lambda r: r["body"].update(field="pv_generation"), 0),
    ],
)
def test_altered_batch_names_the_reading(name: str, mutate: Any, index: int) -> None:
    with pytest.raises(SignatureError) as info:
        verify_readings(_batch(mutate))
    assert info.value.message.startswith(f"body.readings[{index}].signature: ")


def _swap(readings: list[dict[str, str]]) -> None:
    readings[0]["signature"], readings[1]["signature"] = (
        readings[1]["signature"],
        readings[0]["signature"],
    )


def test_registered_key_must_be_the_stated_key() -> None:
    record = _batch()
    stated = _key({**BATCH["record"]["body"]["terminal"]})
    verify_readings(record, key=stated)
    other = keys.public_key(
        keys.ALG_SM2_SM3, stated.raw, distinguishing_id=sm2.DEFAULT_DISTINGUISHING_ID
    )
    with pytest.raises(SignatureError) as info:
        verify_readings(record, key=other)
    assert info.value.message.startswith("body.terminal: ")


@pytest.mark.parametrize("terminal", terminals(), ids=lambda t: t.id)
def test_signed_here_verifies_here(terminal: Any) -> None:
    body = {
        "metering_point": terminal.metering_point,
        "terminal": {"id": terminal.id},
        "field": terminal.field,
        "unit": terminal.unit,
    }
    reading = {"start": "2026-01-01T00:00:00Z", "end": "2026-01-01T01:00:00Z", "quantity": "1"}
    content = reading_content(body, reading)
    signature = bytes.fromhex(sign_reading(terminal.key, content))
    public = keys.public_key_of(terminal.key)
    public.verify(reading_message(content), signature)
    with pytest.raises(SignatureError):
        public.verify(reading_message({**content, "quantity": "2"}), signature)
