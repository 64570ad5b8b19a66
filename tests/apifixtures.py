"""The populated ledger of the API, page and client suites (pytest plugin, loaded from
tests/conftest.py).

``template`` submits every example record through the API and anchors them on an
in-process chain, once per session (and per xdist worker); ``world`` is a fresh app over a
copy of it for each test. One plugin rather than a fixture per suite: defined in each
suite's conftest, pytest held them as different fixtures and a worker running modules of
several suites built the same template once for each.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from anchoring.chain import MemoryChain
from tests.api.world import Template, World, build_template, open_world


@pytest.fixture(scope="session")
def template(artifacts: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Template]:
    chain = MemoryChain()
    try:
        yield build_template(chain, artifacts, tmp_path_factory.mktemp("api-template"))
    finally:
        chain.close()


@pytest.fixture
def world(template: Template, tmp_path: Path) -> Iterator[World]:
    w = open_world(template, tmp_path / "data")
    try:
        yield w
    finally:
        w.store.close()
