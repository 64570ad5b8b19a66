"""Crash tests with real processes.

A runner process (tests/faults/crash_runner.py) accepts records through the real accept
path and anchors them on anvil, then asks for one of them to be revoked, with one crash
point armed: at its second passage (its first, for the revocation's points, which one
revocation passes once) the process SIGKILLs itself (no cleanup, no flush). The test
restarts it unarmed; the restart submits the same records and the same revocation again (a
client retrying), and anchors everything. Then ``carbonledger check`` runs through
``main([...])`` with every receipt the killed process printed: zero acknowledged records
lost, zero batches anchored twice, zero seq gaps; every receipt's record verifies against
the chain; the revocation is on the chain, written by exactly one transaction, none
reverted (nothing sent twice).

The points are enumerated from a run with nothing armed (``CrashPoints.seen``) and must
be exactly ``anchoring.anchorer.CRASH_POINTS`` minus the fee-bump points, which only a
stalled transaction reaches (covered in-process by tests/anchorer).

Besides the named points, the runner is killed by ``strace`` fault injection at the i-th
``fdatasync`` of the process (SQLite WAL + FULL syncs at
every commit, so these are the commit points of accepting, sealing and the outbox). A clean
12-record run makes about 40; the test kills at ``FSYNC_INDICES``, spread over the run
(migrations, accepts, seals, signed transactions, anchors) to keep the suite short;
widen the tuple for a full sweep.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from anchoring.anchorer import CRASH_POINTS
from anchoring.chain import DevChain
from anchoring.deployment import deploy_contracts, save_deployment
from anchoring.registry import Registry
from api.cli import main
from ledger.core.merkle import verify_inclusion
from ledger.core.receipt import Receipt
from ledger.store import Store, sqlite_url
from ledger.store import anchors as txs
from ledger.store import batches as batch_repo
from ledger.store import records as record_repo
from ledger.store.chainfacts import find_revocation
from tests.support import ledgerdata

pytestmark = [pytest.mark.anvil, pytest.mark.slow]

REPO_ROOT = Path(__file__).resolve().parents[2]
RECORDS = 12
REACHED = tuple(p for p in CRASH_POINTS if not p.endswith(".after_replacement_persist"))
REVOKED = 5  # the record the runner asks to revoke, once its records are in
FSYNC_INDICES = (8, 18, 28, 36)


def run_runner(
    data_dir: Path, rpc_url: str, *extra: str, prefix: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*prefix, sys.executable, "-m", "tests.faults.crash_runner", "--data-dir", str(data_dir),
         "--rpc", rpc_url, "--records", str(RECORDS), "--revoke", str(REVOKED), *extra],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def receipts_of(stdout: str) -> list[Receipt]:
    lines = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    return [Receipt.from_json(v) for v in lines if "record_id" in v]


def seen_of(stdout: str) -> set[str]:
    for line in stdout.splitlines():
        if line.startswith('{"seen"'):
            return set(json.loads(line)["seen"])
    raise AssertionError(f"the runner printed no summary: {stdout[-500:]}")


@pytest.fixture
def deployed(anvil_chain: DevChain, artifacts: Any, tmp_path: Path) -> dict[str, Any]:
    data_dir = tmp_path / "data"
    record = deploy_contracts(anvil_chain, artifacts, admin_delay_s=0)
    save_deployment(record, data_dir)
    return {"dir": data_dir, "url": anvil_chain.rpc_url, "deployment": record}


def test_crash_points_are_enumerated_by_a_clean_run(deployed: dict[str, Any]) -> None:
    done = run_runner(deployed["dir"], deployed["url"])
    assert done.returncode == 0, done.stderr[-2000:]
    assert seen_of(done.stdout) == set(REACHED)
    assert len(receipts_of(done.stdout)) == RECORDS


@pytest.mark.parametrize("point", REACHED)
def test_kill_at_each_point_then_restart_loses_nothing(
    point: str, deployed: dict[str, Any], anvil_chain: DevChain, artifacts: Any, tmp_path: Path
) -> None:
    after = "1" if point.startswith("status.") else "2"
    killed = run_runner(deployed["dir"], deployed["url"], "--armed", point, "--after", after)
    restart_and_check(killed, deployed, anvil_chain, artifacts, tmp_path)


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")
@pytest.mark.parametrize("index", FSYNC_INDICES)
def test_kill_at_the_nth_fdatasync_then_restart_loses_nothing(
    index: int, deployed: dict[str, Any], anvil_chain: DevChain, artifacts: Any, tmp_path: Path
) -> None:
    strace = (
        "strace", "-f", "-qq", "-o", str(tmp_path / "strace.log"), "-e", "trace=fdatasync",
        "-e", f"inject=fdatasync:signal=KILL:when={index}",
    )  # fmt: skip
    killed = run_runner(deployed["dir"], deployed["url"], prefix=strace)
    restart_and_check(killed, deployed, anvil_chain, artifacts, tmp_path)


def restart_and_check(
    killed: subprocess.CompletedProcess[str],
    deployed: dict[str, Any],
    anvil_chain: DevChain,
    artifacts: Any,
    tmp_path: Path,
) -> None:
    data_dir, url = deployed["dir"], deployed["url"]
    assert killed.returncode == -signal.SIGKILL, (killed.returncode, killed.stderr[-2000:])
    given = receipts_of(killed.stdout)
    restarted = run_runner(data_dir, url)
    assert restarted.returncode == 0, restarted.stderr[-2000:]
    again = {r.record_id: r for r in receipts_of(restarted.stdout)}
    for receipt in given:  # the retry gets the very receipt the first answer carried
        assert again[receipt.record_id] == receipt
    receipts_file = tmp_path / "receipts.jsonl"
    receipts_file.write_text(
        "".join(json.dumps(r.to_json()) + "\n" for r in [*given, *again.values()])
    )
    code = main(
        ["check", "--data-dir", str(data_dir), "--rpc", url or "", "--chain-id", "31337",
         "--project-root", str(REPO_ROOT), "--receipts", str(receipts_file)]
    )  # fmt: skip
    assert code == 0
    registry = Registry(
        anvil_chain, artifacts["AnchorRegistry"].abi, deployed["deployment"].address_of(
            "AnchorRegistry")
    )  # fmt: skip
    store = Store.open(sqlite_url(data_dir), create=False)
    try:
        with store.transaction(readonly=True) as session:
            sealed = batch_repo.latest_batch(session)
            assert sealed is not None
            assert registry.next_seq() - 1 == sealed.seq  # nothing anchored twice, no gap
            revoked = record_repo.get_record(session, ledgerdata.record_id("crash", REVOKED))
            revocation = find_revocation(session, revoked.digest_hex)
            assert revocation is not None and revocation.state == "mined"
            sent = txs.txs_of_target(session, "revoke", revocation.id)
            assert [t.state for t in sent if t.state in ("mined", "reverted")] == ["mined"]
            assert registry.get_revocation(bytes.fromhex(revoked.digest_hex)) is not None
            for receipt in [*given, *again.values()]:
                ledgerdata.check_receipt(receipt)
                record = record_repo.get_record(session, receipt.record_id)
                assert record.status == "anchored" and record.digest_hex == receipt.digest_hex
                leaf = batch_repo.get_leaf(session, receipt.digest_hex)
                onchain = registry.get_batch(leaf.batch_seq)
                assert onchain is not None
                verify_inclusion(
                    bytes.fromhex(receipt.digest_hex),
                    [bytes.fromhex(p) for p in leaf.proof],
                    bytes.fromhex(onchain.root_hex),
                )
    finally:
        store.close()
