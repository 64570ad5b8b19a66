"""Chain fixtures shared by every test package (loaded from tests/conftest.py).

- ``artifacts``: the contracts compiled once per session by anchoring.toolchain
  (cached in the build directory while sources are unchanged).
- ``memory_chain``: a fresh in-process py-evm chain per test.
- ``anvil_chain``: a fresh anvil per test, state in the test's tmp_path,
  stopped by PID afterwards (marker ``anvil``).
- ``any_chain``: the same test on both, parametrized ``memory`` / ``anvil``.
- ``anvil_path``: the anvil binary from node_modules (the test is skipped with
  the fix when it is missing).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from anchoring.chain import Chain, DevChain, MemoryChain, default_anvil_path

if TYPE_CHECKING:
    from anchoring.toolchain import ContractArtifact

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def artifacts() -> dict[str, ContractArtifact]:
    from anchoring.toolchain import compile_contracts

    return compile_contracts(project_root=REPO_ROOT)


@pytest.fixture(scope="session")
def anvil_path() -> Path:
    path = default_anvil_path(REPO_ROOT)
    if not path.is_file():
        pytest.skip(f"anvil binary missing at {path}: run `npm ci`")
    return path


@pytest.fixture
def memory_chain() -> Iterator[MemoryChain]:
    chain = MemoryChain()
    try:
        yield chain
    finally:
        chain.close()


@pytest.fixture
def anvil_chain(tmp_path: Path, anvil_path: Path) -> Iterator[DevChain]:
    chain = DevChain.start(data_dir=tmp_path / "anvil", anvil_path=anvil_path)
    try:
        yield chain
    finally:
        chain.stop()


@pytest.fixture(params=["memory", pytest.param("anvil", marks=pytest.mark.anvil)])
def any_chain(request: pytest.FixtureRequest) -> Chain:
    fixture = "memory_chain" if request.param == "memory" else "anvil_chain"
    chain: Chain = request.getfixturevalue(fixture)
    return chain
