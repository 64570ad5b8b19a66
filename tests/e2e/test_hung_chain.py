"""A chain node that hangs (docs/OPERATIONS.md §2, docs/API.md §6): the service's anvil is
stopped with SIGSTOP, so it keeps its port and its connections and answers nothing.

The defects this stops: ``/readyz`` did not answer within 5 s (it waited for the chain
client's timeouts and retries), and nothing told the operator: no alert, nothing sealed.
Now ``/readyz`` answers 503 within its 2 s budget (the client below gives up after 10 s: a
hang guard, not a timing assertion), the monitor raises ``chain_unresponsive``, and after
SIGCONT the alert closes itself and the service is ready again.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.cli import main
from tests.e2e.conftest import serving

pytestmark = [pytest.mark.anvil, pytest.mark.slow]

#: How long the test's client waits for /readyz before calling the service hung.
READY_GUARD_S = 10.0
WAIT_S = 120.0


def _status(data: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    assert main(["status", "--json", "--data-dir", str(data)]) == 0
    return dict(json.loads(capsys.readouterr().out))


def _until(condition: Any, what: str) -> Any:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"{what} within {WAIT_S} s")


@pytest.fixture
def service(tmp_path: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    with serving(tmp_path / "data") as running:
        yield running


def test_a_hung_node_is_an_alert_and_readyz_answers_within_its_budget(
    service: tuple[Path, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    data, state = service
    api, anvil = state["api_url"], state["chain_pid"]
    with httpx.Client(base_url=api, timeout=READY_GUARD_S) as http:
        assert _until(lambda: http.get("/readyz").status_code == 200, "ready before the hang")
        os.kill(anvil, signal.SIGSTOP)
        try:
            # Until the verdict of before the hang expires (5 s) it is served from the cache;
            # every answer must come within the guard.
            def not_ready() -> httpx.Response | None:
                try:
                    answer = http.get("/readyz")
                except httpx.TimeoutException:
                    pytest.fail(f"/readyz did not answer within {READY_GUARD_S} s")
                return answer if answer.status_code == 503 else None

            ready = _until(not_ready, "/readyz saying the chain does not answer")
            assert "did not answer within" in ready.json()["checks"]["chain"]
            alert = _until(
                lambda: [
                    a for a in _status(data, capsys)["alerts"] if a["kind"] == "chain_unresponsive"
                ],
                "a chain_unresponsive alert",
            )
            assert "did not answer" in alert[0]["message"]
            assert http.get("/healthz").status_code == 200  # the API itself is alive
        finally:
            os.kill(anvil, signal.SIGCONT)
        _until(
            lambda: (
                not any(a["kind"] == "chain_unresponsive" for a in _status(data, capsys)["alerts"])
            ),
            "the alert closed after SIGCONT",
        )
        assert _until(lambda: http.get("/readyz").status_code == 200, "ready again")
        metrics = http.get("/metrics").text
        assert 'carbonledger_chain_errors_total{source="monitor"}' in metrics
    closed = _status(data, capsys)["closed_alerts"]
    assert any(a["kind"] == "chain_unresponsive" for a in closed)
