"""AnchorRegistry record statuses: supersession proven against an anchored batch, and
``getStatus`` reading revocation and supersession in one call (docs/CONTRACTS.md §3), on
py-evm and anvil. The successor's proof comes from @openzeppelin/merkle-tree (node)."""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_abi import encode
from eth_utils import keccak

from tests.contracts.support import (
    ZERO32,
    ReferenceTree,
    Registries,
    expect_revert,
    random32,
    reference_tree,
)

pytestmark = pytest.mark.node


@pytest.fixture(scope="module")
def tree(repo_root: Path) -> tuple[list[bytes], ReferenceTree]:
    digests = [random32() for _ in range(5)]
    return digests, reference_tree(repo_root, digests)


def anchor(reg: Registries, seq: int, root: bytes, count: int) -> None:
    reg.tx(reg.anchor.functions.anchorBatch(seq, root, count, random32(), "cid"), "anchorer")


def single_leaf_root(digest: bytes) -> bytes:
    """A one-record batch: its root is the leaf itself (StandardMerkleTree, ["bytes32"])."""
    return keccak(keccak(encode(["bytes32"], [digest])))


def status(reg: Registries, digest: bytes) -> tuple:
    return tuple(reg.call(reg.anchor.functions.getStatus(digest)))


def test_supersession_is_recorded_once_with_the_successor_proven_anchored(
    reg: Registries, tree: tuple[list[bytes], ReferenceTree]
) -> None:
    digests, ref = tree
    anchor(reg, 1, ref.root, len(digests))
    old, successor = random32(), digests[3]
    fn = reg.anchor.functions.markSuperseded(old, successor, 1, ref.proofs[successor])
    receipt = reg.tx(fn, "anchorer")
    assert reg.events(reg.anchor, "DigestSuperseded", receipt) == [
        {"digest": old, "successor": successor, "successorSeq": 1}
    ]
    block = reg.chain.w3.eth.get_block(receipt["blockNumber"])
    expected = (successor, 1, receipt["blockNumber"], block["timestamp"])
    assert tuple(reg.call(reg.anchor.functions.getSupersession(old))) == expected
    revocation, supersession = status(reg, old)
    assert tuple(revocation) == (0, ZERO32, 0, 0)
    assert tuple(supersession) == expected
    # Once only, and the error names the recorded successor.
    other = digests[4]
    again = reg.anchor.functions.markSuperseded(old, other, 1, ref.proofs[other])
    expect_revert(
        lambda: reg.tx(again, "anchorer"),
        "AnchorRegistryAlreadySuperseded",
        digest=old,
        successor=successor,
    )


def test_successor_not_in_the_batch_is_refused(
    reg: Registries, tree: tuple[list[bytes], ReferenceTree]
) -> None:
    digests, ref = tree
    anchor(reg, 1, ref.root, len(digests))
    stranger = random32()
    # A valid proof of another record, presented for a digest that is not in the batch.
    fn = reg.anchor.functions.markSuperseded(random32(), stranger, 1, ref.proofs[digests[0]])
    expect_revert(
        lambda: reg.tx(fn, "anchorer"),
        "AnchorRegistrySuccessorNotAnchored",
        successor=stranger,
        seq=1,
    )


def test_successor_in_a_batch_never_anchored_is_refused(reg: Registries) -> None:
    fn = reg.anchor.functions.markSuperseded(random32(), random32(), 7, [])
    expect_revert(lambda: reg.tx(fn, "anchorer"), "AnchorRegistryUnknownBatch", seq=7)


def test_supersession_zero_and_self_values_revert(reg: Registries) -> None:
    digest = random32()
    anchor(reg, 1, single_leaf_root(digest), 1)
    for args in ((ZERO32, digest, 1, []), (random32(), ZERO32, 1, [])):
        fn = reg.anchor.functions.markSuperseded(*args)
        expect_revert(lambda fn=fn: reg.tx(fn, "anchorer"), "AnchorRegistryZeroDigest")
    fn = reg.anchor.functions.markSuperseded(digest, digest, 1, [])
    expect_revert(lambda: reg.tx(fn, "anchorer"), "AnchorRegistrySelfSupersession", digest=digest)


def test_status_holds_revocation_and_supersession_together(reg: Registries) -> None:
    digest, successor, reason = random32(), random32(), random32()
    assert status(reg, digest) == ((0, ZERO32, 0, 0), (ZERO32, 0, 0, 0))
    revoked = reg.tx(reg.anchor.functions.revoke(digest, 3, reason), "revoker")
    anchor(reg, 1, single_leaf_root(successor), 1)
    superseded = reg.tx(reg.anchor.functions.markSuperseded(digest, successor, 1, []), "anchorer")
    revocation, supersession = status(reg, digest)
    t_revoked = reg.chain.w3.eth.get_block(revoked["blockNumber"])["timestamp"]
    t_superseded = reg.chain.w3.eth.get_block(superseded["blockNumber"])["timestamp"]
    assert tuple(revocation) == (3, reason, revoked["blockNumber"], t_revoked)
    assert tuple(supersession) == (successor, 1, superseded["blockNumber"], t_superseded)


def test_interface_versions(reg: Registries) -> None:
    # AnchorRegistry is at version 2; TrustRegistry at 3 (terminal keys, docs/CONTRACTS.md §6).
    assert reg.call(reg.anchor.functions.INTERFACE_VERSION()) == 2
    assert reg.call(reg.trust.functions.INTERFACE_VERSION()) == 3
