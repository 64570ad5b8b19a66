"""Rotating the anchorer's key without downtime (docs/OPERATIONS.md §10): while records keep
arriving, ``anchorer-key rotate`` gives a new key the anchorer's role, the running service
switches to it at a moment with no batch in flight, the old key loses the role, every
request is answered meanwhile and every record is anchored, the later ones by the new key.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_account import Account
from eth_utils import keccak

from anchoring.chain import RpcChain
from anchoring.deployment import load_deployment
from anchoring.toolchain import compile_contracts
from tests.chainfixtures import REPO_ROOT
from tests.e2e.conftest import cli, producer_token, serving
from tests.support import ledgerdata

pytestmark = [pytest.mark.anvil, pytest.mark.slow]


def _until(condition: Any, what: str, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"no {what} within {timeout_s} s"
        time.sleep(0.1)


def test_rotation_while_records_arrive(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    password = tmp_path / "password"
    password.write_text("correct horse\n")
    new = Account.create()
    keystore = tmp_path / "anchorer.json"
    keystore.write_text(json.dumps(Account.encrypt(new.key, "correct horse", iterations=2**10)))
    with serving(tmp_path / "data", "--batch-age-s", "1", "--batch-size", "3") as (data, state):
        common = ("--data-dir", str(data), "--project-root", str(REPO_ROOT))
        token = producer_token(data, tmp_path, capsys)
        old = state["anchorer"]
        answers: list[int] = []
        stop = threading.Event()

        def load() -> None:
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            with httpx.Client(base_url=state["api_url"], timeout=30) as http:
                n = 0
                while not stop.is_set():
                    n += 1
                    rid = ledgerdata.record_id("rotation", n)
                    body = ledgerdata.submission(rid)
                    answer = http.post(
                        "/v1/records", content=body, headers={**headers, "Idempotency-Key": rid}
                    )
                    answers.append(answer.status_code)
                    answers.append(http.get("/readyz").status_code)
                    stop.wait(0.05)  # a steady trickle, not a flood

        writer = threading.Thread(target=load)
        writer.start()
        try:
            _until(lambda: answers.count(201) >= 5, "records flowing before the rotation")
            report = json.loads(cli(capsys, "anchorer-key", "rotate", "--new-keystore",
                                     str(keystore), "--new-password-file", str(password),
                                     "--json", *common))  # fmt: skip
            after = answers.count(201)
            _until(lambda: answers.count(201) >= after + 5, "records flowing after it")
        finally:
            stop.set()
            writer.join()
        assert report["old"] == old and report["new"] == new.address
        assert report["revoked_from_old"] == ["ANCHORER_ROLE", "REVOKER_ROLE"]
        assert json.loads((data / "service-running.json").read_text())["anchorer"] == new.address
        assert set(answers) == {201, 200}, answers  # nothing refused or unavailable meanwhile
        submitted = answers.count(201)
        deadline = time.monotonic() + 120
        status: dict[str, Any] = {}
        while time.monotonic() < deadline:
            status = json.loads(cli(capsys, "status", "--json", *common))
            if status["records"]["anchored"] == submitted:
                break
            time.sleep(0.5)
        assert status["records"]["anchored"] == submitted, status
        # The last batch was anchored by the new key, and the old one lost its roles.
        chain = RpcChain(state["rpc_url"], expected_chain_id=31337, signer=Account.create())
        try:
            tx = chain.w3.eth.get_transaction(status["last_batch"]["tx_hash"])
            assert tx["from"] == new.address
            deployment = load_deployment(data)
            assert deployment is not None
            registry = chain.contract(
                compile_contracts(project_root=REPO_ROOT)["AnchorRegistry"],
                deployment.address_of("AnchorRegistry"),
            )
            role = keccak(text="ANCHORER_ROLE")
            assert chain.call(registry.functions.hasRole(role, new.address))
            assert not chain.call(registry.functions.hasRole(role, old))
        finally:
            chain.close()
        check = json.loads(cli(capsys, "check", "--json", *common))
        assert check["ok"], check
