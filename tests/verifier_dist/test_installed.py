"""The installed verifier on its own: ``--version``, ``python -m verifier``, and a real
bundle verified against the chain that tests/verifier/test_distribution.py starts (it
passes the chain and the bundle in ``CARBON_VERIFY_FIXTURE`` and runs these tests in a
venv holding only the carbon-verify wheel and pytest). Without that fixture the chain
test is skipped; the rest runs anywhere."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import verifier
from ledger.core.bundle import parse_bundle
from ledger.core.canonical import canonicalize
from verifier.cli import main
from verifier.evm.registry import RegistryProver, verify_batch_header
from verifier.evm.rpc import RpcEndpoint

pytestmark = pytest.mark.verifier_dist


@pytest.fixture
def fixture() -> dict[str, Any]:
    path = os.environ.get("CARBON_VERIFY_FIXTURE")
    if not path:
        pytest.skip("needs the chain of tests/verifier/test_distribution.py")
    doc: dict[str, Any] = json.loads(Path(path).read_text())
    return doc


def test_version_names_the_formats(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"carbon-verify {verifier.__version__}"
    assert "carbonledger-bundle/1" in out[1] and "calc/1" in out[1]
    assert "carbonledger-verify-report/1" in out[2]


def test_python_dash_m_verifier() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "verifier", "--version"], capture_output=True, text=True
    )
    assert done.returncode == 0 and done.stdout.startswith("carbon-verify ")


def _pins(f: dict[str, Any]) -> list[str]:
    return ["--rpc", f["rpc"], "--chain-id", str(f["chain_id"]), "--registry", f["registry"]]


def test_bundle_verifies_against_the_chain(
    fixture: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    if fixture.get("installed"):  # the wheel's code, not a checkout on the path
        assert Path(verifier.__file__).resolve().is_relative_to(Path(sys.prefix).resolve())
    assert main(["bundle", fixture["bundle"], *_pins(fixture)]) == 0
    assert "result: VERIFIED" in capsys.readouterr().out


def test_tampered_bundle_fails(
    fixture: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = json.loads(Path(fixture["bundle"]).read_text())
    seq = next(iter(doc["batches"]))
    doc["batches"][seq]["leaf_count"] += 1
    path = tmp_path / "tampered.json"
    path.write_bytes(canonicalize(doc))
    assert main(["bundle", str(path), *_pins(fixture)]) == 1


def test_batches_proven_against_headers(fixture: dict[str, Any]) -> None:
    bundle = parse_bundle(Path(fixture["bundle"]).read_bytes())
    prover = RegistryProver([RpcEndpoint(fixture["rpc"])], registry=fixture["registry"])
    proven = prover.prove_batches({s: h.block_number for s, h in bundle.batches.items()})
    for seq, header in bundle.batches.items():
        verify_batch_header(proven[seq], header, where=f"bundle.batches.{seq}")
