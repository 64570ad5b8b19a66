"""Fixtures shared by the core tests: the example records with the cross-border ones
(ledger.examples.crossborder), raw and validated, built once per session."""

from __future__ import annotations

from typing import Any

import pytest

from ledger.core.records import Record, validate_record
from ledger.examples.crossborder import crossborder_records


@pytest.fixture(scope="session")
def xb_raw() -> dict[str, dict[str, Any]]:
    return crossborder_records()


@pytest.fixture(scope="session")
def xb_records(xb_raw: dict[str, dict[str, Any]]) -> dict[str, Record]:
    return {rid: validate_record(r) for rid, r in xb_raw.items()}
