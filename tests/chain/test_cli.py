"""``carbonledger`` up / deploy / chain through ``main([...])``, on real chains."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account

from anchoring.chain import DevChain
from api.cli import main

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith("CARBONLEDGER_"):
            monkeypatch.delenv(name)
    yield


def _processes_mentioning(text: str) -> list[int]:
    """PIDs (other than ours) whose command line contains ``text``: leaked anvils."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if text in cmdline and state != "Z":
            found.append(int(entry.name))
    return found


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(err: str, *fragments: str) -> None:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("carbonledger: error: ")
    for fragment in fragments:
        assert fragment in lines[0]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_help_documents_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--help")
    assert code == 0
    assert "exit codes:" in out and "3  unavailable" in out
    code, _, err = run(capsys, "frobnicate")
    assert code == 2 and "invalid choice" in err


def test_up_on_the_memory_chain(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run(capsys, "up", "--chain", "memory", "--data-dir", str(tmp_path), "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["format"] == "carbonledger-cli-up/2"
    assert report["deployment_created"] is True
    assert set(report["deployment"]["contracts"]) == {"AnchorRegistry", "TrustRegistry"}
    assert list(tmp_path.iterdir()) == []  # a memory chain leaves nothing behind


@pytest.mark.anvil
def test_up_twice_reuses_chain_and_deployment(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = str(tmp_path / "data")
    code, out, err = run(capsys, "up", "--data-dir", data, "--json")
    assert code == 0, err
    first = json.loads(out)
    assert first["deployment_created"] is True
    assert first["chain"]["chain_id"] == 31337
    assert _processes_mentioning(data) == []

    code, out, err = run(capsys, "up", "--data-dir", data, "--json")
    assert code == 0, err
    second = json.loads(out)
    assert second["deployment_created"] is False
    assert second["deployment"] == first["deployment"]
    assert _processes_mentioning(data) == []

    code, out, err = run(capsys, "chain", "--data-dir", data)
    assert code == 0, out + err
    assert " 3  PASS  chain holds the recorded deployment" in out
    # `up --demo`, what `make run` runs, is exercised end to end in tests/e2e/test_demo.py.


@pytest.mark.anvil
def test_reset_chain_is_refused_until_replaced(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = tmp_path / "data"
    code, _, err = run(capsys, "up", "--data-dir", str(data))
    assert code == 0, err
    (data / "anvil-state.json").unlink()

    code, out, _ = run(capsys, "chain", "--data-dir", str(data))
    assert code == 1
    assert " 3  FAIL  chain holds the recorded deployment: " in out
    assert "AnchorRegistry: no code at the recorded address" in out

    code, out, err = run(capsys, "up", "--data-dir", str(data))
    assert code == 1 and out == ""
    assert_one_line_error(
        err, "the chain does not hold the recorded deployment", "no code at the recorded address"
    )
    code, out, err = run(capsys, "deploy", "--data-dir", str(data))
    assert code == 1
    assert_one_line_error(err, "the chain does not hold the recorded deployment")

    code, out, err = run(capsys, "deploy", "--data-dir", str(data), "--replace")
    assert code == 0, err
    assert re.search(r"^deployment +created ", out, re.M) and re.search(r"^archived +", out, re.M)
    assert len(list(data.glob("deployment.*.json"))) == 1
    code, out, err = run(capsys, "up", "--data-dir", str(data), "--json")
    assert code == 0, err
    assert json.loads(out)["deployment_created"] is False  # the replacement made by deploy
    assert _processes_mentioning(str(data)) == []


@pytest.mark.anvil
def test_rpc_with_keystore_and_with_env_key(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    anvil_chain: DevChain,
    tmp_path: Path,
) -> None:
    url = anvil_chain.rpc_url or ""
    operator = anvil_chain.dev_accounts()[4]
    keystore = tmp_path / "key.json"
    keystore.write_text(json.dumps(Account.encrypt(operator.key, "pw", iterations=2**10)))
    password_file = tmp_path / "pw.txt"
    password_file.write_text("pw\n")
    code, out, err = run(
        capsys, "up", "--rpc", url, "--chain-id", "31337", "--data-dir", str(tmp_path / "a"),
        "--keystore", str(keystore), "--password-file", str(password_file), "--json",
    )  # fmt: skip
    assert code == 0, err
    report = json.loads(out)
    assert report["chain"]["kind"] == "rpc"
    assert report["deployment"]["deployer"] == operator.address
    assert report["deployment"]["admin_delay_s"] == 2 * 86_400  # the rpc default

    other = anvil_chain.dev_accounts()[5]
    monkeypatch.setenv("CARBONLEDGER_SIGNER_KEY", "0x" + bytes(other.key).hex())
    monkeypatch.setenv("CARBONLEDGER_RPC_URL", url)
    monkeypatch.setenv("CARBONLEDGER_EXPECTED_CHAIN_ID", "31337")
    code, out, err = run(
        capsys, "up", "--chain", "rpc", "--data-dir", str(tmp_path / "b"), "--json"
    )
    assert code == 0, err
    assert json.loads(out)["deployment"]["deployer"] == other.address


# -- bad input: one line naming cause and fix, a non-zero exit, nothing left running --


def test_unreachable_rpc(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CARBONLEDGER_SIGNER_KEY", bytes(Account.create().key).hex())
    url = f"http://127.0.0.1:{_free_port()}"
    code, out, err = run(
        capsys, "up", "--rpc", url, "--chain-id", "31337", "--data-dir", str(tmp_path)
    )
    assert (code, out) == (3, "")
    assert_one_line_error(err, f"cannot reach the RPC node at {url}", "fix the URL")


@pytest.mark.anvil
def test_wrong_chain_id(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    anvil_chain: DevChain,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("CARBONLEDGER_SIGNER_KEY", bytes(anvil_chain.dev_accounts()[1].key).hex())
    url = anvil_chain.rpc_url or ""
    data = str(tmp_path / "data")
    code, out, err = run(capsys, "up", "--rpc", url, "--chain-id", "5", "--data-dir", data)
    assert (code, out) == (1, "")
    assert_one_line_error(err, "serves chain id 31337, not the expected 5", "--chain-id")


@pytest.mark.anvil
def test_missing_signer_key(
    capsys: pytest.CaptureFixture[str], anvil_chain: DevChain, tmp_path: Path
) -> None:
    url = anvil_chain.rpc_url or ""
    code, _, err = run(
        capsys, "up", "--rpc", url, "--chain-id", "31337", "--data-dir", str(tmp_path / "data")
    )
    assert code == 2
    assert_one_line_error(err, "needs a signer key", "CARBONLEDGER_SIGNER_KEYSTORE")


def test_keystore_with_wrong_password(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    keystore = tmp_path / "key.json"
    keystore.write_text(
        json.dumps(Account.encrypt(Account.create().key, "right", iterations=2**10))
    )
    monkeypatch.setenv("CARBONLEDGER_SIGNER_KEYSTORE", str(keystore))
    monkeypatch.setenv("CARBONLEDGER_SIGNER_PASSWORD", "wrong")
    code, _, err = run(
        capsys,
        "up",
        "--rpc",
        "http://127.0.0.1:1",
        "--chain-id",
        "31337",
        "--data-dir",
        str(tmp_path / "data"),
    )
    assert code == 2
    assert_one_line_error(err, "wrong password", "CARBONLEDGER_SIGNER_PASSWORD")


@pytest.mark.anvil
def test_pinned_port_in_use(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    data = tmp_path / "data"
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, out, err = run(capsys, "up", "--data-dir", str(data), "--port", str(port))
    assert (code, out) == (2, "")
    assert_one_line_error(err, f"port {port} on 127.0.0.1 is already in use", "--port")
    assert _processes_mentioning(str(data)) == []


def test_missing_npm_install(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(REPO_ROOT / "package.json", project / "package.json")
    shutil.copytree(REPO_ROOT / "contracts", project / "contracts")
    code, _, err = run(
        capsys, "up", "--project-root", str(project), "--data-dir", str(tmp_path / "data")
    )
    assert code == 2
    assert_one_line_error(err, "run `npm ci`")
    assert _processes_mentioning(str(tmp_path)) == []


def test_missing_anvil_binary(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CARBONLEDGER_ANVIL_PATH", str(tmp_path / "nowhere" / "anvil"))
    code, _, err = run(capsys, "up", "--data-dir", str(tmp_path / "data"))
    assert code == 2
    assert_one_line_error(err, "the anvil binary is missing", "run `npm ci`")


def test_invalid_setting(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CARBONLEDGER_CONFIRMATIONS", "zero")
    code, _, err = run(capsys, "chain")
    assert code == 2
    assert_one_line_error(err, "invalid setting confirmations (CARBONLEDGER_CONFIRMATIONS)")


# `up --serve` (chain, anchorer and API until SIGTERM) is covered in tests/e2e/test_serve.py.
