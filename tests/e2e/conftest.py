"""End-to-end fixtures: the real ``carbonledger`` processes on a throwaway data directory.

``demo_service`` runs what ``make run`` runs (``carbonledger up --demo``) as a subprocess:
it starts the service in the background (``up --serve``: anvil, anchorer, API on
127.0.0.1, free ports), loads the scenario through the API, waits for the anchors, exports
the bundle and files the attestation, then exits and leaves the service running. The
tests talk to that service over HTTP and to its chain over JSON-RPC; at the end
``carbonledger down`` stops it and every PID it reported must be gone.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO_ROOT
from tests.support.processes import terminate

CLI = [sys.executable, "-c", "import sys; from api.cli import main; sys.exit(main())"]
#: The promise of the receipts the e2e service gives: short, so the tests check every
#: receipt after its ``anchor_by`` has passed without waiting long.
MAX_MERGE_DELAY_S = 20


def carbonledger(*args: str, timeout_s: float = 300.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout_s,
        check=False,
    )  # fmt: skip


def is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return True


def processes_mentioning(data_dir: Path) -> list[int]:
    """PIDs whose command line names ``data_dir`` (our services and their anvils do)."""
    needle = str(data_dir).encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if needle in (entry / "cmdline").read_bytes() and is_running(int(entry.name)):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def service_state(data_dir: Path) -> dict[str, Any]:
    state: dict[str, Any] = json.loads((data_dir / "service-running.json").read_text())
    return state


def stop_and_check(data_dir: Path, pids: list[int]) -> None:
    """``carbonledger down``, then every PID must be gone (killed by PID if not, and the
    test fails: nothing may be left running)."""
    down = carbonledger("down", "--data-dir", str(data_dir), timeout_s=120)
    deadline = time.monotonic() + 30
    while any(is_running(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [p for p in pids if is_running(p)]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert down.returncode == 0, down.stdout + down.stderr
    assert left == [], f"still running after `carbonledger down`: {left}"
    assert processes_mentioning(data_dir) == []


@dataclass(frozen=True)
class DemoRun:
    data_dir: Path
    result: subprocess.CompletedProcess[str]
    state: dict[str, Any]

    @property
    def bundle(self) -> Path:
        return self.data_dir / "demo" / "bundle.json"

    def pins(self) -> list[str]:
        s = self.state
        return [
            "--rpc", s["rpc_url"], "--chain-id", str(s["chain_id"]),
            "--registry", s["anchor_registry"], "--trust-registry", s["trust_registry"],
        ]  # fmt: skip


def run_demo(data_dir: Path) -> subprocess.CompletedProcess[str]:
    return carbonledger(
        "up", "--demo", "--data-dir", str(data_dir), "--api-port", "0",
        "--max-merge-delay-s", str(MAX_MERGE_DELAY_S),
    )  # fmt: skip


@pytest.fixture(scope="session")
def demo_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoRun]:
    data_dir = tmp_path_factory.mktemp("e2e") / "data"
    result = run_demo(data_dir)
    try:
        state = service_state(data_dir)
    except OSError:
        state = {}
    pids = [p for p in (state.get("pid"), state.get("chain_pid")) if p]
    try:
        assert result.returncode == 0, result.stdout + result.stderr
        yield DemoRun(data_dir, result, state)
    finally:
        stop_and_check(data_dir, pids)


@contextlib.contextmanager
def serving(data: Path, *args: str) -> Iterator[tuple[Path, dict[str, Any]]]:
    """``carbonledger up --serve`` on ``data`` (a free API port) until the block ends; yields
    the data directory and its ``service-running.json``. Whatever happens, the service is
    stopped by PID and its anvil continued if a test stopped it."""
    process = subprocess.Popen(
        [*CLI, "up", "--serve", "--data-dir", str(data), "--api-port", "0", *args],
        cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    state: dict[str, Any] = {}
    try:
        state_file = data / "service-running.json"
        deadline = time.monotonic() + 180
        while not state_file.exists() and process.poll() is None:
            assert time.monotonic() < deadline, "the service did not start within 180 s"
            time.sleep(0.2)
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        state = json.loads(state_file.read_text())
        yield data, state
    finally:
        if state.get("chain_pid") and is_running(state["chain_pid"]):
            os.kill(state["chain_pid"], signal.SIGCONT)
        terminate(process, grace_s=90)


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """``carbonledger ARGV`` in-process; it must exit 0; returns its stdout."""
    from api.cli import main

    code = main(list(argv))
    captured = capsys.readouterr()
    assert code == 0, (argv, captured.err)
    return captured.out


def producer_token(data: Path, work: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """Register tests/support/ledgerdata's producer key with the service of ``data`` (its
    TrustRegistry and store) and give it an API principal; returns its API key."""
    from ledger.service.service_key import write_key_file
    from tests.support import ledgerdata

    common = ("--data-dir", str(data), "--project-root", str(REPO_ROOT))
    key_file = work / "producer.pem"
    write_key_file(key_file, ledgerdata.PRODUCER_KEY)
    cli(capsys, "keys", "create", "--producer", ledgerdata.PRODUCER, "--types", "rating-rule",
        "--out", str(key_file),
        "--valid-from", "2025-01-01T00:00:00Z", *common)  # fmt: skip
    cli(capsys, "principals", "add", "desk", "--role", "producer",
        "--producer", ledgerdata.PRODUCER, "--type", "rating-rule", *common)  # fmt: skip
    return cli(capsys, "principals", "key", "desk", *common).strip().splitlines()[-1]
