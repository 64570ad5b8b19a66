"""The genesis pin (docs/VERIFY.md §2, check 2): two dev chains have the same chain id and,
deployed by the same account, the same registry addresses, so a bundle anchored on a
second chain verifies against it with the first chain's chain id and address pins. The
hash of block 0 tells them apart: ``--genesis`` of the first chain FAILs the second."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from anchoring.chain import DevChain
from tests.verifier.support import Ledger, build_ledger
from tests.verifier.test_cli import args_for
from verifier.cli import main

pytestmark = pytest.mark.anvil


@pytest.fixture(scope="module")
def second_ledger(
    artifacts: dict[str, Any], anvil_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Ledger]:
    chain = DevChain.start(data_dir=tmp_path_factory.mktemp("anvil-2"), anvil_path=anvil_path)
    try:
        yield build_ledger(chain, artifacts)
    finally:
        chain.stop()


def _genesis(ledger: Ledger) -> str:
    return "0x" + bytes(ledger.chain.w3.eth.get_block(0)["hash"]).hex()


def test_a_bundle_from_a_second_dev_chain_fails_the_genesis_pin(
    anvil_ledger: Ledger,
    second_ledger: Ledger,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    first, second = anvil_ledger, second_ledger
    assert (first.chain.chain_id, first.anchor_address) == (
        second.chain.chain_id,
        second.anchor_address,
    ), "the two dev chains are indistinguishable by chain id and address"
    assert _genesis(first) != _genesis(second), "dev chains must have distinct genesis blocks"
    path = tmp_path / "second.json"
    path.write_bytes(second.bundle_bytes())
    # The first chain's pins, the second chain's node: the addresses agree, so without the
    # genesis pin the bundle verifies ...
    assert main(args_for(first, path, rpc=str(second.chain.rpc_url))) == 0
    capsys.readouterr()
    # ... and with it, check 2 fails.
    pinned = args_for(first, path, "--genesis", _genesis(first), "--json")
    assert main([*pinned[:3], str(second.chain.rpc_url), *pinned[4:]]) == 1
    report = json.loads(capsys.readouterr().out)
    chain_check = next(c for c in report["checks"] if c["number"] == 2)
    assert chain_check["status"] == "FAIL"
    assert "another chain with the same chain id" in chain_check["reason"]
    assert report["pins"]["genesis_hash"] == _genesis(first)
    # The second chain's own genesis pin passes.
    assert main(args_for(second, path, "--genesis", _genesis(second))) == 0
    assert "genesis as pinned" in capsys.readouterr().out
