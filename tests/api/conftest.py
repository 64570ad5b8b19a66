"""Fixtures of the API suite: the populated template (once per session) and a fresh app
over a copy of it per test."""

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
