"""The demo batch ``carbonledger up`` anchors: a few synthetic record digests.

Digests are SHA-256 of a label carrying the batch number, so every batch holds
new digests (a digest appears in at most one batch, DESIGN §3.4). The batch is
built and anchored exactly as the anchorer does: OpenZeppelin-compatible tree,
manifest digest and CID (ledger.core.merkle), then ``anchorBatch``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from hexbytes import HexBytes

from anchoring.chain import Chain
from anchoring.chain.base import ArtifactLike
from anchoring.deployment import DeploymentRecord
from ledger.core.errors import AnchoringError
from ledger.core.merkle import (
    ZERO_DIGEST_HEX,
    MerkleTree,
    build_manifest,
    manifest_cid,
    manifest_digest,
)

DEMO_LEAF_COUNT = 4


def demo_digests(seq: int, count: int = DEMO_LEAF_COUNT) -> list[bytes]:
    return [
        hashlib.sha256(f"carbonledger demo record {seq}.{i}".encode()).digest()
        for i in range(count)
    ]


def anchor_demo_batch(
    chain: Chain,
    artifacts: Mapping[str, ArtifactLike],
    record: DeploymentRecord,
    *,
    now: datetime,
) -> dict[str, Any]:
    """Anchor the next demo batch and return its on-chain record, read back from the contract."""
    registry = chain.contract(artifacts["AnchorRegistry"], record.address_of("AnchorRegistry"))
    seq = int(chain.call(registry.functions.nextSeq()))
    prev_hex = (
        ZERO_DIGEST_HEX
        if seq == 1
        else bytes(chain.call(registry.functions.getBatch(seq - 1))[2]).hex()
    )
    digests = demo_digests(seq)
    tree = MerkleTree.build(digests)
    manifest = build_manifest(
        seq=seq,
        prev_manifest_digest_hex=prev_hex,
        created_at=now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        digests=digests,
    )
    digest = manifest_digest(manifest)
    cid = manifest_cid(manifest)
    receipt = chain.transact(
        registry.functions.anchorBatch(seq, tree.root, tree.leaf_count, digest, cid)
    )
    root, leaf_count, onchain_manifest, block, timestamp, log_hash = chain.call(
        registry.functions.getBatch(seq)
    )
    if bytes(root) != tree.root or bytes(onchain_manifest) != digest:
        raise AnchoringError(f"batch {seq} reads back differently from what was anchored")
    proof = tree.proof(digests[0])
    if not chain.call(registry.functions.verifyInclusion(seq, proof, digests[0])):
        raise AnchoringError(
            f"the contract rejects the inclusion proof of batch {seq}'s first leaf"
        )
    return {
        "seq": seq,
        "root": "0x" + bytes(root).hex(),
        "leaf_count": int(leaf_count),
        "manifest_digest": bytes(onchain_manifest).hex(),
        "manifest_cid": cid,
        "block": int(block),
        "timestamp": int(timestamp),
        "log_hash": "0x" + bytes(log_hash).hex(),
        "tx": HexBytes(receipt["transactionHash"]).to_0x_hex(),
        "gas_used": int(receipt["gasUsed"]),
        "inclusion_verified_on_chain": True,  # verifyInclusion accepted leaf 0's proof
    }
