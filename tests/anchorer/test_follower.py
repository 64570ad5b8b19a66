"""The chain follower: registry events written by others (attestations, keys, record types,
accreditations) mirrored into the store with their block, across restarts and reorgs
deeper than the confirmations (docs/OPERATIONS.md §1), on py-evm and anvil."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from anchoring.fees import StepReport
from anchoring.follower import READER
from api.routes.payloads import attestation_json
from ledger.core.keys import public_key_of
from ledger.core.reasons import reason_for
from ledger.core.signature import private_key_from_seed, public_key_bytes
from ledger.core.sm2 import SM2PrivateKey
from ledger.service.query import REGULATOR, LedgerQueries
from ledger.service.revocation import request_revocation
from ledger.store import anchors as txs
from ledger.store import chainmirror
from ledger.store.alerts import open_alerts
from ledger.store.chainfacts import add_attestation, find_revocation
from ledger.store.models import AccreditedBody, ChainEvent, ProducerKey
from ledger.store.producers import types_of_keys
from ledger.store.terminals import terminal_keys
from tests.support import ledgerdata
from tests.support.anchorenv import Env, make_env

FAR = 2**40


@pytest.fixture(params=["memory", pytest.param("anvil", marks=pytest.mark.anvil)])
def env(
    request: pytest.FixtureRequest, artifacts: Any, tmp_path: Path, sqlite_template: Path
) -> Iterator[Env]:
    chain = request.getfixturevalue(f"{request.param}_chain")
    yield from make_env(chain, artifacts, tmp_path / "data", store_template=sqlite_template)


def trust(env: Env) -> Any:
    return env.chain.contract(
        env.artifacts["TrustRegistry"], env.deployment.address_of("TrustRegistry")
    )


def accredit(env: Env, account: Any) -> None:
    now = env.chain.latest_timestamp()
    fn = trust(env).functions.accreditBody(
        account.address, "Example Body", "ISO 14065", "EU,GB", now - 100, now + 10**7
    )
    env.chain.transact(fn)


def anchored_record(env: Env) -> tuple[str, str]:
    anchorer = env.anchorer(batch_max_records=1)
    (receipt,) = env.accept(1)
    anchorer.run_once()
    anchorer.close()
    return receipt.record_id, receipt.digest_hex


def alert_kinds(env: Env) -> set[str]:
    with env.store.transaction(readonly=True) as session:
        return {a.kind for a in open_alerts(session)}


def event_count(env: Env) -> int:
    with env.store.transaction(readonly=True) as session:
        return int(session.scalar(select(func.count()).select_from(ChainEvent)) or 0)


def test_an_attestation_filed_on_chain_appears_with_its_block(env: Env) -> None:
    record_id, digest = anchored_record(env)
    body = env.chain.dev_accounts()[6]
    accredit(env, body)
    # An auditor noted one through the API (pending); a second is only on the chain.
    with env.store.transaction() as session:
        add_attestation(
            session, digest_hex=digest, attester="tuv-auditor", report_digest_hex="aa" * 32,
            verdict="conforms", observed_at=env.clock(), state="pending",
        )  # fmt: skip
    fn = trust(env).functions.attest(bytes.fromhex(digest), bytes.fromhex("aa" * 32), 1)
    first = env.chain.transact(fn, sender=body)
    fn = trust(env).functions.attest(bytes.fromhex(digest), bytes.fromhex("bb" * 32), 2)
    second = env.chain.transact(fn, sender=body)
    anchorer = env.anchorer()
    assert anchorer.run_once().followed >= 2
    items = [
        attestation_json(a) for a in LedgerQueries(env.store).attestations(record_id, REGULATOR)
    ]
    assert [(a["attester"], a["source"], a["state"], a["index"]) for a in items] == [
        ("tuv-auditor", "request", "mined", 0),  # the note, settled
        (body.address, "chain", "mined", 1),  # filed with `carbon-verify attest` alone
    ]
    assert items[0]["block_number"] == first["blockNumber"]
    assert items[1]["block_number"] == second["blockNumber"]
    assert items[1]["verdict"] == "conforms-with-findings" and items[1]["body"] == body.address
    assert items[1]["tx_hash"] == "0x" + bytes(second["transactionHash"]).hex()
    with env.store.transaction(readonly=True) as session:
        bodies = session.execute(select(AccreditedBody.address, AccreditedBody.withdrawn)).all()
    assert [tuple(b) for b in bodies] == [(body.address, False)]


def test_keys_and_record_types_written_on_chain_are_mirrored(env: Env) -> None:
    anchored_record(env)  # the producer is known to the store
    private = private_key_from_seed(hashlib.sha256(b"direct key").digest())
    public = public_key_bytes(private)
    key_id = hashlib.sha256(public).digest()
    registry = trust(env)
    producer_id = hashlib.sha256(ledgerdata.PRODUCER.encode()).digest()
    env.chain.transact(registry.functions.registerKey(key_id, public, producer_id, 0, FAR))
    env.chain.transact(registry.functions.grantRecordType(key_id, "rating-rule"))
    env.chain.transact(registry.functions.grantRecordType(key_id, "factor-set"))
    env.chain.transact(registry.functions.withdrawRecordType(key_id, "factor-set"))
    env.chain.transact(registry.functions.revokeKey(key_id, 0))
    env.anchorer().run_once()
    with env.store.transaction(readonly=True) as session:
        key = session.get(ProducerKey, key_id.hex())
        assert key is not None and key.producer == ledgerdata.PRODUCER
        assert key.revoked_at is not None
        types = {t.record_type: t.withdrawn_at for t in types_of_keys(session, [key_id.hex()])[
            key_id.hex()]}  # fmt: skip
    assert set(types) == {"rating-rule", "factor-set"}
    assert types["rating-rule"] is None and types["factor-set"] is not None


def test_a_restart_resumes_after_the_last_range(env: Env) -> None:
    anchored_record(env)
    anchorer = env.anchorer()
    anchorer.run_once()
    read = event_count(env)
    assert read > 0  # the deployment's role grants, the key, the batch
    anchorer.close()
    again = env.anchorer()  # a new process: the cursor comes from the store
    assert again.run_once().followed == 0
    assert event_count(env) == read
    with env.store.transaction(readonly=True) as session:
        at = chainmirror.position(session, READER)
    assert at is not None and at.block_number == env.chain.block_number()
    assert at.lag_blocks == 0


def test_lag_is_the_unconfirmed_depth(env: Env) -> None:
    anchorer = env.anchorer(confirmations=3)
    anchorer.follower.step(StepReport())
    with env.store.transaction(readonly=True) as session:
        at = chainmirror.position(session, READER)
    assert at is not None and at.head_block == env.chain.block_number()
    assert at.lag_blocks == 2  # the newest two blocks are not K = 3 deep yet


@pytest.mark.anvil
def test_a_reorg_deeper_than_k_is_read_again(
    anvil_chain: Any, artifacts: Any, tmp_path: Path
) -> None:
    for env in make_env(anvil_chain, artifacts, tmp_path / "data"):
        _, digest = anchored_record(env)
        anchorer = env.anchorer()
        anchorer.run_once()
        fn = env.registry.contract.functions.revoke(bytes.fromhex(digest), 7, bytes(32))
        env.chain.transact(fn)  # someone revokes directly; K = 1 reads it at once
        assert anchorer.run_once().followed == 1
        with env.store.transaction(readonly=True) as session:
            row = find_revocation(session, digest)
            assert row is not None and row.source == "chain"
        # A reorg of depth 1 replaces the revocation's block by an empty one.
        response = env.chain.w3.provider.make_request("anvil_reorg", [1, []])
        assert "error" not in response, response
        report = anchorer.run_once()
        assert "deep_reorg" in report.alerts
        with env.store.transaction(readonly=True) as session:
            assert find_revocation(session, digest) is None  # it is not on the chain any more
            at = chainmirror.position(session, READER)
        assert at is not None and at.block_hash == env.chain.block_hash_hex(at.block_number)
        assert env.registry.get_batch(1) is not None  # the reorg was shallower than the batch
        # Read again from the fork point: the events above it are the chain's current ones.
        with env.store.transaction(readonly=True) as session:
            events = chainmirror.events_above(session, 0)
        assert "DigestRevoked" not in {e.event for e in events}
        assert "deep_reorg" in alert_kinds(env)  # an operator should know; it stays open


@pytest.mark.anvil
def test_a_deep_reorg_of_our_revocation_sends_the_same_bytes_again(
    anvil_chain: Any, artifacts: Any, tmp_path: Path
) -> None:
    for env in make_env(anvil_chain, artifacts, tmp_path / "data"):
        _, digest = anchored_record(env)
        anchorer = env.anchorer()
        anchorer.run_once()
        request_revocation(
            env.store, digest_hex=digest, reason=reason_for(1), reason_digest_hex="ab" * 32,
            requested_by="eu-regulator", now=env.clock(),
        )  # fmt: skip
        assert len(anchorer.run_once().written) == 1
        with env.store.transaction(readonly=True) as session:
            row = find_revocation(session, digest)
            assert row is not None and row.state == "mined"
            (sent,) = txs.txs_of_target(session, "revoke", row.id)
        # The block holding it is replaced by an empty one, deeper than K = 1.
        response = env.chain.w3.provider.make_request("anvil_reorg", [1, []])
        assert "error" not in response, response
        assert env.registry.get_revocation(bytes.fromhex(digest)) is None
        anchorer.run_once()  # the follower notices and puts it back in flight
        anchorer.run_once()  # the outbox sends the very same bytes again
        with env.store.transaction(readonly=True) as session:
            row = find_revocation(session, digest)
            assert row is not None and row.state == "mined"
            assert [(t.tx_hash, t.state) for t in txs.txs_of_target(session, "revoke", row.id)] == [
                (sent.tx_hash, "mined")
            ]
        assert env.registry.get_revocation(bytes.fromhex(digest)) is not None


def _terminal(env: Env) -> tuple[bytes, bytes]:
    """An SM2 terminal key registered directly on the chain: (key id, public key)."""
    public = public_key_of(SM2PrivateKey(hashlib.sha256(b"grid meter").digest(), b"TM-1")).raw
    key_id = hashlib.sha256(public).digest()
    fn = trust(env).functions.registerTerminalKey(
        key_id, 2, public, b"TM-1", hashlib.sha256(b"88.118.8/TM-GRID-01").digest(), 0, FAR
    )
    env.chain.transact(fn)
    return key_id, public


def test_terminal_keys_and_their_grants_written_on_chain_are_mirrored(env: Env) -> None:
    key_id, public = _terminal(env)
    registry = trust(env).functions
    env.chain.transact(registry.grantMeteringPoint(key_id, "88.118.8/MP-GRID-01"))
    env.chain.transact(registry.grantMeteringPoint(key_id, "88.118.8/MP-GRID-02"))
    env.chain.transact(registry.withdrawMeteringPoint(key_id, "88.118.8/MP-GRID-02"))
    env.chain.transact(registry.grantRecordType(key_id, "meter-reading"))
    env.chain.transact(registry.revokeTerminalKey(key_id, 0))
    env.anchorer().run_once()
    with env.store.transaction(readonly=True) as session:
        (key,) = terminal_keys(session, [key_id.hex()]).values()
    assert (key.scheme, key.public_key_hex, key.distinguishing_id_hex) == (
        "sm2-sm3",
        public.hex(),
        b"TM-1".hex(),
    )
    assert key.terminal_id_hex == hashlib.sha256(b"88.118.8/TM-GRID-01").hexdigest()
    assert key.valid_until is None and key.revoked_at is not None
    grants = {(g.kind, g.name): g.withdrawn_at for g in key.grants}
    assert set(grants) == {
        ("metering-point", "88.118.8/MP-GRID-01"),
        ("metering-point", "88.118.8/MP-GRID-02"),
        ("record-type", "meter-reading"),
    }
    assert grants[("metering-point", "88.118.8/MP-GRID-02")] is not None
    assert grants[("metering-point", "88.118.8/MP-GRID-01")] is None


@pytest.mark.anvil
def test_a_deep_reorg_rereads_a_terminal_keys_grants(
    anvil_chain: Any, artifacts: Any, tmp_path: Path
) -> None:
    for env in make_env(anvil_chain, artifacts, tmp_path / "data"):
        key_id, _ = _terminal(env)
        registry = trust(env).functions
        env.chain.transact(registry.grantMeteringPoint(key_id, "88.118.8/MP-GRID-01"))
        anchorer = env.anchorer()
        anchorer.run_once()
        env.chain.transact(registry.withdrawMeteringPoint(key_id, "88.118.8/MP-GRID-01"))
        anchorer.run_once()
        with env.store.transaction(readonly=True) as session:
            (key,) = terminal_keys(session, [key_id.hex()]).values()
        assert key.grants[0].withdrawn_at is not None
        # The withdrawal's block is replaced by an empty one: the chain grants the point again.
        response = env.chain.w3.provider.make_request("anvil_reorg", [1, []])
        assert "error" not in response, response
        assert "deep_reorg" in anchorer.run_once().alerts
        with env.store.transaction(readonly=True) as session:
            (key,) = terminal_keys(session, [key_id.hex()]).values()
        assert [(g.name, g.withdrawn_at) for g in key.grants] == [("88.118.8/MP-GRID-01", None)]
