"""``carbonledger up --serve`` in the foreground: it serves until SIGTERM, then stops
everything it started (API, anchorer, its anvil by PID), and refuses a second service on
the same data directory."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO_ROOT
from tests.e2e.conftest import CLI, carbonledger, is_running, processes_mentioning

pytestmark = [pytest.mark.anvil, pytest.mark.slow]


def test_serve_until_sigterm_then_stop_everything(tmp_path: Path) -> None:
    data = tmp_path / "data"
    service = subprocess.Popen(
        [*CLI, "up", "--serve", "--data-dir", str(data), "--api-port", "0"],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    chain_pid = None
    try:
        state_file = data / "service-running.json"
        deadline = time.monotonic() + 120
        while not state_file.exists():
            assert service.poll() is None, service.communicate()
            assert time.monotonic() < deadline, "the service did not start"
            time.sleep(0.2)
        state = json.loads(state_file.read_text())
        chain_pid = state["chain_pid"]
        assert state["pid"] == service.pid and is_running(chain_pid)
        assert httpx.get(f"{state['api_url']}/healthz").json() == {"status": "ok"}
        info = httpx.get(f"{state['api_url']}/v1/service").json()
        assert info["chain"]["chain_id"] == 31337
        assert info["chain"]["anchor_registry"] == state["anchor_registry"]

        second = carbonledger("up", "--serve", "--data-dir", str(data), "--api-port", "0")
        assert second.returncode == 2, second.stderr
        assert "already runs" in second.stderr and "carbonledger down" in second.stderr

        service.send_signal(signal.SIGTERM)
        out, err = service.communicate(timeout=60)
        assert service.returncode == 0, err
        assert state["api_url"] in out
    finally:
        if service.poll() is None:
            service.kill()
            service.wait()
    assert not is_running(chain_pid), "anvil outlived the service"
    assert not (data / "service-running.json").exists()
    assert (data / "anvil-state.json").is_file()  # anvil stopped by SIGTERM wrote its state
    assert processes_mentioning(data) == []
