"""Publishing manifests to a Kubo node as an anchorer step of its own (docs/OPERATIONS.md §5).

py-evm memory chain, SQLite store and the real accept path (tests/support/anchorenv.py);
the node is the stand-in of tests/support/kubo.py (its docstring says why: Kubo cannot be
installed here). What is checked: the bytes the node received are the ones whose digest
the contract holds and whose CID the anchor transaction carried.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import update

import anchoring.ipfs
from anchoring.ipfs import KuboPublisher
from anchoring.publishing import REFUSED_ALERT, UNAVAILABLE_ALERT, PublishLimits
from api.cli import main
from ledger.core.cid import cid_v1_raw_sha256
from ledger.store import batches as batch_repo
from ledger.store.alerts import open_alerts
from ledger.store.models import Batch
from tests.anchorer.test_cli import args as cli_args
from tests.anchorer.test_cli import cli_env  # noqa: F401 (fixture)
from tests.support.anchorenv import Env
from tests.support.kubo import StandInKubo, running_kubo

#: Short backoff so a test can wait it out in real time.
FAST = PublishLimits(max_per_step=10, backoff_initial_s=0.2, backoff_max_s=0.4)


@pytest.fixture
def kubo() -> Iterator[StandInKubo]:
    with running_kubo() as node:
        yield node


def publisher(node: StandInKubo) -> KuboPublisher:
    return KuboPublisher(node.url, timeout_s=2.0)


def published(env: Env) -> dict[int, bool]:
    with env.store.transaction(readonly=True) as session:
        rows = session.query(Batch.seq, Batch.manifest_published_at).order_by(Batch.seq)
        return {seq: at is not None for seq, at in rows}


def alerts(env: Env) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    with env.store.transaction(readonly=True) as session:
        for alert in open_alerts(session):
            out.setdefault(alert.kind, []).append(alert.message)
    return out


def anchored_cid(env: Env, seq: int) -> str:
    """The manifest CID as the anchor transaction carried it (decoded from its calldata)."""
    with env.store.transaction(readonly=True) as session:
        tx_hash = batch_repo.get_batch(session, seq).tx_hash
    assert tx_hash is not None
    tx = env.chain.w3.eth.get_transaction(tx_hash)  # type: ignore[arg-type]
    _, args = env.registry.contract.decode_function_input(tx["input"])
    return str(list(args.values())[4])


def test_each_manifest_is_published_once_with_the_anchored_bytes(
    memory_env: Env, kubo: StandInKubo
) -> None:
    anchorer = memory_env.anchorer(publisher=publisher(kubo), batch_max_records=5)
    memory_env.accept(10)
    first = anchorer.run_once()
    assert first.sealed == [1, 2] and first.anchored == [1] and first.published == [1, 2]
    assert anchorer.run_once().anchored == [2]
    for _ in range(2):
        assert anchorer.run_once().published == []  # nothing published twice
    assert published(memory_env) == {1: True, 2: True}
    assert [cid for cid, _ in kubo.puts] == [
        anchored_cid(memory_env, 1),
        anchored_cid(memory_env, 2),
    ]
    for seq, (cid, data) in enumerate(kubo.puts, start=1):
        onchain = memory_env.registry.get_batch(seq)
        assert onchain is not None
        assert hashlib.sha256(data).hexdigest() == onchain.manifest_digest_hex
        assert cid_v1_raw_sha256(data) == cid
    assert alerts(memory_env) == {}


def test_kubo_down_never_holds_anchoring_and_publishing_resumes(
    memory_env: Env, kubo: StandInKubo
) -> None:
    anchorer = memory_env.anchorer(
        publisher=publisher(kubo), publish_limits=FAST, batch_max_records=5
    )
    kubo.stop()
    memory_env.accept(5)
    report = anchorer.run_once()
    assert report.anchored == [1] and report.published == []
    assert report.alerts == [UNAVAILABLE_ALERT]
    memory_env.accept(5)
    report = anchorer.run_once()  # backing off: no attempt, anchoring goes on
    assert report.anchored == [2] and report.alerts == []
    assert anchorer.publishing is not None and anchorer.publishing.is_backing_off()
    time.sleep(FAST.backoff_initial_s + 0.05)
    assert anchorer.run_once().alerts == []  # still down: the alert is raised only once
    assert len(alerts(memory_env)[UNAVAILABLE_ALERT]) == 1
    kubo.start()
    time.sleep(FAST.backoff_max_s + 0.05)
    assert anchorer.run_once().published == [1, 2]
    assert published(memory_env) == {1: True, 2: True}
    assert [data for _, data in kubo.puts] == [_manifest(memory_env, 1), _manifest(memory_env, 2)]
    assert UNAVAILABLE_ALERT not in alerts(memory_env)  # resolved by the first success
    for receipt in memory_env.receipts:
        memory_env.assert_verifies_on_chain(receipt)


def test_a_node_answering_another_cid_is_an_alert_and_not_marked(
    memory_env: Env, kubo: StandInKubo
) -> None:
    anchorer = memory_env.anchorer(publisher=publisher(kubo), batch_max_records=5)
    wrong = cid_v1_raw_sha256(b"not the manifest")
    kubo.answer["cid"] = wrong
    memory_env.accept(5)
    report = anchorer.run_once()
    assert report.anchored == [1] and report.published == []
    assert report.alerts == [REFUSED_ALERT]
    (message,) = alerts(memory_env)[REFUSED_ALERT]
    ours = anchored_cid(memory_env, 1)
    assert "batch 1" in message and wrong in message and ours in message
    assert published(memory_env) == {1: False}
    assert anchorer.run_once().alerts == []  # not retried by this anchorer
    assert len(kubo.puts) == 1
    # After the node is fixed, a restarted anchorer publishes it; the alert is not repeated.
    kubo.answer.clear()
    anchorer.close()
    again = memory_env.anchorer(publisher=publisher(kubo))
    assert again.run_once().published == [1]
    assert kubo.puts[-1] == (ours, _manifest(memory_env, 1))
    assert len(alerts(memory_env)[REFUSED_ALERT]) == 1


def test_a_manifest_over_the_block_limit_is_refused_with_an_alert(
    memory_env: Env, kubo: StandInKubo, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A real over-limit manifest needs ~15,000 leaves; lowering the limit below the size of
    # a 5-leaf manifest exercises the same refusal.
    monkeypatch.setattr(anchoring.ipfs, "MAX_BLOCK_BYTES", 64)
    anchorer = memory_env.anchorer(publisher=publisher(kubo), batch_max_records=5)
    memory_env.accept(5)
    report = anchorer.run_once()
    assert report.anchored == [1] and report.published == [] and report.alerts == [REFUSED_ALERT]
    (message,) = alerts(memory_env)[REFUSED_ALERT]
    assert "block limit" in message and "batch 1" in message
    assert kubo.puts == []
    assert anchorer.run_once().alerts == [] and kubo.puts == []  # no retry loop


def test_without_a_url_nothing_is_published_nor_alerted(memory_env: Env, kubo: StandInKubo) -> None:
    anchorer = memory_env.anchorer(batch_max_records=5)
    memory_env.accept(5)
    report = anchorer.run_once()
    assert report.anchored == [1] and report.published == []
    assert anchorer.publishing is None
    assert kubo.puts == [] and alerts(memory_env) == {}
    assert published(memory_env) == {1: False}


def test_a_crash_before_the_commit_costs_one_harmless_repeat(
    memory_env: Env, kubo: StandInKubo
) -> None:
    anchorer = memory_env.anchorer(publisher=publisher(kubo), batch_max_records=5)
    memory_env.accept(5)
    assert anchorer.run_once().published == [1]
    # The node stored the block but our commit was lost: the row says unpublished.
    with memory_env.store.transaction() as session:
        session.execute(update(Batch).values(manifest_published_at=None))
    anchorer.close()
    assert memory_env.anchorer(publisher=publisher(kubo)).run_once().published == [1]
    assert len(kubo.puts) == 2 and kubo.puts[0] == kubo.puts[1]
    assert len(kubo.blocks) == 1 and published(memory_env) == {1: True}


def test_publishing_is_bounded_per_step_oldest_first(memory_env: Env, kubo: StandInKubo) -> None:
    anchorer = memory_env.anchorer(
        publisher=publisher(kubo),
        publish_limits=PublishLimits(max_per_step=2),
        batch_max_records=2,
    )
    memory_env.accept(6)
    assert anchorer.run_once().published == [1, 2]
    assert anchorer.run_once().published == [3]


@pytest.mark.anvil
def test_cli_anchor_publishes_and_status_counts_the_waiting(
    cli_env: Env,  # noqa: F811
    kubo: StandInKubo,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    kubo.stop()
    cli_env.accept(3)
    once = ["--once", "--batch-size", "3", "--json", "--kubo-url", kubo.url]
    assert main(cli_args(cli_env, tmp_path, "anchor", *once)) == 0
    step = json.loads(capsys.readouterr().out)
    assert (
        step["anchored"] == [1]
        and step["published"] == []
        and step["alerts"] == ["ipfs_unavailable"]
    )
    assert main(cli_args(cli_env, tmp_path, "status", "--json")) == 0
    assert json.loads(capsys.readouterr().out)["unpublished"] is None  # no URL: not shown
    assert main(cli_args(cli_env, tmp_path, "status", "--json", "--kubo-url", kubo.url)) == 0
    assert json.loads(capsys.readouterr().out)["unpublished"] == 1
    kubo.start()
    assert main(cli_args(cli_env, tmp_path, "anchor", *once)) == 0
    assert json.loads(capsys.readouterr().out)["published"] == [1]
    assert main(cli_args(cli_env, tmp_path, "status", "--kubo-url", kubo.url)) == 0
    assert "0 manifests wait for the Kubo node" in capsys.readouterr().out
    assert [cid for cid, _ in kubo.puts] == [anchored_cid(cli_env, 1)]


def test_up_serve_passes_the_kubo_url_to_the_runner(monkeypatch: pytest.MonkeyPatch) -> None:
    from api.cli import build_parser
    from api.cli.up import _forwarded, _options
    from api.settings import CarbonLedgerSettings

    monkeypatch.delenv("CARBONLEDGER_KUBO_URL", raising=False)
    parsed = build_parser().parse_args(["up", "--serve", "--kubo-url", "http://127.0.0.1:5001"])
    settings = CarbonLedgerSettings()
    assert _options(parsed, settings).kubo_url == "http://127.0.0.1:5001"
    assert "http://127.0.0.1:5001" in _forwarded(parsed, settings)  # the background service
    monkeypatch.setenv("CARBONLEDGER_KUBO_URL", "http://127.0.0.1:5002")
    plain = build_parser().parse_args(["up", "--serve"])
    assert _options(plain, CarbonLedgerSettings()).kubo_url == "http://127.0.0.1:5002"
    monkeypatch.delenv("CARBONLEDGER_KUBO_URL")
    assert _options(plain, CarbonLedgerSettings()).kubo_url is None


def _manifest(env: Env, seq: int) -> bytes:
    with env.store.transaction(readonly=True) as session:
        return bytes(batch_repo.get_batch(session, seq).manifest)
