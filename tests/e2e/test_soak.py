"""The short soak in every test run (``scripts/soak``, docs/OPERATIONS.md §11): 20 s of mixed
load against the real service and its chain, the service killed with SIGKILL at 6 s and
the chain at 12 s, then the reckoning: nothing acknowledged lost, nothing anchored twice,
no seq gap, every receipt's promise kept, every record read back and verified."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.chainfixtures import REPO_ROOT

pytestmark = [pytest.mark.anvil, pytest.mark.slow]


@pytest.mark.timeout(300)
def test_a_short_soak_with_kills_loses_nothing() -> None:
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / "soak"), "--seconds", "20",
         "--writes", "10", "--reads", "20", "--schedule", "6:service,12:chain", "--json"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=280, check=False,
    )  # fmt: skip
    assert result.stdout.strip(), result.stderr[-3000:]
    report = json.loads(result.stdout)
    assert [e["killed"] for e in report["kills"]["events"]] == ["service", "chain"]
    assert report["acknowledged"] > 0
    assert report["lost"] == 0 and report["digest_differs"] == 0
    assert report["stored"] == report["anchored"] == report["acknowledged"]
    assert report["store_records"] >= report["acknowledged"]
    assert report["receipts_honoured"] == report["acknowledged"]
    assert report["read_back_verified"] == report["acknowledged"]
    assert report["seq_gaps"] == [] and report["check"]["ok"], report["check"]
    assert report["errors"] == 0, report["error_samples"]
    assert report["ok"] and result.returncode == 0
