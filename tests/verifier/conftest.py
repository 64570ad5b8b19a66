"""Fixtures of the verifier tests: one anchored ledger per module on py-evm (in-process)
and one on anvil (for the CLI, which only speaks HTTP JSON-RPC)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from anchoring.chain import DevChain, MemoryChain
from tests.verifier.support import Ledger, build_ledger
from verifier.chain import ChainReader
from verifier.model import Pins


@pytest.fixture(scope="module")
def memory_ledger(artifacts: dict[str, Any]) -> Iterator[Ledger]:
    chain = MemoryChain()
    try:
        yield build_ledger(chain, artifacts)
    finally:
        chain.close()


@pytest.fixture(scope="module")
def anvil_ledger(
    artifacts: dict[str, Any], anvil_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Ledger]:
    chain = DevChain.start(data_dir=tmp_path_factory.mktemp("anvil"), anvil_path=anvil_path)
    try:
        yield build_ledger(chain, artifacts)
    finally:
        chain.stop()


def reader_for(ledger: Ledger, *, cache: bool = True) -> ChainReader:
    return ChainReader(
        ledger.chain.w3,
        anchor_registry=ledger.anchor_address,
        trust_registry=ledger.trust_address,
        where=f"the {ledger.chain.kind} chain",
        cache=cache,
    )


def pins_for(ledger: Ledger, **overrides: Any) -> Pins:
    values: dict[str, Any] = {
        "chain_id": ledger.chain.chain_id,
        "anchor_registry": ledger.anchor_address,
        "trust_registry": ledger.trust_address,
    }
    values.update(overrides)
    return Pins(**values)
