"""AnchorRegistry.verifyInclusion against proofs made by OpenZeppelin's JavaScript library
(@openzeppelin/merkle-tree StandardMerkleTree, leaf encoding ["bytes32"], docs/FORMAT.md §4), and
the attacks it must refuse, named for what they model."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.contracts.support import (
    ReferenceTree,
    Registries,
    expect_revert,
    process_proof,
    random32,
    reference_tree,
)

pytestmark = pytest.mark.node

SIZES = (1, 2, 3, 5, 8, 13)


@pytest.fixture(scope="module")
def trees(repo_root: Path) -> dict[int, tuple[list[bytes], ReferenceTree]]:
    """One reference tree per size, built by node once per module."""
    out = {}
    for size in SIZES:
        digests = [random32() for _ in range(size)]
        out[size] = (digests, reference_tree(repo_root, digests))
    return out


def anchor(reg: Registries, seq: int, tree: ReferenceTree, count: int) -> None:
    fn = reg.anchor.functions.anchorBatch(seq, tree.root, count, random32(), "cid")
    reg.tx(fn, "anchorer")


def verify(reg: Registries, seq: int, proof: list[bytes], digest: bytes) -> bool:
    return bool(reg.call(reg.anchor.functions.verifyInclusion(seq, proof, digest)))


def test_every_reference_proof_verifies(reg: Registries, trees) -> None:
    for seq, size in enumerate(SIZES, start=1):
        digests, tree = trees[size]
        anchor(reg, seq, tree, size)
        for digest in digests:
            assert verify(reg, seq, tree.proofs[digest], digest), (size, digest.hex())


def test_proof_for_other_record(reg: Registries, trees) -> None:
    digests, tree = trees[5]
    anchor(reg, 1, tree, 5)
    for a, b in zip(digests, digests[1:] + digests[:1], strict=True):
        assert not verify(reg, 1, tree.proofs[a], b)
    assert not verify(reg, 1, tree.proofs[digests[0]], random32())


def test_proof_against_other_batch(reg: Registries, trees) -> None:
    digests, tree = trees[5]
    other_digests, other = trees[8]
    anchor(reg, 1, tree, 5)
    anchor(reg, 2, other, 8)
    for digest in digests:
        assert not verify(reg, 2, tree.proofs[digest], digest)
    for digest in other_digests:
        assert not verify(reg, 1, other.proofs[digest], digest)


def test_tampered_path_element(reg: Registries, trees) -> None:
    digests, tree = trees[8]
    anchor(reg, 1, tree, 8)
    digest = digests[3]
    proof = tree.proofs[digest]
    for i in range(len(proof)):
        for bit in (0, 7, 255):
            tampered = list(proof)
            flipped = int.from_bytes(tampered[i], "big") ^ (1 << bit)
            tampered[i] = flipped.to_bytes(32, "big")
            assert not verify(reg, 1, tampered, digest), (i, bit)


def test_truncated_and_padded_proof(reg: Registries, trees) -> None:
    digests, tree = trees[13]
    anchor(reg, 1, tree, 13)
    for digest in digests:
        proof = tree.proofs[digest]
        assert not verify(reg, 1, proof[:-1], digest)
        assert not verify(reg, 1, [*proof, random32()], digest)
    assert not verify(reg, 1, [], digests[0])


def test_leaf_presented_as_node(reg: Registries, trees) -> None:
    """An inner node handed in as if it were a record digest, with the rest of the path.

    A verifier that accepted a caller's leaf hash as-is would take it: the Python replay of
    MerkleProof.processProof below reaches the root. The contract derives the leaf from the
    digest itself (keccak256(keccak256(abi.encode(digest)))), so it must refuse.
    """
    _, tree = trees[8]
    anchor(reg, 1, tree, 8)
    attempts = 0
    for index in range(1, len(tree.nodes)):
        left, right = 2 * index + 1, 2 * index + 2
        if right >= len(tree.nodes):
            continue  # a leaf, not an inner node
        node, path = tree.nodes[index], _path_of(tree, index)
        assert process_proof(node, path) == tree.root  # the attack is real for raw leaves
        assert not verify(reg, 1, path, node)
        # Its children (inner nodes or leaf hashes) presented as digests fail as well.
        for child in (left, right):
            assert not verify(reg, 1, _path_of(tree, child), tree.nodes[child])
        attempts += 1
    assert attempts >= 3


def _path_of(tree: ReferenceTree, index: int) -> list[bytes]:
    """Sibling path from node ``index`` of the library's flat array up to the root."""
    path, i = [], index
    while i > 0:
        path.append(tree.nodes[i - 1 if i % 2 == 0 else i + 1])
        i = (i - 1) // 2
    return path


def test_unknown_batch_reverts(reg: Registries, trees) -> None:
    digests, tree = trees[2]
    for seq in (0, 1, 2):
        expect_revert(
            lambda s=seq: verify(reg, s, tree.proofs[digests[0]], digests[0]),
            "AnchorRegistryUnknownBatch",
            seq=seq,
        )
    anchor(reg, 1, tree, 2)
    assert verify(reg, 1, tree.proofs[digests[0]], digests[0])
    expect_revert(
        lambda: verify(reg, 2, tree.proofs[digests[0]], digests[0]),
        "AnchorRegistryUnknownBatch",
        seq=2,
    )
