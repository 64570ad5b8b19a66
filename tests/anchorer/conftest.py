"""Fixtures of the anchorer suite (the world they build: tests/support/anchorenv.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from anchoring.chain import Chain, DevChain
from tests.support.anchorenv import Env, make_env


@pytest.fixture
def memory_env(
    memory_chain: Chain, artifacts: Any, tmp_path: Path, sqlite_template: Path
) -> Iterator[Env]:
    yield from make_env(memory_chain, artifacts, tmp_path / "data", store_template=sqlite_template)


@pytest.fixture
def anvil_env(
    anvil_chain: DevChain, artifacts: Any, tmp_path: Path, sqlite_template: Path
) -> Iterator[Env]:
    yield from make_env(anvil_chain, artifacts, tmp_path / "data", store_template=sqlite_template)
