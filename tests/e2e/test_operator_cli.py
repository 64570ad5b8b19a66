"""One operator CLI (docs/OPERATIONS.md §3): every command finds the running service of its
data directory and uses its chain, options go before or after the command, setup errors
are one sentence and exit 2.

The defects these stop: ``keys create`` without ``--rpc``, while the service ran, started a
second anvil on the same state file, registered the key on that fork and recorded a
transaction the service's chain never saw; ``status`` and ``check`` did not find the
running service's RPC; ``principals`` wanted ``--data-dir`` before its action and ``keys``
after; ``status`` on a missing data directory exited 1 with "open it with create=True".
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account

from anchoring.chain import RpcChain
from api.cli import main
from ledger.core.signature import key_id, public_key_bytes
from ledger.service.service_key import read_key_file
from tests.chainfixtures import REPO_ROOT
from tests.e2e.conftest import processes_mentioning, serving

pytestmark = [pytest.mark.anvil, pytest.mark.slow]

PRODUCER = "urn:carbonledger:producer:operator-cli-test"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CARBONLEDGER_RPC_URL", "CARBONLEDGER_CHAIN", "CARBONLEDGER_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, Any]]]:
    with serving(tmp_path_factory.mktemp("operator") / "data") as running:
        yield running


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_keys_create_registers_on_the_running_services_chain(
    service: tuple[Path, dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, state = service
    before = sorted(processes_mentioning(data))
    out_file = tmp_path / "producer.pem"
    code, out, err = _run(
        capsys, "keys", "create", "--producer", PRODUCER, "--types", "rating-rule",
        "--out", str(out_file),
        "--data-dir", str(data), "--project-root", str(REPO_ROOT), "--json",
    )  # fmt: skip
    assert code == 0, err
    assert sorted(processes_mentioning(data)) == before  # no second anvil
    report = json.loads(out)
    (key,) = report["keys"]
    private = read_key_file(out_file)
    assert key["key_id"] == key_id(private)
    # The service's own chain has the key, and the recorded transaction is on it.
    chain = RpcChain(state["rpc_url"], expected_chain_id=state["chain_id"], signer=Account.create())
    try:
        receipt = chain.w3.eth.get_transaction_receipt(key["registered_tx"])
        assert receipt["status"] == 1
        from anchoring.toolchain import compile_contracts

        trust = chain.contract(
            compile_contracts(project_root=REPO_ROOT)["TrustRegistry"], state["trust_registry"]
        )
        registered = chain.call(trust.functions.getKey(bytes.fromhex(key["key_id"])))
        assert bytes(registered[0]) == public_key_bytes(private)
        assert bytes(registered[1]) == hashlib.sha256(PRODUCER.encode()).digest()
    finally:
        chain.close()


def test_status_and_check_read_the_running_services_chain(
    service: tuple[Path, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    data, state = service
    code, out, err = _run(capsys, "status", "--json", "--data-dir", str(data))
    assert code == 0, err
    chain = json.loads(out)["chain"]
    assert chain["height"] is not None and chain["chain_id"] == state["chain_id"]
    assert chain["detail"] == state["rpc_url"]
    code, out, err = _run(
        capsys, "--data-dir", str(data), "check", "--json", "--project-root", str(REPO_ROOT)
    )
    report = json.loads(out)
    assert code == 0, (err, out)
    assert report["chain_unavailable"] is False
    assert {c["number"]: c["status"] for c in report["checks"]}[7] != "SKIP"


@pytest.mark.parametrize(
    "argv",
    [
        ("--data-dir", "{data}", "principals", "add", "{name}", "--role", "auditor"),
        ("principals", "--data-dir", "{data}", "add", "{name}", "--role", "auditor"),
        ("principals", "add", "{name}", "--role", "auditor", "--data-dir", "{data}"),
    ],
    ids=["before-the-command", "before-the-action", "after-the-action"],
)
def test_global_options_go_before_or_after(
    argv: tuple[str, ...], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    name = f"p-{len(argv[0])}"
    code, _, err = _run(capsys, *(a.format(data=data, name=name) for a in argv))
    assert code == 0, err
    for listing in (
        ("--data-dir", str(data), "principals", "list", "--json"),
        ("principals", "list", "--json", "--data-dir", str(data)),
        ("keys", "--data-dir", str(data), "list", "--json"),
        ("keys", "list", "--data-dir", str(data), "--json"),
    ):
        code, out, err = _run(capsys, *listing)
        assert code == 0, (listing, err)
    code, out, _ = _run(capsys, "principals", "list", "--json", "--data-dir", str(data))
    assert [p["name"] for p in json.loads(out)["principals"]] == [name]


@pytest.mark.parametrize("command", [("status",), ("check",), ("backup", "out")])
def test_a_missing_data_directory_is_one_sentence_and_exit_2(
    command: tuple[str, ...], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere"
    code, out, err = _run(capsys, *command, "--data-dir", str(missing))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "create=True" not in err
    assert f"no data directory {missing}" in err
