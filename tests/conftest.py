"""Shared pytest configuration.

Chain fixtures (compiled artifacts, py-evm and anvil chains) live in
tests/chainfixtures.py, the throwaway PostgreSQL cluster in tests/pgfixture.py; both
are loaded for every test module.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["tests.chainfixtures", "tests.pgfixture"]

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT
