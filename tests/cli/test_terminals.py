"""``carbonledger keys terminal`` / ``terminal-revoke`` / ``terminals`` through ``main([...])``
against anvil over JSON-RPC: the TrustRegistry and the store agree after every command, a
re-run sends nothing the chain already has, and malformed terminals, keys and metering
points are refused before anything is sent."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from ledger.core.keys import public_key_of
from ledger.core.sm2 import SM2PrivateKey
from ledger.store.terminals import terminal_keys
from tests.cli.test_keys import Deployed, _clean_environment, deployed, run

__all__ = ["_clean_environment", "deployed"]

TERMINAL = "88.118.8/TM-GAS-01"
POINT = "88.118.8/MP-GAS-01"
SM2_KEY = public_key_of(SM2PrivateKey(hashlib.sha256(b"gas meter").digest(), TERMINAL.encode()))


def register(capsys: pytest.CaptureFixture[str], deployed: Deployed, *extra: str) -> Any:
    code, out, err = run(
        capsys, "keys", "terminal", *deployed.args, "--terminal", TERMINAL, "--alg", "sm2-sm3",
        "--public-key", SM2_KEY.raw.hex(), "--distinguishing-id", TERMINAL, "--points", POINT,
        "--valid-from", "2026-01-01T00:00:00Z", "--json", *extra,
    )  # fmt: skip
    assert code == 0, err
    return json.loads(out)


@pytest.mark.anvil
def test_register_revoke_list_keep_store_and_chain_in_step(
    deployed: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    report = register(capsys, deployed)
    (key,) = report["keys"]
    kid = SM2_KEY.key_id
    assert report["format"] == "carbonledger-cli-terminals/1"
    assert key["key_id"] == kid and key["alg"] == "sm2-sm3"
    assert key["terminal"] == TERMINAL  # the identifier, beside its hash
    assert key["terminal_id"] == hashlib.sha256(TERMINAL.encode()).hexdigest()
    assert key["distinguishing_id"] == TERMINAL
    assert key["metering_points"] == [POINT] and key["record_types"] == ["meter-reading"]
    assert key["valid_from"] == "2026-01-01T00:00:00Z" and key["revoked_at"] is None
    chain_key = deployed.chain.call(deployed.registry.functions.getTerminalKey(bytes.fromhex(kid)))
    assert tuple(chain_key)[:4] == (
        2,
        SM2_KEY.raw,
        TERMINAL.encode(),
        hashlib.sha256(TERMINAL.encode()).digest(),
    )
    events = deployed.registry.events.TerminalKeyRegistered.get_logs(from_block=0)
    assert len(events) == 1
    assert key["registered_tx"] == "0x" + bytes(events[0]["transactionHash"]).hex()

    # Run again with one more point: only the new grant is sent.
    blocks = deployed.chain.block_number()
    again = register(capsys, deployed, "--points", f"{POINT},88.118.8/MP-GAS-02")
    assert again["keys"][0]["metering_points"] == [POINT, "88.118.8/MP-GAS-02"]
    assert deployed.chain.block_number() == blocks + 1
    assert len(deployed.registry.events.TerminalKeyRegistered.get_logs(from_block=0)) == 1

    code, out, err = run(
        capsys, "keys", "terminal-revoke", *deployed.args, "--key-id", kid, "--json"
    )
    assert code == 0, err
    revoked = json.loads(out)
    assert revoked["already_revoked"] is False and revoked["keys"][0]["revoked_at"]
    store = deployed.store()
    try:
        with store.transaction(readonly=True) as session:
            stored = terminal_keys(session, [kid])[kid]
    finally:
        store.close()
    assert stored.revoked_at is not None and stored.public_key_hex == SM2_KEY.raw.hex()
    assert {g.name for g in stored.grants} == {POINT, "88.118.8/MP-GAS-02", "meter-reading"}

    code, out, err = run(capsys, "keys", "terminals", *deployed.args)
    assert code == 0, err
    assert kid in out and POINT in out


@pytest.mark.anvil
def test_malformed_terminals_are_refused_before_anything_is_sent(
    deployed: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    blocks = deployed.chain.block_number()
    base = ["keys", "terminal", *deployed.args, "--alg", "sm2-sm3", "--json"]
    cases = [
        # An OID arc with a leading zero; an Ecode of the wrong length (34 digits); a Handle
        # whose suffix is not in NFC.
        ("--terminal", "1.2.156.0123", "--public-key", SM2_KEY.raw.hex(), "--points", POINT),
        ("--terminal", TERMINAL, "--public-key", SM2_KEY.raw.hex(), "--points", "1" * 34),
        ("--terminal", TERMINAL, "--public-key", SM2_KEY.raw.hex(),
         "--points", "88.118.8/Cafe\u0301"),
    ]  # fmt: skip
    for case in cases:
        code, _, err = run(capsys, *base, *case, "--distinguishing-id", "x")
        assert code == 2, err
    # A point that is not on the curve; an SM2 key without its distinguishing identifier.
    off_curve = "04" + "11" * 64
    code, _, err = run(capsys, *base, "--terminal", TERMINAL, "--public-key", off_curve,
                       "--points", POINT, "--distinguishing-id", "x")  # fmt: skip
    assert code == 2 and "--public-key" in err
    code, _, err = run(capsys, *base, "--terminal", TERMINAL, "--public-key", SM2_KEY.raw.hex(),
                       "--points", POINT)  # fmt: skip
    assert code == 2 and "--distinguishing-id" in err
    assert deployed.chain.block_number() == blocks
