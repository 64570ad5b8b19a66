"""Regenerate tests/vectors/signature/readings.json and
tests/vectors/records/valid_meter_reading.json.

Every message and signature is made by tests/js/reference.mjs (op ``reading_sign``): the
message is built there from the reading's content with npm ``canonicalize`` (RFC 8785 by the
RFC's author) and signed by npm ``sm-crypto`` (SM2) or node:crypto (Ed25519), never by the
Python code under test. Run from the repository root:

    .venv/bin/python -m tests.js.make_reading_vectors

SM2 signs with a random k, so each run writes new (equally valid) signatures.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from tests.js.reference import REPO_ROOT, run_reference

VECTORS = REPO_ROOT / "tests" / "vectors"
SOURCE = (
    "messages built by tests/js/reference.mjs op=reading_sign from the content alone "
    "('carbonledger.reading.v1' || 0x00 || npm canonicalize 5.1.0 of the content); "
    "SM2 signatures by npm sm-crypto 0.5.8 with the distinguishing identifier shown, Ed25519 "
    "by node:crypto; negative cases hand-made from the valid ones as each 'how' says"
)


def _key(name: str) -> str:
    return hashlib.sha256(f"carbonledger-reading-vector/{name}".encode()).hexdigest()


GRID = {
    "terminal": "88.118.8/TM-GRID-01",
    "metering_point": "88.118.8/MP-GRID-01",
    "field": "electricity_import",
    "unit": "kWh",
}
GAS = {
    "terminal": "88.118.8/燃气表-02",
    "metering_point": "1.2.156.3001.7.2",
    "field": "natural_gas",
    "unit": "GJ",
}
PV = {
    "terminal": "10012345678900077",
    "metering_point": "10012345678900078",
    "field": "pv_generation",
    "unit": "kWh",
}


def _content(base: dict[str, str], start: str, end: str, quantity: str) -> dict[str, str]:
    return {**base, "start": start, "end": end, "quantity": quantity}


def _sign(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    answers = run_reference({"op": "reading_sign", "items": items})
    out = []
    for item, answer in zip(items, answers, strict=True):
        case = {"content": item["content"], "alg": answer["alg"], "message": answer["message"]}
        if answer["alg"] == "sm2-sm3":
            case |= {"private_key": item["private_key"], "distinguishing_id": item["user_id"]}
        else:
            case |= {"seed": item["seed"]}
        case |= {"public_key": answer["public_key"], "signature": answer["signature"]}
        out.append(case)
    return out


def make() -> None:
    grid_readings = [
        ("2025-12-31T16:00:00Z", "2025-12-31T17:00:00Z", "182.5"),
        ("2025-12-31T17:00:00Z", "2025-12-31T18:00:00Z", "183.25"),
        ("2025-12-31T18:00:00Z", "2025-12-31T20:00:00Z", "366.0"),
    ]
    items: list[dict[str, Any]] = [
        {
            "content": _content(GRID, *r),
            "private_key": _key("grid"),
            "user_id": GRID["terminal"],
        }
        for r in grid_readings
    ]
    items.append(
        {
            "content": _content(GAS, "2026-01-01T00:00:00Z", "2026-01-01T01:00:00Z", "3.15"),
            "private_key": _key("gas"),
            "user_id": GAS["terminal"],
        }
    )
    items.append(
        {
            "content": _content(PV, "2026-01-01T04:00:00Z", "2026-01-01T05:00:00Z", "78.3"),
            "seed": _key("pv"),
        }
    )
    valid = _sign(items)
    grid = valid[0]
    # The same key signing under the record tag instead: a record signature must never
    # pass as a reading signature.
    record_tag = run_reference(
        {
            "op": "sm2_sign",
            "items": [
                {
                    "private_key": grid["private_key"],
                    "user_id": grid["distinguishing_id"],
                    "message": grid["message"].replace(
                        b"carbonledger.reading.v1".hex(), b"carbonledger.sig.v1".hex()
                    ),
                }
            ],
        }
    )[0]["signature"]
    negative = [
        ("quantity_altered", "quantity 182.5 -> 182.6, signature kept", {"quantity": "182.6"}),
        (
            "quantity_respelled",
            "quantity 182.5 -> 182.50: the same number, other bytes; the signature covers bytes",
            {"quantity": "182.50"},
        ),
        (
            "reading_moved_to_other_metering_point",
            "metering_point changed to the PV meter's, signature kept",
            {"metering_point": "88.118.8/MP-PV-01"},
        ),
        (
            "interval_shifted",
            "start and end one hour later, signature kept",
            {"start": "2025-12-31T17:00:00Z", "end": "2025-12-31T18:00:00Z"},
        ),
        (
            "other_terminal_claimed",
            "terminal changed to another terminal's identifier, signature kept",
            {"terminal": "88.118.8/TM-GRID-02"},
        ),
    ]
    cases = [
        {
            "name": name,
            "how": how,
            "alg": grid["alg"],
            "content": {**grid["content"], **change},
            "public_key": grid["public_key"],
            "distinguishing_id": grid["distinguishing_id"],
            "signature": grid["signature"],
        }
        for name, how, change in negative
    ]
    cases.append(
        {
            "name": "signed_under_other_distinguishing_id",
            "how": "the valid grid reading verified with the default identifier 1234567812345678",
            "alg": grid["alg"],
            "content": grid["content"],
            "public_key": grid["public_key"],
            "distinguishing_id": "1234567812345678",
            "signature": grid["signature"],
        }
    )
    cases.append(
        {
            "name": "record_signature_presented_as_reading",
            "how": "the same key signed 'carbonledger.sig.v1' || 0x00 || the content's JCS",
            "alg": grid["alg"],
            "content": grid["content"],
            "public_key": grid["public_key"],
            "distinguishing_id": grid["distinguishing_id"],
            "signature": record_tag,
        }
    )
    _write(
        VECTORS / "signature" / "readings.json",
        {
            "description": "Terminal signatures of readings (docs/FORMAT.md §3.3): the message "
            "'carbonledger.reading.v1' || 0x00 || JCS(content) and its SM2/SM3 or Ed25519 "
            "signature; negative cases named for the attack",
            "source": SOURCE,
            "valid": valid,
            "negative": cases,
        },
    )
    _write_batch(valid[:3])


def _write_batch(grid: list[dict[str, Any]]) -> None:
    first = grid[0]
    body = {
        "metering_point": GRID["metering_point"],
        "terminal": {
            "id": GRID["terminal"],
            "alg": "sm2-sm3",
            "public_key": first["public_key"],
            "distinguishing_id": first["distinguishing_id"],
        },
        "field": GRID["field"],
        "unit": GRID["unit"],
        "readings": [
            {
                "start": c["content"]["start"],
                "end": c["content"]["end"],
                "quantity": c["content"]["quantity"],
                "signature": c["signature"],
            }
            for c in grid
        ],
    }
    record = {
        "type": "meter-reading",
        "schema_version": "1",
        "id": "urn:carbonledger:meter-reading:mp-grid-01-2026-01-01-part",
        "subject": GRID["metering_point"],
        "issued_at": "2026-01-01T04:05:00Z",
        "producer": "urn:carbonledger:producer:example-plant-edge-gateway",
        "refs": [],
        "body": body,
    }
    _write(
        VECTORS / "records" / "valid_meter_reading.json",
        {
            "description": "A valid meter-reading batch (schema_version 1): three readings of "
            "a grid meter, the third covering two hours after an outage; every reading's "
            "terminal signature verifies",
            "source": "readings and signatures from tests/vectors/signature/readings.json "
            "(" + SOURCE.split(";")[0] + "; SM2 by npm sm-crypto 0.5.8)",
            "record": record,
        },
    )


def _write(path: Any, value: Any) -> None:
    text = json.dumps(value, indent=1, ensure_ascii=False) + "\n"
    path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    make()
