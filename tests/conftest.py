"""Shared pytest configuration.

Chain fixtures (compiled artifacts, py-evm and anvil chains) live in
tests/chainfixtures.py, the throwaway PostgreSQL cluster in tests/pgfixture.py, the
migrated template databases in tests/storefixtures.py, the API's populated ledger in
tests/apifixtures.py; all are loaded for every test module.

The suite runs in parallel (``make test``: pytest-xdist with ``--dist loadscope``): the
workers are handed whole test modules, so a module's tests share its module-scoped
fixtures (a deployed chain, a built venv) and run in the order they are written; the
modules of a directory listed in ``SHARED_DIRECTORIES`` go to one worker together, because
they share a session fixture too costly to build twice. Each worker builds the other
session fixtures (compiled contracts, the API template, the PostgreSQL cluster) once.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

pytest_plugins = [
    "tests.apifixtures",
    "tests.chainfixtures",
    "tests.pgfixture",
    "tests.storefixtures",
]

REPO_ROOT = Path(__file__).resolve().parent.parent
#: The per-test limit of a test marked ``slow`` (pyproject.toml sets 120 s for the others),
#: unless it names its own with ``pytest.mark.timeout``.
SLOW_TIMEOUT_S = 300
#: Directory -> why its modules run on one worker.
SHARED_DIRECTORIES = {
    "tests/e2e/": "demo_service: the demo run through the real processes",
}
#: Units handed out before all others, longest first: they run long for their number of
#: tests (real processes and real waits), and a long unit started last leaves the other
#: worker idle at the end. The rest follow by number of tests, most first (xdist's order).
FIRST_SCOPES = ("tests/e2e/",)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("slow") and not item.get_closest_marker("timeout"):
            item.add_marker(pytest.mark.timeout(SLOW_TIMEOUT_S))
    _name_each_test_once(items)


def _name_each_test_once(items: list[pytest.Item]) -> None:
    """Gives tests that share a node id one of their own, from their name.

    The schemathesis items (one per operation) all carry the id of the decorated function
    under pytest 9.2, while their names differ. xdist hands out tests by node id: with the
    ids alike, it ran one operation and dropped the others.
    """
    from _pytest.nodeid import coerce_node_id

    counts = Counter(item.nodeid for item in items)
    for item in items:
        if counts[item.nodeid] > 1:
            module = item.nodeid.split("::", 1)[0]
            item._id = coerce_node_id(f"{module}::{item.name}")
    repeated = [nodeid for nodeid, n in Counter(item.nodeid for item in items).items() if n > 1]
    if repeated:
        raise pytest.UsageError(f"tests sharing a node id: {repeated[:3]}")


def scope_of(nodeid: str) -> str:
    """The unit of work a test belongs to: its module, or its directory when listed in
    ``SHARED_DIRECTORIES``."""
    module = nodeid.split("::", 1)[0]
    for directory in SHARED_DIRECTORIES:
        if module.startswith(directory):
            return directory
    return module


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadscope`` with ``scope_of`` as the scope (xdist's group marks cannot
    be used: with pytest 9.2 they no longer reach the scheduler)."""
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ModuleScheduling(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            return scope_of(nodeid)

        def _assign_work_unit(self, node: Any) -> None:
            for scope in reversed(FIRST_SCOPES):
                if scope in self.workqueue:
                    self.workqueue.move_to_end(scope, last=False)
            super()._assign_work_unit(node)

    return ModuleScheduling(config, log)


class WorkerTimes:
    """Seconds spent per xdist worker and per unit of work (setup, call and teardown
    summed), printed at the end of a parallel run to check the balance between workers
    and find the units worth making faster."""

    def __init__(self) -> None:
        self.by_worker: defaultdict[str, float] = defaultdict(float)
        self.tests_by_worker: Counter[str] = Counter()
        self.by_scope: defaultdict[str, float] = defaultdict(float)

    @pytest.hookimpl
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        node = getattr(report, "node", None)
        if node is None:  # not a worker's report: a serial run
            return
        worker = str(node.gateway.id)
        self.by_worker[worker] += report.duration
        self.by_scope[scope_of(report.nodeid)] += report.duration
        if report.when == "call":
            self.tests_by_worker[worker] += 1

    @pytest.hookimpl
    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.by_worker:
            return
        terminalreporter.section("time per worker and slowest units")
        for worker, seconds in sorted(self.by_worker.items()):
            tests = self.tests_by_worker[worker]
            terminalreporter.write_line(f"{worker}: {seconds:.1f} s in {tests} tests")
        slowest = sorted(self.by_scope.items(), key=lambda item: -item[1])[:10]
        for scope, seconds in slowest:
            terminalreporter.write_line(f"{seconds:8.1f} s  {scope}")


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(WorkerTimes(), "carbonledger-worker-times")
