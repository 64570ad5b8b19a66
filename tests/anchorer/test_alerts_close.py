"""Alerts close themselves when their condition clears, and stay in the history
(docs/OPERATIONS.md §2).

The defects these stop: ``chain_unavailable`` stayed open after a restart (only the process
that raised it could close it), ``anchor_lost`` was never closed, so ``status`` showed two
open alerts while ``check`` passed every check.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from api.cli import main
from ledger.store.alerts import alert_history, open_alerts, raise_alert
from tests.support.anchorenv import NOW, Env


def _open(env: Env) -> set[str]:
    with env.store.transaction(readonly=True) as session:
        return {a.kind for a in open_alerts(session)}


@pytest.mark.parametrize("kind", ["chain_unavailable", "chain_reset", "seq_gap"])
def test_an_alert_of_an_earlier_process_closes_once_the_condition_is_gone(
    memory_env: Env, kind: str
) -> None:
    with memory_env.store.transaction() as session:
        raise_alert(session, kind=kind, message="raised before the restart", at=NOW)
    memory_env.accept(5)
    anchorer = memory_env.anchorer()  # a new process: it never saw the alert raised
    report = anchorer.run_once()
    assert report.anchored == [1]
    assert kind not in _open(memory_env)
    with memory_env.store.transaction(readonly=True) as session:
        closed = [a for a in alert_history(session, limit=10) if a.kind == kind]
    assert closed and closed[0].resolved_at is not None


def test_an_anchor_the_chain_lost_closes_its_alert_once_anchored_again(
    memory_env: Env, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snapshot = memory_env.chain.snapshot()
    memory_env.accept(5)
    anchorer = memory_env.anchorer()
    assert anchorer.run_once().anchored == [1]
    memory_env.chain.revert(snapshot)  # the chain forgets batch 1, as a killed dev chain does
    report = anchorer.run_once()
    assert report.reopened == [1] and "anchor_lost" in report.alerts
    for _ in range(10):
        if "anchor_lost" not in _open(memory_env):
            break
        anchorer.run_once()
    assert memory_env.registry.get_batch(1) is not None
    # The revert is a reorg to the chain follower too: it notes it (deep_reorg, a record of
    # what happened, closed by the operator); nothing else stays open.
    assert _open(memory_env) - {"deep_reorg"} == set()
    # What the operator sees agrees with the checker: no open alert, every check passes.
    data_dir = tmp_path / "data"
    code = main(["status", "--json", "--chain", "memory", "--data-dir", str(data_dir)])
    status = json.loads(capsys.readouterr().out)
    assert code == 0 and [a["kind"] for a in status["alerts"]] in ([], ["deep_reorg"])
    assert [a["kind"] for a in status["closed_alerts"]] == ["anchor_lost"]
