"""The supervisor of ``carbonledger serve --workers 2`` (no chain: the API alone): what the
workers count is summed on every worker's ``/metrics``; a worker that cannot start stops the
service with its reason; workers whose supervisor was killed stop on their own."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.chainfixtures import REPO_ROOT
from tests.e2e.conftest import CLI
from tests.e2e.test_workers import worker_pids

pytestmark = [pytest.mark.slow]


def _serve(data: Path, *extra: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARBONLEDGER_")}
    return subprocess.Popen(
        [*CLI, "serve", "--chain", "memory", "--data-dir", str(data), "--bind", "127.0.0.1:0",
         "--workers", "2", *extra],
        cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    service = _serve(tmp_path / "data")
    try:
        assert service.stdout is not None
        url = service.stdout.readline().strip().removesuffix("/v1")
        assert url.startswith("http://"), service.stderr.read() if service.stderr else ""
        yield service, url
    finally:
        if service.poll() is None:
            service.send_signal(signal.SIGTERM)
            try:
                service.wait(60)
            except subprocess.TimeoutExpired:
                service.kill()
                service.wait()


def _healthz_count(text: str) -> float:
    for line in text.splitlines():
        if line.startswith("carbonledger_http_requests_total{") and 'route="/healthz"' in line:
            return float(line.rsplit(" ", 1)[1])
    return 0.0


@pytest.mark.timeout(240)
def test_every_worker_shows_the_requests_of_all(
    served: tuple[subprocess.Popen[str], str],
) -> None:
    service, url = served
    assert len(worker_pids(service.pid)) == 2
    sent = 40
    for _ in range(sent):
        # A connection each: the kernel spreads them over both workers.
        assert httpx.get(f"{url}/healthz", timeout=30).status_code == 200
    # Each scrape is answered by one worker, on a new connection; every one sums both.
    deadline = time.monotonic() + 30
    while True:
        counts = {_healthz_count(httpx.get(f"{url}/metrics", timeout=30).text) for _ in range(6)}
        if counts == {float(sent)} or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert counts == {float(sent)}


@pytest.mark.timeout(240)
def test_workers_stop_when_their_supervisor_is_killed(
    served: tuple[subprocess.Popen[str], str],
) -> None:
    service, url = served
    workers = worker_pids(service.pid)
    assert len(workers) == 2
    service.send_signal(signal.SIGKILL)
    service.wait()
    deadline = time.monotonic() + 30
    while any(Path(f"/proc/{pid}").exists() and not _zombie(pid) for pid in workers):
        assert time.monotonic() < deadline, "a worker outlived its supervisor"
        time.sleep(0.1)
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{url}/healthz", timeout=5)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0] == "Z"
    except OSError:
        return True


@pytest.mark.timeout(240)
def test_a_worker_that_cannot_start_stops_the_service(tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.write_text("not a certificate\n")
    key.write_text("not a key\n")
    env_extra = {"CARBONLEDGER_TLS_CERT_FILE": str(cert), "CARBONLEDGER_TLS_KEY_FILE": str(key)}
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARBONLEDGER_")}
    service = subprocess.Popen(
        [*CLI, "serve", "--chain", "memory", "--data-dir", str(tmp_path / "data"),
         "--bind", "127.0.0.1:0", "--workers", "2"],
        cwd=REPO_ROOT, env=env | env_extra, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    out, err = service.communicate(timeout=200)
    assert service.returncode == 2, err[-2000:]
    assert out == ""
    assert "API worker 0 could not start" in err or "API worker 1 could not start" in err
    assert "SSL" in err or "PEM" in err, err[-2000:]
