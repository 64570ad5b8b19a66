"""Producer to auditor over real processes: submit through the API with the producer client,
wait for the service's anchorer, export bundles, verify them against the chain; and every
receipt the service gave is held to its promise."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ledger.client import LedgerClient
from ledger.core.bundle import parse_bundle
from ledger.core.canonical import parse_timestamp
from ledger.core.receipt import Receipt
from ledger.core.signature import key_id
from ledger.core.view import reconstruct
from ledger.service.service_key import load_service_key, read_key_file
from tests.e2e.conftest import MAX_MERGE_DELAY_S, DemoRun
from verifier.cli import main as verify_main

pytestmark = [pytest.mark.anvil, pytest.mark.slow]

PLANT = "urn:carbonledger:producer:example-plant-mes"


def _client(run: DemoRun, principal: str, key_file: str | None = None) -> LedgerClient:
    tokens = json.loads((run.data_dir / "demo" / "credentials.json").read_text())
    key = read_key_file(run.data_dir / "demo" / "keys" / key_file) if key_file else None
    return LedgerClient(
        run.state["api_url"],
        tokens[principal],
        producer_key=key,
        service_key_id=key_id(load_service_key(run.data_dir).private_key),
    )


def _new_archive_entries(run: DemoRun, count: int) -> list[dict[str, Any]]:
    """New inspection entries of the heat exchanger, built from its manufacturing entry
    (same equipment, same carbon-record link) with fresh ids."""
    bundle = parse_bundle(run.bundle.read_bytes())
    wanted = "urn:carbonledger:bim-archive:ti-hx-0042-manufacture-2025-09"
    base = next(r for r in (reconstruct(i.view) for i in bundle.items) if r["id"] == wanted)
    tag = uuid.uuid4().hex[:8]
    out = []
    for n in range(count):
        record = json.loads(json.dumps(base))
        record["id"] = f"urn:carbonledger:bim-archive:ti-hx-0042-inspection-e2e-{tag}-{n}"
        record["issued_at"] = f"2026-05-{10 + n:02d}T08:00:00Z"
        record["body"]["event"] = {
            "kind": "inspection",
            "at": f"2026-05-{9 + n:02d}T08:00:00Z",
            "description": f"Periodic inspection {n}: tube-sheet lining intact",
        }
        out.append(record)
    return out


def _wait_anchored(client: LedgerClient, ids: list[str], timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        waiting = [rid for rid in ids if client.get_status(rid)["anchoring"] != "anchored"]
        if not waiting:
            return
        assert time.monotonic() < deadline, f"not anchored in {timeout_s} s: {waiting}"
        time.sleep(0.3)


def _check_receipt(
    client: LedgerClient, receipt: Receipt, run: DemoRun, tmp_path: Path, capsys: Any
) -> None:
    """The receipt's promise, checked once ``anchor_by`` has passed: the record was
    anchored by then, and its bundle (exported through the API) verifies against the chain."""
    wait_s = (parse_timestamp(receipt.anchor_by) - datetime.now(UTC)).total_seconds()
    if wait_s > 0:
        time.sleep(wait_s + 0.1)
    status = client.get_status(receipt.record_id)
    assert status["digest"] == receipt.digest_hex
    assert status["anchoring"] == "anchored"
    anchored_at: datetime = parse_timestamp(status["batch"]["anchored_at"])
    assert anchored_at <= parse_timestamp(receipt.anchor_by)
    delay_s = (parse_timestamp(receipt.anchor_by) - parse_timestamp(receipt.accepted_at)).seconds
    assert delay_s == MAX_MERGE_DELAY_S
    response = client.http.get("/v1/record/bundle", params={"id": receipt.record_id})
    assert response.status_code == 200, response.text
    path = tmp_path / "record-bundle.json"
    path.write_bytes(response.content)
    item = parse_bundle(response.content).items[0]
    assert item.digest.hex() == receipt.digest_hex
    code = verify_main(["bundle", str(path), *run.pins()])
    out = capsys.readouterr().out
    assert code == 0, out


def test_submit_wait_export_verify(
    demo_service: DemoRun, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    records = _new_archive_entries(demo_service, 3)
    with _client(demo_service, "demo-plant-mes", "example-plant-mes.pem") as plant:
        receipts = [plant.submit(records[0]), *plant.submit_bulk(records[1:])]
        ids = [r["id"] for r in records]
        _wait_anchored(plant, ids)
        for receipt in receipts:
            _check_receipt(plant, receipt, demo_service, tmp_path, capsys)
        # The subject's trail bundle holds the new entries with the demo's records.
        response = plant.http.get(
            "/v1/trail/bundle", params={"subject": "88.118.8/TI-HX-0042", "limit": 200}
        )
        assert response.status_code == 200
        trail = tmp_path / "trail.json"
        trail.write_bytes(response.content)
        in_trail = {i.digest.hex() for i in parse_bundle(response.content).items}
        assert {r.digest_hex for r in receipts} <= in_trail
        assert verify_main(["bundle", str(trail), *demo_service.pins()]) == 0, capsys.readouterr()


def test_every_demo_receipt_keeps_its_promise(
    demo_service: DemoRun, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = parse_bundle(demo_service.bundle.read_bytes())
    ids = [str(reconstruct(i.view)["id"]) for i in bundle.items]
    with _client(demo_service, "demo-verification-body") as auditor:
        for rid in ids:
            receipt = auditor.get_receipt(rid)  # signed by the service key, checked
            _check_receipt(auditor, receipt, demo_service, tmp_path, capsys)
