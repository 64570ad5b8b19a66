"""The lying-RPC campaign, extended to every chain fact ``carbon-verify`` reads (docs/VERIFY.md
"What you trust"): keys, record-type grants, revocations, attestations, the anchoring
receipts, the chain id, the head and the log hashes. A proxy in front of a real anvil lies
about one kind of answer at a time; each run goes through ``main([...])`` and the lie is
caught by the numbered check named in the test. The ledger here has one record of the
bundle revoked and one attested, so hiding either is a lie worth telling.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_utils import keccak

from anchoring.chain import DevChain
from ledger import examples
from ledger.core.signature import key_id, public_key_bytes
from tests.support.lyingproxy import LyingProxy
from tests.verifier.support import Ledger, build_ledger, producer_key
from verifier.chain import ChainReader
from verifier.cli import main
from verifier.evm.layout import StorageLayout

pytestmark = pytest.mark.anvil

REVOKED = examples.CR_TANK_REVISED
ATTESTED = examples.SUB_HX_SEA
ITEMS = (examples.SUB_TANK_EU, ATTESTED, REVOKED)


@pytest.fixture(scope="module")
def ledger(
    artifacts: dict[str, Any], anvil_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Ledger]:
    chain = DevChain.start(data_dir=tmp_path_factory.mktemp("anvil-facts"), anvil_path=anvil_path)
    try:
        ledger = build_ledger(chain, artifacts)
        registry, trust = ledger.contract("AnchorRegistry"), ledger.contract("TrustRegistry")
        chain.transact(registry.functions.revoke(ledger.commitments[REVOKED].digest, 2, bytes(32)))
        body = chain.dev_accounts()[5]
        chain.transact(
            trust.functions.accreditBody(
                body.address, "Example Verification Body of a long name", "ISO 14064-3",
                "EU,GB,CN", 0, 2**40,
            )
        )  # fmt: skip
        chain.transact(
            trust.functions.attest(ledger.commitments[ATTESTED].digest, keccak(b"report"), 3),
            sender=body,
        )
        yield ledger
    finally:
        chain.stop()


@pytest.fixture
def bundle(ledger: Ledger, tmp_path: Path) -> Path:
    path = tmp_path / "bundle.json"
    path.write_bytes(ledger.bundle_bytes(ITEMS))
    return path


@pytest.fixture
def proxy(ledger: Ledger) -> Iterator[LyingProxy]:
    with LyingProxy(str(ledger.chain.rpc_url)) as p:
        yield p


def verify(ledger: Ledger, bundle: Path, *urls: str) -> tuple[int, dict[str, Any]]:
    argv = ["bundle", str(bundle), "--chain-id", str(ledger.chain.chain_id),
            "--registry", ledger.anchor_address, "--json"]  # fmt: skip
    for url in urls:
        argv += ["--rpc", url]
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(io.StringIO()):
        code = main(argv)
    return code, json.loads(buffer.getvalue())


def statuses(report: dict[str, Any], number: int) -> dict[str, str]:
    """record id (or subject) -> status of check ``number``."""
    return {
        c.get("record_id", c["subject"]): c["status"]
        for c in report["checks"]
        if c["number"] == number
    }


def reasons(report: dict[str, Any], number: int, status: str = "FAIL") -> set[str]:
    return {
        c["reason"] for c in report["checks"] if c["number"] == number and c["status"] == status
    }


def _honest(ledger: Ledger, bundle: Path) -> dict[str, Any]:
    code, report = verify(ledger, bundle, str(ledger.chain.rpc_url))
    assert code == 1
    assert statuses(report, 8)[REVOKED] == "FAIL"
    assert statuses(report, 11)[ATTESTED] == "WARN"  # "does not conform" was filed
    return report


def test_without_lies_the_revocation_fails_and_the_attestation_is_listed(
    ledger: Ledger, bundle: Path
) -> None:
    report = _honest(ledger, bundle)
    assert any("Example Verification Body of a long name" in r for r in reasons(report, 11, "WARN"))
    # Every other check of every record passes: the revocation is the only failure.
    failed = [(c["number"], c.get("record_id")) for c in report["checks"] if c["status"] == "FAIL"]
    assert failed == [(8, REVOKED)]


def test_no_view_call_and_no_log_is_believed(
    ledger: Ledger, bundle: Path, proxy: LyingProxy
) -> None:
    """Every eth_call and every eth_getLogs answer is garbage: the result is the honest
    one (nothing the checks use comes from them), and none was even asked."""
    # The view reader of the first version, for contrast: it learns the TrustRegistry
    # before the proxy starts lying, then believes the lies.
    fooled = ChainReader.from_rpc(proxy.url, anchor_registry=ledger.anchor_address)
    fooled.linked_trust_registry()
    proxy.lie("eth_call", lambda _p, _r: "0x" + "00" * 32)
    proxy.lie("eth_getLogs", lambda _p, _r: [])
    asked_before = proxy.calls["eth_call"]
    code, report = verify(ledger, bundle, proxy.url)
    honest = _honest(ledger, bundle)
    assert code == 1
    for number in (5, 7, 8, 11, 14):
        assert statuses(report, number) == statuses(honest, number)
    assert proxy.calls["eth_call"] == asked_before and proxy.calls["eth_getLogs"] == 0
    fooled.pin_head()
    assert fooled.revocation(ledger.commitments[REVOKED].digest) is None


def _slot_of(layout: str, *path: Any) -> str:
    return "0x" + StorageLayout.packaged(layout).locate(*path).slot.to_bytes(32, "big").hex()


def _lie_about_slot(proxy: LyingProxy, slot: str, value: str) -> None:
    """Every eth_getProof answer that proves ``slot`` states ``value`` there instead."""

    def lie(params: list[Any], answer: dict[str, Any]) -> dict[str, Any]:
        storage = [
            {**entry, "value": value} if int(entry["key"], 16) == int(slot, 16) else entry
            for entry in answer["storageProof"]
        ]
        return {**answer, "storageProof": storage}

    proxy.lie("eth_getProof", lie)


def test_a_hidden_revocation_is_caught_by_check_8(
    ledger: Ledger, bundle: Path, proxy: LyingProxy
) -> None:
    digest = ledger.commitments[REVOKED].digest
    _lie_about_slot(proxy, _slot_of("AnchorRegistry", "_revocations", digest, "reasonCode"), "0x0")
    code, report = verify(ledger, bundle, proxy.url)
    assert code == 1
    assert statuses(report, 8)[REVOKED] == "FAIL"
    assert all(proxy.url in r and "but its proof shows" in r for r in reasons(report, 8))
    assert statuses(report, 5) == statuses(_honest(ledger, bundle), 5)


def test_a_forged_key_is_caught_by_check_5(ledger: Ledger, bundle: Path, proxy: LyingProxy) -> None:
    producer = ledger.commitments[examples.SUB_TANK_EU].record["producer"]
    kid = bytes.fromhex(key_id(public_key_bytes(producer_key(producer))))
    _lie_about_slot(proxy, _slot_of("TrustRegistry", "_keys", kid, "publicKey"), "0x" + "42" * 32)
    code, report = verify(ledger, bundle, proxy.url)
    assert code == 1
    failed = reasons(report, 5)
    assert failed and all(proxy.url in r for r in failed)


def test_a_withdrawn_type_grant_stated_granted_is_caught_by_check_5(
    ledger: Ledger, bundle: Path, proxy: LyingProxy
) -> None:
    record = ledger.commitments[examples.SUB_TANK_EU].record
    kid = bytes.fromhex(key_id(public_key_bytes(producer_key(record["producer"]))))
    type_hash = keccak(record["type"].encode())
    _lie_about_slot(proxy, _slot_of("TrustRegistry", "_grants", kid, type_hash, "grantedAt"), "0x0")
    code, report = verify(ledger, bundle, proxy.url)
    assert code == 1 and reasons(report, 5)


def test_a_hidden_attestation_is_caught_by_check_11(
    ledger: Ledger, bundle: Path, proxy: LyingProxy
) -> None:
    digest = ledger.commitments[ATTESTED].digest
    _lie_about_slot(proxy, _slot_of("TrustRegistry", "_attestations", digest), "0x0")
    code, report = verify(ledger, bundle, proxy.url)
    assert code == 1
    assert statuses(report, 11)[ATTESTED] == "FAIL"
    assert all(proxy.url in r for r in reasons(report, 11))


def test_a_forged_log_hash_is_caught_by_check_14(
    ledger: Ledger, bundle: Path, proxy: LyingProxy
) -> None:
    _lie_about_slot(proxy, _slot_of("AnchorRegistry", "_batches", 1, "logHash"), "0x" + "ab" * 32)
    code, report = verify(ledger, bundle, proxy.url)
    assert code == 1
    assert reasons(report, 14) and all(proxy.url in r for r in reasons(report, 14))


# -- facts no proof covers: every endpoint must say the same -----------------------------------


def test_a_failed_anchor_receipt_fools_one_endpoint_but_not_two(
    ledger: Ledger, bundle: Path, proxy: LyingProxy
) -> None:
    proxy.lie("eth_getTransactionReceipt", lambda _p, r: {**r, "status": "0x0"} if r else r)
    code, report = verify(ledger, bundle, proxy.url)
    assert statuses(report, 7) and set(statuses(report, 7).values()) == {"FAIL"}  # believed
    code, report = verify(ledger, bundle, str(ledger.chain.rpc_url), proxy.url)
    assert code == 1
    failed = reasons(report, 7)
    assert failed and all("disagree on transaction" in r and proxy.url in r for r in failed)


def test_another_chain_id_from_a_second_endpoint_fails_check_2(
    ledger: Ledger, bundle: Path, proxy: LyingProxy
) -> None:
    proxy.lie("eth_chainId", lambda _p, _r: "0x1")
    code, report = verify(ledger, bundle, str(ledger.chain.rpc_url), proxy.url)
    assert code == 1
    (reason,) = reasons(report, 2)
    assert "disagree on the chain id" in reason and proxy.url in reason


def test_an_earlier_head_hides_nothing_beside_an_honest_endpoint(
    ledger: Ledger, bundle: Path, proxy: LyingProxy
) -> None:
    """The proxy claims the head of the block before the revocation: read alone it hides
    the revocation; beside an honest endpoint the highest head is read and check 8 fails."""
    revoked_at = ledger.chain.w3.eth.block_number - 2  # revoke, accredit, attest
    proxy.lie("eth_blockNumber", lambda _p, _r: hex(revoked_at - 1))
    _, alone = verify(ledger, bundle, proxy.url)
    assert statuses(alone, 8)[REVOKED] == "PASS"  # what one endpoint can still do
    code, report = verify(ledger, bundle, proxy.url, str(ledger.chain.rpc_url))
    assert code == 1 and statuses(report, 8)[REVOKED] == "FAIL"
