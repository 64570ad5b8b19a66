"""``carbonledger up --serve --workers 2``: two API worker processes on one socket, on
SQLite and on PostgreSQL, against a real anvil (the memory chain lives in one process).

Under load from clients in this process (the soak's, docs/OPERATIONS.md §11), one worker is
killed with SIGKILL: the supervisor starts another, the service keeps answering, and every
acknowledged record is stored once, with its receipt's digest, and anchored once (the
soak's reckoning, ``carbonledger check`` included). Then the races between the workers:
the same submission sent at once, many times, under one Idempotency-Key and under
different keys, gives one record and one receipt to every client that got one.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import shutil
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from tests.chainfixtures import REPO_ROOT

pytestmark = [pytest.mark.anvil, pytest.mark.slow]

SCRIPTS = REPO_ROOT / "scripts"
WORKERS = 2


def _soak() -> ModuleType:
    """``scripts/soak`` (a script without ``.py``) and its package ``scripts/soaking``."""
    if str(SCRIPTS) not in sys.path:
        sys.path.insert(0, str(SCRIPTS))
    loader = importlib.machinery.SourceFileLoader("carbonledger_soak", str(SCRIPTS / "soak"))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def worker_pids(pid: int) -> list[int]:
    """The worker processes of the service ``pid``: its children that run spawn's main."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[-1].split()
        if int(fields[1]) == pid and fields[0] != "Z" and b"spawn_main" in cmdline:
            found.append(int(entry.name))
    return sorted(found)


def _poll(what: str, check: Any, *, timeout_s: float) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"{what}: not within {timeout_s} s"
        time.sleep(0.1)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest) -> str | None:
    if request.param == "sqlite":
        return None
    url: str = request.getfixturevalue("pg_database_url")
    return url


@pytest.fixture
def cluster(
    tmp_path: Path, anvil_path: Path, store_url: str | None, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
    soak = _soak()
    from soaking.cluster import Cluster

    class WorkersCluster(Cluster):  # type: ignore[misc]
        def env(self) -> dict[str, str]:
            env: dict[str, str] = super().env()
            env["CARBONLEDGER_WORKERS"] = str(WORKERS)
            return env

        def cli_args(self) -> list[str]:
            args: list[str] = super().cli_args()
            return args + (["--store-url", store_url] if store_url else [])

    # The soak's set-up sets the signer in this process's environment: restored after.
    monkeypatch.setenv("CARBONLEDGER_SIGNER_KEY", "")
    work = tmp_path / "soak"
    work.mkdir()
    running = WorkersCluster(
        root=work, repo=REPO_ROOT, anvil_path=anvil_path, batch_age_s=1.0, max_merge_delay_s=60
    )
    try:
        running.start_chain()
        token, key, pins = soak._setup(running, work)
        running.start_service()
        running.token, running.key, running.pins, running.work = token, key, pins, work
        yield running
    finally:
        running.stop()
        if running.service is not None:
            assert worker_pids(running.service.pid) == [], "a worker outlived the service"
        shutil.rmtree(work / "chain", ignore_errors=True)


@pytest.mark.timeout(420)
def test_a_worker_killed_under_load_loses_nothing_acknowledged(cluster: Any) -> None:
    from soaking.load import Load
    from soaking.reconcile import reconcile, wait_anchored

    service_pid = cluster.service.pid
    workers = _poll("two workers", lambda: len(worker_pids(service_pid)) == WORKERS and
                    worker_pids(service_pid), timeout_s=60)  # fmt: skip
    load = Load(
        api_url=cluster.api_url,
        token=cluster.token,
        producer_key=cluster.key,
        writes_per_s=40,
        reads_per_s=20,
        subject="low-carbon-credit-v1",
        concurrency_s=0.5,
    )
    load.start()
    try:
        _poll("30 acknowledged", lambda: len(load.stats.acknowledged) >= 30, timeout_s=120)
        victim = workers[0]
        os.kill(victim, signal.SIGKILL)
        acknowledged_at_kill = len(load.stats.acknowledged)
        replaced = _poll(
            "the killed worker replaced",
            lambda: (lambda now: len(now) == WORKERS and victim not in now and now)(
                worker_pids(service_pid)
            ),
            timeout_s=60,
        )
        assert workers[1] in replaced  # the other worker served on
        _poll(
            "acknowledgements after the kill",
            lambda: len(load.stats.acknowledged) >= acknowledged_at_kill + 30,
            timeout_s=120,
        )
    finally:
        load.finish()
    stats = load.stats
    assert stats.counts["errors"] == 0, stats.errors[:5]
    assert cluster.service.poll() is None, "the service stopped"
    assert httpx.get(f"{cluster.api_url}/readyz", timeout=10).status_code == 200
    metrics = httpx.get(f"{cluster.api_url}/metrics", timeout=10).text
    assert "carbonledger_http_requests_total{" in metrics

    status = wait_anchored(cluster.cli_args(), timeout_s=180)
    assert status["records"]["pending"] == 0 and status["records"]["batched"] == 0, status
    reckoning = reconcile(
        api_url=cluster.api_url,
        token=cluster.token,
        acknowledged=dict(stats.acknowledged),
        cli_args=cluster.cli_args(),
        pins=cluster.pins,
        work_dir=cluster.work,
    )
    assert reckoning.acknowledged == len(stats.acknowledged) > 60
    assert reckoning.lost == [] and reckoning.digest_differs == []
    assert reckoning.receipts_bad == []
    assert reckoning.stored == reckoning.anchored == reckoning.acknowledged
    assert reckoning.seq_gaps == [] and reckoning.check_ok, reckoning.check_failed
    assert reckoning.read_back == reckoning.acknowledged, reckoning.read_back_failed
    # Every record the store holds was acknowledged (retries stored nothing twice).
    assert reckoning.store_total == reckoning.acknowledged


def _at_once(n: int, send: Any) -> list[httpx.Response]:
    """``send(i)`` from ``n`` threads released together."""
    barrier = threading.Barrier(n)
    answers: list[Any] = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        answers[i] = send(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return answers


@pytest.mark.timeout(300)
def test_the_same_submission_at_once_on_two_workers_is_one_record(cluster: Any) -> None:
    from soaking.load import Load
    from soaking.reconcile import wait_anchored

    from ledger.core.canonical import canonicalize

    load = Load(
        api_url=cluster.api_url, token=cluster.token, producer_key=cluster.key,
        writes_per_s=0, reads_per_s=0, subject="low-carbon-credit-v1",
    )  # fmt: skip
    headers = {"Authorization": f"Bearer {cluster.token}", "Content-Type": "application/json"}
    clients = 12
    with httpx.Client(base_url=cluster.api_url, headers=headers, timeout=60) as http:
        for round_ in range(4):
            record_id = f"urn:carbonledger:rating-rule:low-carbon-credit-v1-race-{round_}"
            body = canonicalize(load.submission(record_id))
            same_key = round_ % 2 == 0

            def send(i: int, body: bytes = body, record_id: str = record_id,
                     same_key: bool = same_key) -> httpx.Response:  # fmt: skip
                key = record_id if same_key else f"{record_id}-client-{i}"
                with httpx.Client(base_url=cluster.api_url, headers=headers, timeout=60) as c:
                    return c.post("/v1/records", content=body, headers={"Idempotency-Key": key})

            answers = _at_once(clients, send)
            codes = sorted(a.status_code for a in answers)
            # A client whose key is still claimed by a twin hears 409 (retry later); every
            # other answer is the one receipt.
            assert set(codes) <= {200, 201, 409}, [(a.status_code, a.text[:200]) for a in answers]
            assert codes.count(409) < clients
            # The same record accepted twice returns the first receipt (docs/API.md §3.1).
            receipts = {a.content for a in answers if a.status_code in (200, 201)}
            assert len(receipts) == 1, receipts
            status = http.get("/v1/record/status", params={"id": record_id})
            assert status.status_code == 200
            assert status.json()["receipt"]["signature"] in receipts.pop().decode()
    status = wait_anchored(cluster.cli_args(), timeout_s=120)
    assert status["records"] == {"pending": 0, "batched": 0, "anchored": 4}, status
    metrics = httpx.get(f"{cluster.api_url}/metrics", timeout=10).text
    accepted = [line for line in metrics.splitlines()
                if line.startswith("carbonledger_records_accepted_total ")]  # fmt: skip
    assert accepted and float(accepted[0].split()[1]) == 4.0, accepted
