"""Record statuses written by the anchorer through its outbox (revocations, supersessions),
and the chain follower reading back what others wrote directly (docs/OPERATIONS.md §1),
on py-evm and on anvil."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete

from anchoring.anchorer import Anchorer
from anchoring.deployment import RoleAssignment
from api.routes.payloads import status_json
from ledger.checker import run_checks
from ledger.core.reasons import reason_for
from ledger.service.query import REGULATOR, LedgerQueries
from ledger.service.revocation import request_revocation
from ledger.store import anchors as txs
from ledger.store.alerts import open_alerts
from ledger.store.chainfacts import find_revocation, find_supersession
from ledger.store.models import AnchorTx, Supersession
from tests.support import ledgerdata
from tests.support.anchorenv import CrashHere, Env, RaisingCrashPoints, make_env

REASON_DIGEST = "ab" * 32


@pytest.fixture(params=["memory", pytest.param("anvil", marks=pytest.mark.anvil)])
def env(
    request: pytest.FixtureRequest, artifacts: Any, tmp_path: Path, sqlite_template: Path
) -> Iterator[Env]:
    chain = request.getfixturevalue(f"{request.param}_chain")
    yield from make_env(chain, artifacts, tmp_path / "data", store_template=sqlite_template)


def request(env: Env, digest_hex: str, code: int = 1, by: str = "eu-regulator") -> None:
    request_revocation(
        env.store,
        digest_hex=digest_hex,
        reason=reason_for(code),
        reason_digest_hex=REASON_DIGEST,
        requested_by=by,
        now=env.clock(),
    )


def revocation(env: Env, digest_hex: str) -> Any:
    with env.store.transaction(readonly=True) as session:
        row = find_revocation(session, digest_hex)
        assert row is not None
        session.expunge(row)
        return row


def status_txs(env: Env, purpose: str, target_id: int) -> list[txs.OutboxTx]:
    with env.store.transaction(readonly=True) as session:
        return txs.txs_of_target(session, purpose, target_id)


def alert_kinds(env: Env) -> set[str]:
    with env.store.transaction(readonly=True) as session:
        return {a.kind for a in open_alerts(session)}


def state_of(env: Env, record_id: str) -> dict[str, Any]:
    """The record's status as the API answers it (the JSON a client reads)."""
    return status_json(LedgerQueries(env.store).status(record_id, REGULATOR))


def anchored(env: Env, anchorer: Anchorer, count: int) -> list[str]:
    receipts = env.accept(count)
    env.clock.advance(60)
    for _ in range(5):
        if not anchorer.run_once().is_idle():
            continue
        break
    return [r.digest_hex for r in receipts]


def test_requested_revocation_is_written_once_and_wins_the_status(env: Env) -> None:
    anchorer = env.anchorer()
    digest = anchored(env, anchorer, 3)[1]
    request(env, digest, code=6)
    report = anchorer.run_once()
    row = revocation(env, digest)
    assert report.written == [f"revoke:{row.id}"] and report.refused == []
    onchain = env.registry.get_revocation(bytes.fromhex(digest))
    assert onchain is not None and (onchain.value, onchain.detail) == (6, REASON_DIGEST)
    assert row.state == "mined" and row.block_number == onchain.block_number
    assert row.revoked_at is not None and int(row.revoked_at.timestamp()) == onchain.timestamp
    (tx,) = status_txs(env, "revoke", row.id)
    assert (tx.state, tx.tx_hash, tx.batch_seq) == ("mined", row.tx_hash, None)
    again = anchorer.run_once()
    assert again.signed == [] and again.written == []  # nothing is sent twice
    status = state_of(env, env.receipts[1].record_id)
    assert status["state"] == "revoked" and status["anchoring"] == "anchored"
    assert status["revocation"]["reason"]["slug"] == "fraud"
    assert status["revocation"]["reason"]["zh"]
    # Status transactions are no batch's: the invariant checker still finds every batch
    # anchored once with two of them mined.
    request(env, anchored(env, anchorer, 1)[0])
    assert len(anchorer.run_once().written) == 1
    checked = run_checks(env.store, env.registry, receipts=env.receipts)
    assert checked.ok, [c.detail for c in checked.failed()]


def test_a_pending_record_can_be_revoked_before_its_batch(env: Env) -> None:
    anchorer = env.anchorer(batch_max_records=100, batch_max_age_s=3600)
    (receipt,) = env.accept(1)
    request(env, receipt.digest_hex)
    report = anchorer.run_once()
    assert report.sealed == [] and len(report.written) == 1
    assert state_of(env, receipt.record_id)["state"] == "revoked"


def test_refused_revocation_is_kept_retried_with_backoff_and_never_dropped(
    memory_chain: Any, artifacts: Any, tmp_path: Path
) -> None:
    # The anchorer's account lacks REVOKER_ROLE: the chain refuses every revoke.
    outsider = memory_chain.dev_accounts()[5].address
    for env in make_env(
        memory_chain, artifacts, tmp_path / "data", roles=RoleAssignment(revoker=outsider)
    ):
        anchorer = env.anchorer(status_retry_initial_s=30, status_retry_max_s=120)
        digest = anchored(env, anchorer, 2)[0]
        request(env, digest)
        report = anchorer.run_once()
        row = revocation(env, digest)
        assert report.refused == [f"revoke:{row.id}"] and report.signed == []
        assert row.state == "failed" and "AccessControlUnauthorizedAccount" in row.last_error
        assert row.attempts == 1 and row.next_attempt_at == env.clock() + timedelta(seconds=30)
        assert "revocation_refused" in alert_kinds(env)
        assert anchorer.run_once().refused == []  # within the back-off: not tried again
        env.clock.advance(30)
        assert anchorer.run_once().refused == [f"revoke:{row.id}"]
        assert revocation(env, digest).next_attempt_at == env.clock() + timedelta(seconds=60)
        # The cause goes away: the operator (admin) grants the role to the anchorer.
        anchor = env.registry.contract
        role = env.chain.call(anchor.functions.REVOKER_ROLE())
        env.chain.transact(anchor.functions.grantRole(role, env.chain.signer.address))
        env.clock.advance(60)
        assert anchorer.run_once().written == [f"revoke:{row.id}"]
        assert revocation(env, digest).state == "mined"
        assert "revocation_refused" not in alert_kinds(env)


def test_revocation_made_directly_on_chain_is_mirrored(env: Env) -> None:
    anchorer = env.anchorer()
    digest = anchored(env, anchorer, 2)[0]
    fn = env.registry.contract.functions.revoke(bytes.fromhex(digest), 7, bytes.fromhex("cd" * 32))
    receipt = env.chain.transact(fn)  # the operator holds REVOKER_ROLE on this deployment
    report = anchorer.run_once()
    assert report.followed >= 1 and report.signed == []
    row = revocation(env, digest)
    assert (row.source, row.state, row.reason_code) == ("chain", "mined", 7)
    assert row.block_number == receipt["blockNumber"]
    assert state_of(env, env.receipts[0].record_id)["state"] == "revoked"


def test_direct_revocation_settles_a_request_not_yet_sent(env: Env) -> None:
    anchorer = env.anchorer()
    digest = anchored(env, anchorer, 2)[0]
    request(env, digest, code=1)
    fn = env.registry.contract.functions.revoke(bytes.fromhex(digest), 7, bytes.fromhex("cd" * 32))
    env.chain.transact(fn)
    report = anchorer.run_once()
    row = revocation(env, digest)
    assert report.signed == [] and report.refused == []  # refused at estimation: adopted
    assert (row.state, row.source, row.reason_code) == ("mined", "request", 7)
    assert status_txs(env, "revoke", row.id) == []
    assert "revocation_refused" not in alert_kinds(env)


def test_supersession_is_written_once_the_successor_is_anchored(env: Env) -> None:
    anchorer = env.anchorer(batch_max_records=1)
    (first,) = env.accept(1)
    anchorer.run_once()
    fixed = env.service.accept(
        ledgerdata.submission(
            ledgerdata.record_id("t", 999), supersedes=(first.record_id, first.digest_hex)
        )
    )
    report = anchorer.run_once()
    assert report.anchored == [2]
    with env.store.transaction(readonly=True) as session:
        row = find_supersession(session, first.digest_hex)
        assert row is not None
        session.expunge(row)
    assert report.written == [f"supersede:{row.id}"]
    assert (row.state, row.successor_digest_hex, row.successor_seq) == (
        "mined",
        fixed.digest_hex,
        2,
    )
    onchain = env.registry.get_supersession(bytes.fromhex(first.digest_hex))
    assert onchain is not None and onchain.value == fixed.digest_hex
    status = state_of(env, first.record_id)
    assert status["state"] == "superseded"
    assert status["supersession"]["successor_digest"] == fixed.digest_hex


@pytest.mark.parametrize(
    "point",
    [
        "status.after_sign_persist",
        "status.after_broadcast",
        "status.after_receipt",
        "status.after_written",
    ],
)
def test_crash_at_each_status_point_then_restart_writes_it_once(env: Env, point: str) -> None:
    anchorer = env.anchorer()
    digest = anchored(env, anchorer, 2)[0]
    request(env, digest)
    anchorer.close()
    crashing = env.anchorer()
    crashing.crash_points = crashing.outbox.crash_points = RaisingCrashPoints(point)
    with pytest.raises(CrashHere):
        crashing.run_once()
    row = revocation(env, digest)
    before = status_txs(env, "revoke", row.id)
    assert len(before) == 1  # signed once, stored before the broadcast
    crashing.close()  # the lease of a killed process runs out; here it is let go at once
    restarted = env.anchorer()
    restarted.run_once()
    restarted.run_once()
    row = revocation(env, digest)
    after = status_txs(env, "revoke", row.id)
    assert row.state == "mined"
    assert [t.tx_hash for t in after] == [before[0].tx_hash]  # the same bytes, no new one
    assert [t.state for t in after] == ["mined"]
    assert env.registry.get_revocation(bytes.fromhex(digest)) is not None


def test_supersessions_anchored_before_the_upgrade_are_written_once_it_runs(env: Env) -> None:
    old = env.anchorer(batch_max_records=1, max_statuses_in_flight=0)  # sends no status
    (first,) = env.accept(1)
    old.run_once()
    env.service.accept(
        ledgerdata.submission(
            ledgerdata.record_id("t", 998), supersedes=(first.record_id, first.digest_hex)
        )
    )
    old.run_once()
    old.close()
    # As a store from before supersessions were written: the successor anchored, no row.
    with env.store.transaction() as session:
        session.execute(delete(Supersession))
        session.execute(delete(AnchorTx).where(AnchorTx.purpose == "supersede"))
    assert env.registry.get_supersession(bytes.fromhex(first.digest_hex)) is None
    upgraded = env.anchorer()
    report = upgraded.run_once()
    assert len(report.written) == 1 and len(report.signed) == 1
    with env.store.transaction(readonly=True) as session:
        row = find_supersession(session, first.digest_hex)
        assert row is not None and row.state == "mined"
    assert env.registry.get_supersession(bytes.fromhex(first.digest_hex)) is not None
