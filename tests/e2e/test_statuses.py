"""Record statuses over the real processes of ``carbonledger up``: a revocation requested
through the API reaches the chain and flips the status and the pages; attestations filed
with ``carbon-verify attest`` are read back from the chain (nothing stays pending once
mined).

Runs after tests/e2e/test_pipeline.py (file order): the record revoked here is one this
module submits, so the demo's bundle and trail stay as the other modules expect."""

from __future__ import annotations

import hashlib
import time
from typing import Any

import httpx
import pytest

from ledger.core.bundle import parse_bundle
from ledger.core.view import reconstruct
from tests.e2e.conftest import DemoRun
from tests.e2e.test_pipeline import _client, _new_archive_entries, _wait_anchored

pytestmark = [pytest.mark.anvil, pytest.mark.slow]


def _until(check: Any, timeout_s: float = 90.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, "not reached in time"
        time.sleep(0.3)


def test_a_revocation_through_the_api_reaches_the_chain_the_status_and_the_pages(
    demo_service: DemoRun,
) -> None:
    (record,) = _new_archive_entries(demo_service, 1)
    with _client(demo_service, "demo-plant-mes", "example-plant-mes.pem") as plant:
        receipt = plant.submit(record)
        _wait_anchored(plant, [record["id"]])
        reason_digest = hashlib.sha256(b"entered twice by the MES").hexdigest()
        asked = plant.http.post(
            "/v1/revocations",
            json={"record_id": record["id"], "reason_code": 3, "reason_digest": reason_digest},
        )
        assert asked.status_code == 202, asked.text
        assert asked.json()["revocation"]["state"] == "pending"
        status = _until(lambda: (s := plant.get_status(record["id"]))["state"] == "revoked" and s)
    revocation = status["revocation"]
    assert (revocation["state"], revocation["source"], revocation["reason_code"]) == (
        "mined", "request", 3,
    )  # fmt: skip
    assert revocation["reason"]["en"] == "Withdrawn by its producer"
    assert revocation["block_number"] and revocation["tx_hash"].startswith("0x")
    # The chain holds it, in that block: AnchorRegistry.getRevocation over JSON-RPC.
    onchain = _get_revocation(demo_service, receipt.digest_hex)
    assert onchain == (3, reason_digest, revocation["block_number"])
    # The public page of the record says so, in the reader's language, with the reason.
    url = demo_service.state["api_url"] + "/record"
    page = httpx.get(url, params={"id": record["id"]}, timeout=30)
    assert page.status_code == 200
    assert ">Revoked<" in page.text and "Withdrawn by its producer" in page.text
    page = httpx.get(url, params={"id": record["id"], "lang": "zh"}, timeout=30)
    assert page.status_code == 200
    assert "已撤销" in page.text and "由生产方撤回" in page.text


def _get_revocation(run: DemoRun, digest_hex: str) -> tuple[int, str, int]:
    from eth_utils import keccak

    selector = keccak(text="getRevocation(bytes32)")[:4].hex()
    call = {"to": run.state["anchor_registry"], "data": "0x" + selector + digest_hex}
    answer = httpx.post(
        run.state["rpc_url"],
        json={"jsonrpc": "2.0", "id": 1, "method": "eth_call", "params": [call, "latest"]},
        timeout=30,
    ).json()["result"]
    words = [answer[2 + 64 * i : 2 + 64 * (i + 1)] for i in range(4)]
    return int(words[0], 16), words[1], int(words[2], 16)


def test_attestations_filed_with_carbon_verify_attest_are_read_back_mined(
    demo_service: DemoRun,
) -> None:
    bundle = parse_bundle(demo_service.bundle.read_bytes())
    record_id = str(reconstruct(bundle.items[0].view)["id"])
    url = demo_service.state["api_url"] + "/v1/record/attestations"

    def mined() -> list[dict[str, Any]]:
        answer = httpx.get(url, params={"id": record_id}, timeout=30)  # anyone may read them
        assert answer.status_code == 200, answer.text
        got: list[dict[str, Any]] = answer.json()["items"]
        return got if got and all(a["state"] == "mined" for a in got) else []

    items = _until(mined)
    body = items[0]
    assert body["block_number"] and body["tx_hash"].startswith("0x")
    assert body["body"] and body["body"].startswith("0x") and body["index"] == 0
    assert body["verdict"] in ("conforms", "conforms-with-findings")
