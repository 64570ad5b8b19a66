"""The operator commands ``anchor``, ``status`` and ``check`` through ``main([...])``, on
anvil, over the store and deployment record in one data directory (docs/OPERATIONS.md §3)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import update

from anchoring.chain.dev import dev_account_keys
from anchoring.deployment import save_deployment
from api.cli import main
from ledger.store.models import Batch
from tests.support.anchorenv import Env

pytestmark = pytest.mark.anvil
REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cli_env(anvil_env: Env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Env:
    save_deployment(anvil_env.deployment, tmp_path / "data")
    monkeypatch.setenv("CARBONLEDGER_SIGNER_KEY", "0x" + dev_account_keys()[0].hex())
    return anvil_env


def args(env: Env, tmp_path: Path, command: str, *extra: str) -> list[str]:
    return [
        command,
        "--data-dir", str(tmp_path / "data"),
        "--rpc", env.chain.rpc_url or "",
        "--chain-id", str(env.chain.chain_id),
        "--project-root", str(REPO_ROOT),
        *extra,
    ]  # fmt: skip


def test_anchor_once_status_and_check(
    cli_env: Env, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cli_env.accept(3)
    assert main(args(cli_env, tmp_path, "anchor", "--once", "--batch-size", "3", "--json")) == 0
    step = json.loads(capsys.readouterr().out)
    assert step["sealed"] == [1] and step["anchored"] == [1]
    cli_env.accept(2)
    assert main(args(cli_env, tmp_path, "status", "--json")) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["pending"] == 2 and status["records"]["anchored"] == 3
    assert status["last_batch"]["seq"] == 1 and status["last_batch"]["state"] == "anchored"
    assert status["chain"]["height"] == cli_env.chain.block_number()
    # The anchor step ran the chain follower too: its cursor and lag are in the store.
    assert status["follower"]["head"] == cli_env.chain.block_number()
    assert status["follower"]["lag_blocks"] == 0
    assert status["statuses"]["revoke"] == {"pending": 0, "broadcast": 0, "mined": 0, "failed": 0}
    assert main(args(cli_env, tmp_path, "status")) == 0
    text = capsys.readouterr().out
    assert "pending" in text and "behind the head" in text
    receipts = tmp_path / "receipts.jsonl"
    receipts.write_text("".join(json.dumps(r.to_json()) + "\n" for r in cli_env.receipts))
    code = main(args(cli_env, tmp_path, "check", "--receipts", str(receipts), "--no-deadline"))
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.count("PASS") == 8 and "SKIP" in out  # the deadline check was skipped


def test_check_exits_1_and_names_the_broken_batch(
    cli_env: Env, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cli_env.accept(3)
    assert main(args(cli_env, tmp_path, "anchor", "--once", "--batch-size", "3")) == 0
    with cli_env.store.transaction() as session:
        session.execute(update(Batch).where(Batch.seq == 1).values(leaf_count=4))
    capsys.readouterr()
    assert main(args(cli_env, tmp_path, "check", "--json")) == 1
    report = json.loads(capsys.readouterr().out)
    failed = {c["number"]: c["detail"] for c in report["checks"] if c["status"] == "FAIL"}
    assert "batch 1: 3 leaves stored, leaf_count 4" in failed[5]
    assert "batch 1: stored" in failed[7]


def test_check_without_a_reachable_chain_is_indeterminate(
    cli_env: Env, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cli_env.accept(3)
    assert main(args(cli_env, tmp_path, "anchor", "--once", "--batch-size", "3")) == 0
    argv = args(cli_env, tmp_path, "check", "--no-deadline")
    argv[argv.index("--rpc") + 1] = "http://127.0.0.1:9"  # nothing listens there
    assert main(argv) == 3
