"""The trust root (docs/VERIFY.md §2): ``carbonledger trust-root`` writes the pins of a
deployment into one ``carbonledger-trust-root/1`` file, ``carbon-verify --trust-root`` reads
them (check 3 then PASS or FAIL, never SKIP), options override them, and a wrong version, a
missing pin or conflicting options are one clear line and exit 2."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from anchoring.deployment import save_deployment
from api.cli import main as carbonledger
from ledger.core.errors import MalformedError
from ledger.service.service_key import SERVICE_KEY_FILE, write_key_file
from tests.verifier.support import Ledger
from verifier.cli import main
from verifier.trustroot import TrustRoot, parse_trust_root

GOOD: dict[str, Any] = {
    "format": "carbonledger-trust-root/1",
    "chain_id": 31337,
    "genesis_hash": "0x" + "ab" * 32,
    "anchor_registry": {
        "address": "0x5FbDB2315678afecb367f032d93F642f64180aa3",
        "code_hash": "0x" + "01" * 32,
    },
    "trust_registry": {
        "address": "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
        "code_hash": "0x" + "02" * 32,
    },
    "service_key_id": "cd" * 32,
    "min_depth": 2,
    "rpc": ["http://127.0.0.1:8545"],
}


def _bytes(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc).encode()


def test_a_trust_root_reads_back_what_it_says() -> None:
    root = parse_trust_root(_bytes(GOOD))
    assert root.chain_id == 31337 and root.min_depth == 2 and root.rpc == ("http://127.0.0.1:8545",)
    assert root.anchor_code_hash == "0x" + "01" * 32
    assert TrustRoot.from_json(root.to_json()) == root
    without_rpc = {k: v for k, v in GOOD.items() if k != "rpc"}
    assert parse_trust_root(_bytes(without_rpc)).rpc == ()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format": "carbonledger-trust-root/2"},
         r"trust_root\.format: unsupported trust root version 2"),
        ({"format": "something-else/1"}, "not a carbonledger trust root"),
        ({"service_key_id": None}, r"trust_root: missing member 'service_key_id'"),
        ({"genesis_hash": None}, r"trust_root: missing member 'genesis_hash'"),
        ({"anchor_registry": {"address": GOOD["anchor_registry"]["address"]}},
         r"trust_root\.anchor_registry: missing member 'code_hash'"),
        ({"min_depth": 0}, r"trust_root\.min_depth: expected an integer >= 1"),
        ({"genesis_hash": "0x" + "AB" * 32}, r"trust_root\.genesis_hash: expected lowercase hex"),
        ({"rpc": []}, r"trust_root\.rpc: expected at least one endpoint"),
        ({"rpc": ["ws://127.0.0.1:8546"]}, r"trust_root\.rpc\[0\]: expected an http\(s\) URL"),
        ({"extra": 1}, r"trust_root: unknown member 'extra'"),
    ],
)  # fmt: skip
def test_a_bad_trust_root_is_refused_naming_the_place(change: dict[str, Any], message: str) -> None:
    doc = {**GOOD, **change}
    doc = {k: v for k, v in doc.items() if v is not None}
    with pytest.raises(MalformedError, match=message):
        parse_trust_root(_bytes(doc))


# -- end to end on anvil ---------------------------------------------------------------------


@pytest.fixture
def data_dir(anvil_ledger: Ledger, tmp_path: Path) -> Path:
    """A data directory as `carbonledger up` leaves it: the deployment record and the
    service key."""
    directory = tmp_path / "data"
    directory.mkdir()
    save_deployment(anvil_ledger.deployment, directory)
    write_key_file(directory / SERVICE_KEY_FILE, Ed25519PrivateKey.generate())
    return directory


@pytest.fixture
def trust_root(anvil_ledger: Ledger, data_dir: Path, tmp_path: Path) -> Path:
    path = tmp_path / "trust-root.json"
    url = str(anvil_ledger.chain.rpc_url)
    assert carbonledger(["trust-root", "--data-dir", str(data_dir), "--endpoint", url,
                         "--out", str(path)]) == 0  # fmt: skip
    return path


@pytest.fixture
def bundle(anvil_ledger: Ledger, tmp_path: Path) -> Path:
    path = tmp_path / "bundle.json"
    path.write_bytes(anvil_ledger.bundle_bytes())
    return path


def _report(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(capsys.readouterr().out)
    return report


def _one_line(err: str) -> str:
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    return err.strip()


@pytest.mark.anvil
def test_the_deployment_writes_the_trust_root_and_the_short_command_verifies(
    anvil_ledger: Ledger, trust_root: Path, bundle: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pins = json.loads(trust_root.read_text())
    deployment = anvil_ledger.deployment
    assert pins["chain_id"] == anvil_ledger.chain.chain_id
    assert pins["genesis_hash"] == deployment.genesis_hash_hex
    assert pins["anchor_registry"] == {
        "address": anvil_ledger.anchor_address,
        "code_hash": deployment.contracts["AnchorRegistry"].runtime_code_hash_hex,
    }
    assert pins["rpc"] == [str(anvil_ledger.chain.rpc_url)]
    capsys.readouterr()
    assert main(["bundle", str(bundle), "--trust-root", str(trust_root), "--json"]) == 0
    report = _report(capsys)
    code = [c for c in report["checks"] if c["number"] == 3]
    assert [c["status"] for c in code] == ["PASS"]  # pinned by the trust root: never SKIP
    assert report["pins"]["genesis_hash"] == deployment.genesis_hash_hex
    assert report["pins"]["rpc"] == pins["rpc"]
    assert len(report["pins"]["trust_root_sha256"]) == 64


@pytest.mark.anvil
def test_a_wrong_code_hash_in_the_trust_root_fails_check_3(
    trust_root: Path, bundle: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pins = json.loads(trust_root.read_text())
    pins["trust_registry"]["code_hash"] = "0x" + "99" * 32
    trust_root.write_text(json.dumps(pins))
    assert main(["bundle", str(bundle), "--trust-root", str(trust_root), "--json"]) == 1
    code = [c for c in _report(capsys)["checks"] if c["number"] == 3]
    assert code[0]["status"] == "FAIL" and "0x" + "99" * 32 in code[0]["reason"]


@pytest.mark.anvil
def test_options_override_the_trust_root(
    trust_root: Path, bundle: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A depth no anchor has yet: the option wins over the trust root's 1.
    assert main(["bundle", str(bundle), "--trust-root", str(trust_root), "--min-depth",
                 "100000", "--json"]) == 1  # fmt: skip
    report = _report(capsys)
    assert report["pins"]["min_depth"] == 100000
    assert any("fewer than the required 100000" in c["reason"] for c in report["checks"])
    # Endpoints given as options replace the trust root's list.
    assert main(["bundle", str(bundle), "--trust-root", str(trust_root),
                 "--rpc", "http://127.0.0.1:9", "--json"]) == 3  # fmt: skip
    assert _report(capsys)["pins"]["rpc"] == ["http://127.0.0.1:9"]


@pytest.mark.anvil
@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--chain-id", "1", "--chain-id", "2"], "--chain-id is given twice with different values"),
        (["--chain-id", "5"], r"--chain-id replaces one of the trust root's pins .* --genesis"),
        (["--registry", "0x5FbDB2315678afecb367f032d93F642f64180aa3"],
         "give --trust-registry too, or neither"),
    ],
)  # fmt: skip
def test_conflicting_options_are_one_line_and_exit_2(
    trust_root: Path,
    bundle: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    message: str,
) -> None:
    assert main(["bundle", str(bundle), "--trust-root", str(trust_root), *extra]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    line = _one_line(captured.err)
    assert line.startswith("carbon-verify: ")
    assert re.search(message, line), line


@pytest.mark.anvil
def test_a_bad_trust_root_file_is_one_line_and_exit_2(
    trust_root: Path, bundle: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pins = json.loads(trust_root.read_text())
    pins["format"] = "carbonledger-trust-root/2"
    trust_root.write_text(json.dumps(pins))
    assert main(["bundle", str(bundle), "--trust-root", str(trust_root)]) == 2
    assert "unsupported trust root version 2" in _one_line(capsys.readouterr().err)
    del pins["service_key_id"]
    pins["format"] = "carbonledger-trust-root/1"
    trust_root.write_text(json.dumps(pins))
    assert main(["bundle", str(bundle), "--trust-root", str(trust_root), "--json"]) == 2
    captured = capsys.readouterr()
    assert "missing member 'service_key_id'" in _one_line(captured.err)
    assert json.loads(captured.out)["result"] == "unreadable"


def test_without_a_trust_root_the_three_pins_are_required(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "b.json"
    path.write_bytes(b"{}")
    assert main(["bundle", str(path), "--rpc", "http://127.0.0.1:9"]) == 2
    line = _one_line(capsys.readouterr().err)
    assert "no --chain-id, --registry given: pass --trust-root FILE" in line
