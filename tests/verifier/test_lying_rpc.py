"""The lying-RPC campaign: a proxy in front of a real anvil rewrites one kind of answer at
a time (``eth_call``, ``eth_getProof``, ``eth_getBlockByNumber``, ``eth_getLogs``), and
each lie is caught, by the function named in the test. Where the old one-call reader
(``ChainReader``, which believes ``eth_call`` and ``eth_getLogs``) would have been fooled,
the test shows that too, so the catch is the proofs', not luck.

Agreement: the same headers from two or three endpoints (anvil, an anvil forked from it,
the proxy) pass; an endpoint on another chain, or a proxy serving another chain's
self-consistent header, is a failure naming both endpoints.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from eth_utils import keccak

from anchoring.chain import DevChain
from ledger.core.errors import VerificationError
from tests.support.lyingproxy import LyingProxy
from tests.verifier.conftest import reader_for
from tests.verifier.support import Ledger
from verifier.chain import ChainReader
from verifier.evm.errors import (
    CodeHashError,
    EndpointDisagreementError,
    EndpointUnavailableError,
    HeaderHashError,
    ProofError,
)
from verifier.evm.registry import RegistryProver, verify_batch_header
from verifier.evm.rpc import RpcEndpoint

pytestmark = pytest.mark.anvil


@pytest.fixture
def proxy(anvil_ledger: Ledger) -> Iterator[LyingProxy]:
    with LyingProxy(str(anvil_ledger.chain.rpc_url)) as p:
        yield p


def anchors_of(ledger: Ledger) -> dict[int, int]:
    return {seq: h.block_number for seq, h in ledger.headers.items()}


def prover(ledger: Ledger, *urls: str) -> RegistryProver:
    return RegistryProver([RpcEndpoint(u) for u in urls], registry=ledger.anchor_address)


def _flip(hex_text: str, at: int = -1) -> str:
    """The same hex with one nibble changed (at ``at``, counted in the hex digits)."""
    digits = list(hex_text)
    digits[at] = "1" if digits[at] != "1" else "2"
    return "".join(digits)


# -- eth_getBlockByNumber ------------------------------------------------------------


def test_header_with_another_state_root_is_caught_by_its_hash(
    anvil_ledger: Ledger, proxy: LyingProxy
) -> None:
    proxy.lie(
        "eth_getBlockByNumber", lambda _p, block: {**block, "stateRoot": _flip(block["stateRoot"])}
    )
    with pytest.raises(HeaderHashError, match=r"hashes to .* not to the hash") as caught:
        prover(anvil_ledger, proxy.url).prove_batches(anchors_of(anvil_ledger))
    assert proxy.url in caught.value.message  # caught by header.header_from_rpc


def test_rehashed_header_with_another_state_root_does_not_fold(
    anvil_ledger: Ledger, proxy: LyingProxy
) -> None:
    """The lie made self-consistent (the hash recomputed over the forged state root):
    the registry's proofs no longer fold to it (state.verify_proof), and the hash is not
    the bundle's block hash either."""
    from verifier.evm.header import header_from_rpc

    def forge(_params: list[Any], block: dict[str, Any]) -> dict[str, Any]:
        forged = {**block, "stateRoot": _flip(block["stateRoot"])}
        try:
            header_from_rpc(forged, url="x")
        except HeaderHashError as exc:
            forged["hash"] = exc.computed
        return forged

    proxy.lie("eth_getBlockByNumber", forge)
    with pytest.raises(ProofError, match="does not fold"):
        prover(anvil_ledger, proxy.url).prove_batches(anchors_of(anvil_ledger))


def test_header_of_another_height_is_caught(anvil_ledger: Ledger, proxy: LyingProxy) -> None:
    w3 = anvil_ledger.chain.w3

    def other_block(params: list[Any], _block: Any) -> Any:
        number = int(params[0], 16)
        other = number - 1 if number else number + 1
        return w3.provider.make_request("eth_getBlockByNumber", [hex(other), False])["result"]

    proxy.lie("eth_getBlockByNumber", other_block)
    with pytest.raises(HeaderHashError, match="answered with block"):
        prover(anvil_ledger, proxy.url).prove_batches(anchors_of(anvil_ledger))


def test_header_that_is_not_hex_is_unusable_not_believed(
    anvil_ledger: Ledger, proxy: LyingProxy
) -> None:
    proxy.lie("eth_getBlockByNumber", lambda _p, block: {**block, "extraData": "0xzz"})
    with pytest.raises(EndpointUnavailableError, match="malformed block header from"):
        prover(anvil_ledger, proxy.url).prove_batches(anchors_of(anvil_ledger))


# -- eth_getProof ----------------------------------------------------------------------


def test_tampered_account_proof_node_does_not_fold(anvil_ledger: Ledger, proxy: LyingProxy) -> None:
    def tamper(_params: list[Any], answer: dict[str, Any]) -> dict[str, Any]:
        nodes = list(answer["accountProof"])
        nodes[-1] = _flip(nodes[-1], -3)
        return {**answer, "accountProof": nodes}

    proxy.lie("eth_getProof", tamper)
    with pytest.raises(ProofError, match="does not fold"):
        prover(anvil_ledger, proxy.url).prove_batches(anchors_of(anvil_ledger))


def test_stated_slot_value_that_its_proof_does_not_show(
    anvil_ledger: Ledger, proxy: LyingProxy
) -> None:
    def lie_value(_params: list[Any], answer: dict[str, Any]) -> dict[str, Any]:
        storage = [{**entry, "value": "0x" + "ab" * 32} for entry in answer["storageProof"]]
        return {**answer, "storageProof": storage}

    proxy.lie("eth_getProof", lie_value)
    with pytest.raises(ProofError, match="but its proof shows"):
        prover(anvil_ledger, proxy.url).prove_batches(anchors_of(anvil_ledger))


def test_proof_of_another_slot_under_the_asked_slot(
    anvil_ledger: Ledger, proxy: LyingProxy
) -> None:
    """The proxy answers each asked slot with the proof and value of the next one (batch 1's
    root served as batch 2's, and so on), relabelled with the asked key. The nodes of all
    the slots' proofs together still hold the true path of each asked key (the verifier
    walks one table of them), so what they show is the true word, and the value the proxy
    states beside it is exposed as not that word."""

    def rotate(_params: list[Any], answer: dict[str, Any]) -> dict[str, Any]:
        entries = answer["storageProof"]
        storage = [
            {**entries[(i + 1) % len(entries)], "key": entry["key"]}
            for i, entry in enumerate(entries)
        ]
        return {**answer, "storageProof": storage}

    proxy.lie("eth_getProof", rotate)
    with pytest.raises(ProofError, match="but its proof shows"):
        prover(anvil_ledger, proxy.url).prove_batches(anchors_of(anvil_ledger))


def test_stated_code_hash_that_the_account_proof_does_not_show(
    anvil_ledger: Ledger, proxy: LyingProxy
) -> None:
    proxy.lie("eth_getProof", lambda _p, a: {**a, "codeHash": _flip(a["codeHash"])})
    with pytest.raises(ProofError, match="states codeHash"):
        prover(anvil_ledger, proxy.url).prove_batches(anchors_of(anvil_ledger))


def test_registry_running_other_code_than_pinned(anvil_ledger: Ledger) -> None:
    other = "0x" + keccak(b"some other build").hex()
    p = RegistryProver(
        [RpcEndpoint(str(anvil_ledger.chain.rpc_url))],
        registry=anvil_ledger.anchor_address,
        code_hash=other,
    )
    with pytest.raises(CodeHashError, match="not the pinned"):
        p.prove_batches(anchors_of(anvil_ledger))


# -- eth_call ----------------------------------------------------------------------------


def test_eth_call_lie_fools_the_view_reader_but_not_the_proofs(
    anvil_ledger: Ledger, proxy: LyingProxy
) -> None:
    """A forged bundle names another root for batch 2 and the proxy's eth_call backs it:
    the view reader believes it; the proven record does not."""
    forged_root = keccak(b"a root the registry never held")
    getbatch = "0x" + keccak(text="getBatch(uint64)")[:4].hex()
    true_root = anvil_ledger.headers[2].root.hex()

    def lie(params: list[Any], result: str) -> str:
        if params[0].get("data", params[0].get("input", "")).startswith(getbatch):
            return result.replace(true_root, forged_root.hex())
        return result

    proxy.lie("eth_call", lie)
    fooled = ChainReader.from_rpc(proxy.url, anchor_registry=anvil_ledger.anchor_address)
    batch = fooled.batch(2)
    assert batch is not None and batch.root == forged_root  # the old reader is fooled

    forged = replace(anvil_ledger.headers[2], root=forged_root)
    proven = prover(anvil_ledger, proxy.url).prove_batches(anchors_of(anvil_ledger))
    with pytest.raises(VerificationError, match=r"root .* is not the proven") as caught:
        verify_batch_header(proven[2], forged, where="bundle.batches.2")
    assert caught.value.expected == {"root": true_root}
    assert proxy.calls["eth_call"] >= 1 and proxy.calls["eth_getProof"] >= 1


# -- eth_getLogs -------------------------------------------------------------------------


def test_hidden_revocation_log_fools_the_log_index_but_not_the_proofs(
    anvil_ledger: Ledger, proxy: LyingProxy
) -> None:
    """The registry revoked a digest; the proxy drops every log from eth_getLogs. The view
    reader's log index says "never revoked"; the proven revocation slot says code 9."""
    digest = keccak(b"a record revoked for this test")
    registry = anvil_ledger.contract("AnchorRegistry")
    anvil_ledger.chain.transact(registry.functions.revoke(digest, 9, bytes(32)))
    proxy.lie("eth_getLogs", lambda _p, _logs: [])
    fooled = ChainReader.from_rpc(proxy.url, anchor_registry=anvil_ledger.anchor_address)
    fooled.pin_head()
    assert fooled.revocation(digest) is None  # fooled by the missing log

    head = anvil_ledger.chain.w3.eth.block_number
    proven = prover(anvil_ledger, proxy.url).prove_revocations([digest], head)
    assert proven[digest].reason_code == 9
    assert proxy.calls["eth_getLogs"] >= 1


# -- several endpoints ---------------------------------------------------------------------


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def forked_anvil(anvil_ledger: Ledger, anvil_path: Path, tmp_path: Path) -> Iterator[str]:
    """A second anvil forked from the ledger's at its head: the same blocks up to there."""
    port = _free_port()
    head = anvil_ledger.chain.w3.eth.block_number
    log = (tmp_path / "fork.log").open("wb")
    process = subprocess.Popen(
        [str(anvil_path), "--host", "127.0.0.1", "--port", str(port),
         "--fork-url", str(anvil_ledger.chain.rpc_url), "--fork-block-number", str(head)],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                RpcEndpoint(url, timeout_s=1).call("eth_chainId")
                break
            except EndpointUnavailableError:
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def test_three_endpoints_that_agree(
    anvil_ledger: Ledger, proxy: LyingProxy, forked_anvil: str
) -> None:
    p = prover(anvil_ledger, str(anvil_ledger.chain.rpc_url), forked_anvil, proxy.url)
    proven = p.prove_batches(anchors_of(anvil_ledger))
    for seq, header in anvil_ledger.headers.items():
        verify_batch_header(proven[seq], header, where=f"bundle.batches.{seq}")
    # The headers in one batch request to each endpoint; the proofs in one more to the first.
    assert [e.requests for e in p.endpoints] == [2, 1, 1]


def test_endpoint_on_another_chain_is_a_disagreement_naming_both(
    anvil_ledger: Ledger, anvil_chain: DevChain
) -> None:
    """Another anvil (same chain id, its own history) mined to the same heights."""
    top = max(anchors_of(anvil_ledger).values())
    for _ in range(top):
        anvil_chain.w3.provider.make_request("evm_mine", [])
    ours, theirs = str(anvil_ledger.chain.rpc_url), str(anvil_chain.rpc_url)
    with pytest.raises(EndpointDisagreementError) as caught:
        prover(anvil_ledger, ours, theirs).prove_batches(anchors_of(anvil_ledger))
    assert ours in caught.value.message and theirs in caught.value.message
    assert set(caught.value.hashes) == {ours, theirs}


def test_proxy_serving_another_chains_consistent_header_disagrees(
    anvil_ledger: Ledger, anvil_chain: DevChain, proxy: LyingProxy
) -> None:
    """The lying endpoint's headers hash correctly (they are real blocks, of another
    chain): only the comparison with the honest endpoint catches them."""
    top = max(anchors_of(anvil_ledger).values())
    for _ in range(top):
        anvil_chain.w3.provider.make_request("evm_mine", [])
    w3 = anvil_chain.w3
    proxy.lie(
        "eth_getBlockByNumber",
        lambda params, _b: w3.provider.make_request("eth_getBlockByNumber", params)["result"],
    )
    honest = str(anvil_ledger.chain.rpc_url)
    with pytest.raises(EndpointDisagreementError, match="disagree") as caught:
        prover(anvil_ledger, honest, proxy.url).prove_batches(anchors_of(anvil_ledger))
    assert proxy.url in caught.value.message


def test_view_reader_still_works_through_the_honest_proxy(
    anvil_ledger: Ledger, proxy: LyingProxy
) -> None:
    """Control: with no lie configured the proxy changes nothing."""
    reader = reader_for(anvil_ledger)
    assert reader.batch(1) is not None
    proven = prover(anvil_ledger, proxy.url).prove_batches(anchors_of(anvil_ledger))
    verify_batch_header(proven[1], anvil_ledger.headers[1], where="bundle.batches.1")


# -- end to end: check 7 of carbon-verify ----------------------------------------------------


def test_check_7_fails_a_count_the_lying_eth_call_backs(
    anvil_ledger: Ledger, proxy: LyingProxy, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bundle overstating batch 2's leaf count, and an RPC whose getBatch agrees: the
    Merkle proofs still fold (they do not involve the count), getBatch says the same, and
    only the proven record shows the lie. Check 7 FAILs with the proven value."""
    import json

    from ledger.core.canonical import canonicalize
    from verifier.cli import main

    doc = json.loads(anvil_ledger.bundle_bytes())
    true_count = doc["batches"]["2"]["leaf_count"]
    doc["batches"]["2"]["leaf_count"] = true_count + 1
    path = tmp_path / "overstated.json"
    path.write_bytes(canonicalize(doc))
    getbatch = "0x" + keccak(text="getBatch(uint64)")[:4].hex()
    word = f"{true_count:064x}"

    def lie(params: list[Any], result: str) -> str:
        if params[0].get("data", params[0].get("input", "")).startswith(getbatch):
            return result.replace(word, f"{true_count + 1:064x}", 1)
        return result

    proxy.lie("eth_call", lie)
    fooled = ChainReader.from_rpc(proxy.url, anchor_registry=anvil_ledger.anchor_address)
    assert fooled.batch(2).leaf_count == true_count + 1  # type: ignore[union-attr]

    code = main(
        ["bundle", str(path), "--rpc", proxy.url, "--chain-id", str(anvil_ledger.chain.chain_id),
         "--registry", anvil_ledger.anchor_address, "--json"]
    )  # fmt: skip
    report = json.loads(capsys.readouterr().out)
    assert code == 1
    failed = {c["reason"] for c in report["checks"] if c["number"] == 7 and c["status"] == "FAIL"}
    assert failed == {
        f"bundle.batches.2: leaf_count {true_count + 1} is not the proven {true_count}"
    }
    assert {c["status"] for c in report["checks"] if c["number"] == 6} == {"PASS"}


def test_cli_with_two_endpoints_on_two_chains_fails_check_2_naming_both(
    anvil_ledger: Ledger,
    anvil_chain: DevChain,
    forked_anvil: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from verifier.cli import main

    path = tmp_path / "bundle.json"
    path.write_bytes(anvil_ledger.bundle_bytes())
    ours = str(anvil_ledger.chain.rpc_url)
    pins = [
        "--chain-id",
        str(anvil_ledger.chain.chain_id),
        "--registry",
        anvil_ledger.anchor_address,
    ]
    assert main(["bundle", str(path), "--rpc", ours, "--rpc", forked_anvil, *pins]) == 0
    capsys.readouterr()

    for _ in range(max(anchors_of(anvil_ledger).values())):
        anvil_chain.w3.provider.make_request("evm_mine", [])
    theirs = str(anvil_chain.rpc_url)
    assert main(["bundle", str(path), "--rpc", ours, "--rpc", theirs, *pins, "--json"]) == 1
    import json

    report = json.loads(capsys.readouterr().out)
    # The head headers differ already: check 2 fails, and nothing else is read.
    failed = [c["reason"] for c in report["checks"] if c["number"] == 2 and c["status"] == "FAIL"]
    assert failed and all(ours in r and theirs in r and "disagree" in r for r in failed)
