"""The AnchorRegistry's batch records proven against recomputed headers on a real anvil,
over HTTP JSON-RPC batches: what ``RegistryProver`` proves equals what the contract says
through its own view functions and what the anchoring receipts recorded."""

from __future__ import annotations

import pytest

from tests.verifier.support import Ledger
from verifier.evm.registry import RegistryProver
from verifier.evm.rpc import RpcEndpoint

pytestmark = pytest.mark.anvil


def prover_for(ledger: Ledger, *urls: str, code_hash: str | None = None) -> RegistryProver:
    endpoints = [RpcEndpoint(u) for u in (urls or (str(ledger.chain.rpc_url),))]
    return RegistryProver(endpoints, registry=ledger.anchor_address, code_hash=code_hash)


def test_every_batch_record_is_proven_at_its_anchor_block(anvil_ledger: Ledger) -> None:
    prover = prover_for(anvil_ledger)
    anchors = {seq: h.block_number for seq, h in anvil_ledger.headers.items()}
    proven = prover.prove_batches(anchors)
    registry = anvil_ledger.contract("AnchorRegistry")
    for seq, header in anvil_ledger.headers.items():
        batch = proven[seq]
        assert batch.header.hash == header.block_hash  # recomputed, equal to the receipt's
        assert (batch.root, batch.leaf_count, batch.manifest_digest, batch.block_number) == (
            header.root,
            header.leaf_count,
            header.manifest_digest,
            header.block_number,
        )
        view = registry.functions.getBatch(seq).call()
        assert batch.timestamp == view[4] and batch.log_hash == bytes(view[5])
    # Every anchor's header in one batch request, every record's proof in another.
    assert prover.primary.requests == 2


def test_head_count_and_log_head(anvil_ledger: Ledger) -> None:
    prover = prover_for(anvil_ledger)
    head = anvil_ledger.chain.w3.eth.block_number
    proven = prover.prove_head(head)
    registry = anvil_ledger.contract("AnchorRegistry")
    assert proven.batch_count == len(anvil_ledger.headers)
    assert proven.log_head == bytes(registry.functions.logHead().call())


def test_unrevoked_digests_prove_zero(anvil_ledger: Ledger) -> None:
    prover = prover_for(anvil_ledger)
    head = anvil_ledger.chain.w3.eth.block_number
    digests = [c.digest for c in anvil_ledger.commitments.values()]
    proven = prover.prove_revocations(digests, head)
    assert set(proven) == set(digests)
    assert all(r.reason_code == 0 for r in proven.values())
