"""The chain tests of this directory run inside the wheel-only venv that
tests/verifier/test_distribution.py builds, which passes them a live chain in
``CARBON_VERIFY_FIXTURE``. In the ordinary run that test is what exercises them, so they are
deselected here (not skipped: they do run, once, in the venv they are written for)."""

from __future__ import annotations

import os

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("CARBON_VERIFY_FIXTURE"):
        return
    here = os.path.dirname(__file__)
    chained = [
        item
        for item in items
        if str(item.path).startswith(here) and "fixture" in getattr(item, "fixturenames", ())
    ]
    if chained:
        config.hook.pytest_deselected(items=chained)
        items[:] = [item for item in items if item not in chained]
