"""``carbonledger keys`` through ``main([...])`` against a real chain (anvil over JSON-RPC,
and the in-process memory chain): the store and the TrustRegistry agree after every
command, a re-run after a crash completes instead of registering twice, and a key created
here signs records the accept path then accepts."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hexbytes import HexBytes

from anchoring.chain import DevChain
from anchoring.deployment import load_deployment
from api.cli import main
from ledger.core.canonical import canonicalize
from ledger.core.receipt import verify_receipt
from ledger.core.signature import key_id, private_key_from_seed, public_key_bytes, sign_digest
from ledger.core.view import commit
from ledger.examples import FS_DESNZ_2025, example_records
from ledger.service import SUBMISSION_FORMAT, LedgerService, ManualClock, RefusedRecordError
from ledger.service.service_key import read_key_file, write_key_file
from ledger.store import Store, sqlite_url
from ledger.store.producers import get_producer_key
from ledger.store.records import count_by_status

PRODUCER = "urn:carbonledger:producer:reference-data-desk"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith("CARBONLEDGER_"):
            monkeypatch.delenv(name)
    yield


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


class Deployed:
    """A deployment on a running anvil, reached as an rpc chain."""

    def __init__(self, chain: DevChain, data: Path, artifacts: Any) -> None:
        self.chain = chain
        self.data = data
        self.args = ["--rpc", chain.rpc_url or "", "--chain-id", "31337", "--data-dir", str(data)]
        record = load_deployment(data)
        assert record is not None
        self.registry = chain.contract(
            artifacts["TrustRegistry"], record.address_of("TrustRegistry")
        )

    def get_key(self, kid: str) -> tuple[Any, ...]:
        return tuple(self.chain.call(self.registry.functions.getKey(bytes.fromhex(kid))))

    def chain_now(self) -> datetime:
        """The service's clock in step with the chain's (grants are dated by its blocks)."""
        return datetime.fromtimestamp(self.chain.latest_timestamp() + 60, UTC)

    def granted(self, kid: str, record_type: str, t: int) -> bool:
        fn = self.registry.functions.isTypeGrantedAt(bytes.fromhex(kid), record_type, t)
        return bool(self.chain.call(fn))

    def registered_events(self, kid: str) -> int:
        return len(
            self.registry.events.KeyRegistered.get_logs(
                from_block=0, argument_filters={"keyId": bytes.fromhex(kid)}
            )
        )

    def store(self) -> Store:
        return Store.open(sqlite_url(self.data))


@pytest.fixture
def deployed(
    anvil_chain: DevChain,
    artifacts: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Deployed:
    operator = anvil_chain.dev_accounts()[0]
    monkeypatch.setenv("CARBONLEDGER_SIGNER_KEY", "0x" + bytes(operator.key).hex())
    data = tmp_path / "data"
    url = anvil_chain.rpc_url or ""
    code, _, err = run(
        capsys, "deploy", "--rpc", url, "--chain-id", "31337", "--data-dir", str(data)
    )
    assert code == 0, err
    return Deployed(anvil_chain, data, artifacts)


@pytest.mark.anvil
def test_create_rotate_revoke_list_keep_store_and_chain_in_step(
    deployed: Deployed, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key_file = tmp_path / "producer.pem"
    code, out, err = run(
        capsys, "keys", "create", *deployed.args, "--producer", PRODUCER, "--out", str(key_file),
        "--valid-from", "2026-01-01T00:00:00Z", "--types", "region-rule,factor-set", "--json",
    )  # fmt: skip
    assert code == 0, err
    report = json.loads(out)
    assert report["format"] == "carbonledger-cli-keys/1" and report["resumed"] is False
    created = report["keys"][0]
    kid = created["key_id"]
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert kid == key_id(read_key_file(key_file))
    pub, producer_id, valid_from, valid_until, revoked = deployed.get_key(kid)
    assert bytes(pub).hex() == created["public_key"]
    assert bytes(producer_id) == hashlib.sha256(PRODUCER.encode()).digest()
    assert int(valid_from) == int(_at("2026-01-01T00:00:00Z").timestamp())
    assert int(valid_until) == 2**64 - 1 and int(revoked) == 0
    assert created["valid_until"] is None and created["registered_tx"].startswith("0x")
    assert created["record_types"] == ["factor-set", "region-rule"]
    now = deployed.chain.latest_timestamp()
    assert deployed.granted(kid, "factor-set", now)
    assert not deployed.granted(kid, "carbon-record", now)

    # Running it again with the same key file finishes nothing twice.
    code, out, err = run(
        capsys, "keys", "create", *deployed.args, "--producer", PRODUCER, "--out", str(key_file),
        "--types", "factor-set", "--json",
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["resumed"] is True
    assert json.loads(out)["keys"][0] == created
    assert deployed.registered_events(kid) == 1

    # Rotation: the old key ends where the new one starts, in the store and on chain.
    new_file = tmp_path / "producer-2.pem"
    code, out, err = run(
        capsys, "keys", "rotate", *deployed.args, "--key-id", kid, "--out", str(new_file),
        "--valid-from", "2026-03-01T00:00:00Z", "--json",
    )  # fmt: skip
    assert code == 0, err
    old, new = json.loads(out)["keys"]
    assert old["key_id"] == kid and old["valid_until"] == "2026-03-01T00:00:00Z"
    assert new["producer"] == PRODUCER and new["valid_from"] == "2026-03-01T00:00:00Z"
    assert new["record_types"] == ["factor-set", "region-rule"]  # carried by the rotation
    assert int(deployed.get_key(kid)[3]) == int(_at("2026-03-01T00:00:00Z").timestamp())

    # Revocation, back-dated; a second revocation at the same moment sends nothing.
    code, out, err = run(
        capsys, "keys", "revoke", *deployed.args, "--key-id", new["key_id"],
        "--effective-at", "2026-04-01T00:00:00Z", "--json",
    )  # fmt: skip
    assert code == 0, err
    revoked_row = json.loads(out)["keys"][0]
    assert revoked_row["revoked_at"] == "2026-04-01T00:00:00Z"
    assert int(deployed.get_key(new["key_id"])[4]) == int(_at("2026-04-01T00:00:00Z").timestamp())
    height = deployed.chain.block_number()
    code, out, err = run(
        capsys, "keys", "revoke", *deployed.args, "--key-id", new["key_id"],
        "--effective-at", "2026-04-01T00:00:00Z", "--json",
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["already_revoked"] is True
    assert deployed.chain.block_number() == height

    code, out, err = run(capsys, "keys", "list", *deployed.args, "--json")
    assert code == 0, err
    listed = {k["key_id"]: k for k in json.loads(out)["keys"]}
    assert listed == {kid: old, new["key_id"]: revoked_row}
    code, out, _ = run(capsys, "keys", "list", *deployed.args)
    assert code == 0 and kid in out and "revoked" in out


@pytest.mark.anvil
def test_a_registration_interrupted_before_the_store_row_is_completed(
    deployed: Deployed, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # As if the command died after the tx was mined but before the store row was written.
    key_file = tmp_path / "k.pem"
    key = private_key_from_seed(bytes(range(32)))
    write_key_file(key_file, key)
    kid = key_id(key)
    receipt = deployed.chain.transact(
        deployed.registry.functions.registerKey(
            bytes.fromhex(kid), public_key_bytes(key),
            hashlib.sha256(PRODUCER.encode()).digest(), 1_767_225_600, 2**64 - 1,
        )
    )  # fmt: skip
    code, out, err = run(
        capsys, "keys", "create", *deployed.args, "--producer", PRODUCER, "--out", str(key_file),
        "--types", "factor-set", "--json",
    )  # fmt: skip
    assert code == 0, err
    row = json.loads(out)["keys"][0]
    assert row["registered_tx"] == HexBytes(receipt["transactionHash"]).to_0x_hex()
    assert row["valid_from"] == "2026-01-01T00:00:00Z"  # the chain's window, not a new one
    assert deployed.registered_events(kid) == 1


@pytest.mark.anvil
def test_a_key_created_here_signs_records_the_service_accepts(
    deployed: Deployed, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key_file = tmp_path / "k.pem"
    code, _, err = run(
        capsys, "keys", "create", *deployed.args, "--producer", PRODUCER, "--out", str(key_file),
        "--valid-from", "2026-01-01T00:00:00Z", "--types", "factor-set",
    )  # fmt: skip
    assert code == 0, err
    item = commit(example_records()[FS_DESNZ_2025])
    data = canonicalize(
        {
            "format": SUBMISSION_FORMAT,
            "view": item.to_json(),
            "signature": sign_digest(read_key_file(key_file), item.digest).to_json(),
        }
    )
    service_key = private_key_from_seed(bytes(32))
    store = deployed.store()
    try:
        service = LedgerService(
            store=store, service_key=service_key, clock=ManualClock(deployed.chain_now()),
            max_merge_delay_s=60,
        )  # fmt: skip
        receipt = service.accept(data)
        verify_receipt(receipt, public_key_bytes(service_key), digest_hex=item.digest_hex)
        with store.transaction(readonly=True) as session:
            assert get_producer_key(session, key_id(read_key_file(key_file))).producer == PRODUCER
    finally:
        store.close()


@pytest.mark.anvil
def test_the_service_refuses_a_record_type_the_key_was_not_granted(
    deployed: Deployed, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key_file = tmp_path / "k.pem"
    code, out, err = run(
        capsys, "keys", "create", *deployed.args, "--producer", PRODUCER, "--out", str(key_file),
        "--valid-from", "2026-01-01T00:00:00Z", "--types", "carbon-record", "--json",
    )  # fmt: skip
    assert code == 0, err
    kid = json.loads(out)["keys"][0]["key_id"]
    now = deployed.chain.latest_timestamp()
    # The contract's readers say no, and so does the service, from the store's mirror.
    assert not deployed.granted(kid, "factor-set", now)
    item = commit(example_records()[FS_DESNZ_2025])
    data = canonicalize(
        {
            "format": SUBMISSION_FORMAT,
            "view": item.to_json(),
            "signature": sign_digest(read_key_file(key_file), item.digest).to_json(),
        }
    )
    store = deployed.store()
    try:
        service = LedgerService(
            store=store, service_key=private_key_from_seed(bytes(32)),
            clock=ManualClock(deployed.chain_now()), max_merge_delay_s=60,
        )  # fmt: skip
        with pytest.raises(RefusedRecordError) as refused:
            service.accept(data)
        assert refused.value.field == "type"
        assert (refused.value.expected, refused.value.computed) == ("carbon-record", "factor-set")
        assert "may not sign factor-set records" in refused.value.message
        with store.transaction(readonly=True) as session:
            assert count_by_status(session)["pending"] == 0  # nothing stored
    finally:
        store.close()


@pytest.mark.anvil
def test_refusals(deployed: Deployed, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    unknown = "ab" * 32
    code, out, err = run(capsys, "keys", "rotate", *deployed.args, "--key-id", unknown,
                         "--out", str(tmp_path / "x.pem"))  # fmt: skip
    assert (code, out) == (1, "") and f"no producer key {unknown}" in err
    assert not (tmp_path / "x.pem").exists()
    key_file = tmp_path / "k.pem"
    code, out, err = run(capsys, "keys", "create", *deployed.args, "--producer", PRODUCER,
                         "--out", str(key_file), "--types", "factor-set", "--json")  # fmt: skip
    assert code == 0, err
    kid = json.loads(out)["keys"][0]["key_id"]
    code, out, err = run(capsys, "keys", "revoke", *deployed.args, "--key-id", kid,
                         "--effective-at", "2099-01-01T00:00:00Z")  # fmt: skip
    assert code == 1 and "TrustRegistryRevocationInFuture" in err
    code, _, err = run(
        capsys,
        "keys",
        "create",
        *deployed.args,
        "--producer",
        PRODUCER,
        "--out",
        str(tmp_path / "y.pem"),
        "--valid-from",
        "2026-01-01T00:00:00.5Z",
        "--types",
        "factor-set",
    )
    assert code == 2 and "whole seconds" in err


def test_create_needs_a_deployment(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys, "keys", "create", "--chain", "dev", "--data-dir", str(tmp_path),
        "--producer", PRODUCER, "--out", str(tmp_path / "k.pem"), "--types", "factor-set",
    )  # fmt: skip
    assert code == 2 and out == "" and "run `carbonledger deploy` first" in err


def test_create_on_the_memory_chain(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys, "keys", "create", "--chain", "memory", "--data-dir", str(tmp_path / "data"),
        "--producer", PRODUCER, "--out", str(tmp_path / "k.pem"), "--types", "factor-set", "--json",
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["keys"][0]["registered_tx"].startswith("0x")
