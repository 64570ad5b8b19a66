"""The rpc chain against a running anvil, with keystore and raw-key signers."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account

from anchoring.chain import ChainIdMismatchError, DevChain, RpcChain
from anchoring.deployment import ensure_deployment
from anchoring.keystore import (
    SignerError,
    load_keystore,
    resolve_signer,
    signer_from_key,
)
from anchoring.toolchain import ContractArtifact
from ledger.core.errors import AnchoringError, UnavailableError

Artifacts = dict[str, ContractArtifact]


def _keystore(tmp_path: Path, key: bytes, password: str) -> Path:
    # A small scrypt cost keeps the test fast; the format is the same as geth's.
    keyfile = Account.encrypt(key, password, kdf="scrypt", iterations=2**10)
    path = tmp_path / "signer.json"
    path.write_text(json.dumps(keyfile))
    return path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.anvil
def test_keystore_signer_deploys_and_anchors(
    anvil_chain: DevChain, artifacts: Artifacts, tmp_path: Path
) -> None:
    operator = anvil_chain.dev_accounts()[1]
    signer = load_keystore(_keystore(tmp_path, operator.key, "s3cret"), "s3cret")
    assert signer.address == operator.address
    chain = RpcChain(anvil_chain.rpc_url or "", expected_chain_id=31337, signer=signer)
    assert chain.kind == "rpc" and chain.genesis_hash_hex() == anvil_chain.genesis_hash_hex()
    record, created = ensure_deployment(chain, artifacts, data_dir=tmp_path, admin_delay_s=172_800)
    assert created and record.deployer == operator.address and record.chain_kind == "rpc"
    registry = chain.contract(artifacts["AnchorRegistry"], record.address_of("AnchorRegistry"))
    receipt = chain.transact(
        registry.functions.anchorBatch(1, b"\x01" * 32, 1, b"\x02" * 32, "bafkrei")
    )
    assert receipt["from"] == operator.address
    assert chain.call(registry.functions.defaultAdminDelay()) == 172_800
    with pytest.raises(AnchoringError, match="no dev accounts"):
        chain.dev_accounts()
    with pytest.raises(AnchoringError, match="cannot take snapshots"):
        chain.snapshot()


@pytest.mark.anvil
def test_raw_key_signer_waits_for_confirmations(tmp_path: Path, anvil_path: Path) -> None:
    interval = DevChain.start(data_dir=tmp_path, anvil_path=anvil_path, block_time_s=0.3)
    try:
        key_hex = "0x" + bytes(interval.dev_accounts()[2].key).hex()
        chain = RpcChain(
            interval.rpc_url or "",
            expected_chain_id=31337,
            signer=signer_from_key(key_hex),
            confirmations=3,
            poll_interval_s=0.05,
        )
        receipt = chain.send_value(interval.dev_accounts()[3].address, 1)
        assert receipt["from"] == chain.signer.address
        assert chain.block_number() >= receipt["blockNumber"] + 2
    finally:
        interval.stop()


@pytest.mark.anvil
def test_missing_confirmations_time_out_as_unavailable(anvil_chain: DevChain) -> None:
    # With automine a next block only comes with the next tx: the wait for 2
    # confirmations ends as unavailable (retryable), never as a silent success.
    chain = RpcChain(
        anvil_chain.rpc_url or "",
        expected_chain_id=31337,
        signer=anvil_chain.dev_accounts()[2],
        confirmations=2,
        poll_interval_s=0.05,
        receipt_timeout_s=1,
    )
    with pytest.raises(UnavailableError, match="2 confirmations not reached"):
        chain.send_value(anvil_chain.dev_accounts()[3].address, 1)


@pytest.mark.anvil
def test_wrong_chain_id_is_refused(anvil_chain: DevChain) -> None:
    with pytest.raises(ChainIdMismatchError) as refused:
        RpcChain(anvil_chain.rpc_url or "", expected_chain_id=1, signer=anvil_chain.signer)
    assert (refused.value.expected, refused.value.actual) == (1, 31337)
    assert f"the node at {anvil_chain.rpc_url} serves chain id 31337, not the expected 1" in str(
        refused.value
    )


# A refused connection must end at once, not in a retry loop: the timeout is a hang guard.
@pytest.mark.timeout(30)
def test_unreachable_node_is_unavailable_fast() -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    with pytest.raises(UnavailableError, match=f"cannot reach the RPC node at {url}"):
        RpcChain(url, expected_chain_id=31337, signer=Account.create())


def test_keystore_errors_name_the_cause(tmp_path: Path) -> None:
    account = Account.create()
    path = _keystore(tmp_path, account.key, "right")
    with pytest.raises(SignerError, match="wrong password"):
        load_keystore(path, "wrong")
    with pytest.raises(SignerError, match="does not exist"):
        load_keystore(tmp_path / "missing.json", "right")
    (tmp_path / "junk.json").write_text("{")
    with pytest.raises(SignerError, match="is not JSON"):
        load_keystore(tmp_path / "junk.json", "right")
    (tmp_path / "other.json").write_text("{}")
    with pytest.raises(SignerError, match="not a Web3 Secret Storage"):
        load_keystore(tmp_path / "other.json", "right")


def test_resolve_signer_sources(tmp_path: Path) -> None:
    keystore_account = Account.create()
    raw_account = Account.create()
    path = _keystore(tmp_path, keystore_account.key, "pw")
    password_file = tmp_path / "pw.txt"
    password_file.write_text("pw\n")
    raw_hex = bytes(raw_account.key).hex()

    def resolve(**kw: Any) -> Any:
        base = {"keystore_path": None, "password": None, "password_file": None, "key_hex": None}
        return resolve_signer(**{**base, **kw})

    assert resolve() is None
    assert resolve(key_hex=raw_hex).address == raw_account.address
    assert resolve(keystore_path=path, password_file=password_file, key_hex=raw_hex).address == (
        keystore_account.address
    )
    with pytest.raises(SignerError, match="needs its password"):
        resolve(keystore_path=path)
    with pytest.raises(SignerError, match="is not hex"):
        signer_from_key("0xnothex")
    with pytest.raises(SignerError, match="holds 31 bytes"):
        signer_from_key("ab" * 31)
    with pytest.raises(SignerError, match="not a valid secp256k1"):
        signer_from_key("00" * 32)


def test_signing_uses_the_coincurve_backend() -> None:
    from eth_keys.backends import CoinCurveECCBackend, get_backend

    assert isinstance(get_backend(), CoinCurveECCBackend)


@pytest.mark.parametrize("mode", ["truncate", "http502"])
def test_garbled_answers_are_unavailable_not_raw_errors(anvil_chain: DevChain, mode: str) -> None:
    from tests.support.faultproxy import FaultProxy

    with FaultProxy(anvil_chain.rpc_url or "", lifetime_s=60) as proxy:
        chain = RpcChain(proxy.url, expected_chain_id=31337, signer=anvil_chain.signer)
        proxy.mode = mode
        with pytest.raises(UnavailableError):
            chain.block_number()
        proxy.mode = "pass"
        assert chain.block_number() == anvil_chain.block_number()
