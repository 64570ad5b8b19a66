"""Fixtures of the contract tests: both registries deployed once per module and chain, and
restored to that baseline by a chain snapshot around every test.

The shared ``any_chain`` fixture starts a fresh chain per test; deploying two registries and
granting roles on a fresh anvil for each of the few hundred cases here would take minutes, so
this package keeps one chain of each kind per module (built from the same classes and the
shared ``artifacts`` / ``anvil_path`` fixtures) and reverts to a snapshot instead. Every test
still starts from the same state and leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from anchoring.chain import Chain, DevChain, MemoryChain
from tests.contracts.support import Registries, deploy_registries


@pytest.fixture(scope="module", params=["memory", pytest.param("anvil", marks=pytest.mark.anvil)])
def registry_chain(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Chain]:
    chain: Chain
    if request.param == "memory":
        chain = MemoryChain()
    else:
        anvil_path: Path = request.getfixturevalue("anvil_path")
        chain = DevChain.start(data_dir=tmp_path_factory.mktemp("anvil"), anvil_path=anvil_path)
    try:
        yield chain
    finally:
        chain.close()


@pytest.fixture(scope="module")
def deployed(registry_chain: Chain, artifacts: dict[str, Any]) -> Registries:
    return deploy_registries(registry_chain, artifacts)


@pytest.fixture
def reg(deployed: Registries) -> Iterator[Registries]:
    """The deployed registries at their baseline; whatever the test does is reverted."""
    snapshot = deployed.chain.snapshot()
    try:
        yield deployed
    finally:
        deployed.chain.revert(snapshot)
