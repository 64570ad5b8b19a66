"""Shared pytest configuration.

Chain fixtures (compiled artifacts, py-evm and anvil chains) live in
tests/chainfixtures.py, the throwaway PostgreSQL cluster in tests/pgfixture.py, the
migrated template databases in tests/storefixtures.py; all are loaded for every test
module.

The suite runs in parallel (``make test``: pytest-xdist, ``--dist loadgroup``): tests are
handed out one by one to the workers, except those sharing an expensive fixture wider than
one test, which :func:`pytest_collection_modifyitems` keeps on one worker so the fixture
is built once (see ``_shared_group``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["tests.chainfixtures", "tests.pgfixture", "tests.storefixtures"]

REPO_ROOT = Path(__file__).resolve().parent.parent
#: Session fixtures too costly to build once per worker: every test using one runs on the
#: same worker (each of the others is cheap enough to build on each worker that needs it).
SHARED_SESSION_FIXTURES = ("demo_service",)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


def _shared_group(item: pytest.Item) -> str | None:
    """The xdist group of a test that shares a fixture wider than itself, or None.

    A module- or class-scoped fixture (a deployed chain, a built venv, a browser) is
    built once per module on each worker that runs a test of the module: the module's
    tests stay together. Session fixtures named in ``SHARED_SESSION_FIXTURES`` group
    their users by fixture name.
    """
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return None
    for name in SHARED_SESSION_FIXTURES:
        if name in info.name2fixturedefs:
            return name
    for name in item.fixturenames:  # type: ignore[attr-defined]
        definitions = info.name2fixturedefs.get(name)
        if definitions and definitions[-1].scope in ("module", "class", "package"):
            return item.nodeid.split("::", 1)[0]
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("xdist_group") is not None:
            continue  # the test (or its module) names its group itself
        group = _shared_group(item)
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(group))
