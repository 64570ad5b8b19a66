"""Merkle batches, manifests and CIDs (ledger.core.merkle, ledger.core.cid; docs/FORMAT.md §4)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.core.cid import cid_v1_raw_sha256, digest_from_cid
from ledger.core.errors import InclusionProofError, MalformedError
from ledger.core.merkle import (
    MerkleTree,
    build_manifest,
    keccak256,
    leaf_hash,
    manifest_bytes,
    manifest_cid,
    manifest_digest,
    node_hash,
    verify_inclusion,
)

VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "merkle"
TREES = json.loads((VECTORS / "oz_standard_tree.json").read_text())
MANIFEST = json.loads((VECTORS / "manifest.json").read_text())
NEGATIVE = json.loads((VECTORS / "negative.json").read_text())


def _digests(n: int, tag: str = "d") -> list[bytes]:
    return [hashlib.sha256(f"{tag}{i}".encode()).digest() for i in range(n)]


def test_vectors_have_provenance() -> None:
    for doc in (TREES, MANIFEST):
        assert doc["description"] and doc["source"]


@pytest.mark.parametrize("case", TREES["cases"], ids=lambda c: str(len(c["digests"])))
def test_root_and_proofs_match_openzeppelin(case: dict[str, Any]) -> None:
    digests = [bytes.fromhex(d) for d in case["digests"]]
    tree = MerkleTree.build(digests)
    assert tree.root.hex() == case["root"]
    assert tree.leaf_count == len(digests)
    assert list(tree.leaves) == sorted(digests)
    for d in digests:
        assert [p.hex() for p in tree.proof(d)] == case["proofs"][d.hex()]
        verify_inclusion(d, [bytes.fromhex(p) for p in case["proofs"][d.hex()]], tree.root)


def test_keccak_known_answer() -> None:
    # keccak256("") from the Keccak team's reference (as used by Ethereum).
    assert keccak256(b"").hex() == (
        "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    )


@pytest.mark.parametrize("case", NEGATIVE["cases"], ids=lambda c: c["name"])
def test_negative_vectors_are_refused(case: dict[str, Any]) -> None:
    assert NEGATIVE["description"] and NEGATIVE["source"]
    with pytest.raises(InclusionProofError) as info:
        verify_inclusion(
            bytes.fromhex(case["digest"]),
            [bytes.fromhex(p) for p in case["proof"]],
            bytes.fromhex(case["root"]),
        )
    assert info.value.expected == case["root"]


def test_single_leaf_tree_is_its_leaf() -> None:
    (d,) = _digests(1)
    tree = MerkleTree.build([d])
    assert tree.root == leaf_hash(d) == keccak256(keccak256(d))
    assert tree.proof(d) == []
    verify_inclusion(d, [], tree.root)


def test_input_order_does_not_matter() -> None:
    ds = _digests(37)
    assert MerkleTree.build(ds).root == MerkleTree.build(list(reversed(ds))).root


def test_duplicates_and_bad_sizes_are_refused() -> None:
    ds = _digests(5)
    with pytest.raises(MalformedError, match="appears twice"):
        MerkleTree.build([*ds, ds[2]])
    with pytest.raises(MalformedError, match="at least one"):
        MerkleTree.build([])
    with pytest.raises(MalformedError, match=r"digests\[1\]: expected 32 bytes, got 31"):
        MerkleTree.build([ds[0], ds[1][:31]])
    with pytest.raises(MalformedError, match="not in this batch"):
        MerkleTree.build(ds).proof(_digests(1, "other")[0])


def test_duplicate_last_pair_cannot_collide() -> None:
    # CVE-2012-2459 shape: L and L + [last] must not share a root; here the second is refused.
    ds = _digests(6)
    with pytest.raises(MalformedError):
        MerkleTree.build([*ds, ds[-1]])
    assert MerkleTree.build(ds).root != MerkleTree.build(ds[:-1]).root


# --- corruption probes ------------------------------------------------------------------


def _tree(n: int = 13) -> tuple[MerkleTree, list[bytes]]:
    ds = _digests(n)
    return MerkleTree.build(ds), ds


def test_proof_for_other_record() -> None:
    tree, ds = _tree()
    with pytest.raises(InclusionProofError) as info:
        verify_inclusion(ds[0], tree.proof(ds[1]), tree.root)
    assert info.value.expected == tree.root.hex()
    assert info.value.computed != tree.root.hex()


def test_leaf_presented_as_node() -> None:
    # An inner node given as a "digest" with the proof of its subtree must not verify: the
    # double-hashed leaf separates leaves from nodes.
    tree, _ds = _tree(16)
    inner = 3  # a node two levels below the root in OZ's array layout
    proof = []
    i = inner
    while i > 0:
        proof.append(tree.nodes[i + 1 if i % 2 else i - 1])
        i = (i - 1) // 2
    with pytest.raises(InclusionProofError):
        verify_inclusion(tree.nodes[inner], proof, tree.root)
    # ... while the same proof does fold the node itself into the root (sanity of the probe).
    acc = tree.nodes[inner]
    for p in proof:
        acc = node_hash(acc, p)
    assert acc == tree.root


def test_leaf_hash_presented_as_digest() -> None:
    tree, ds = _tree()
    with pytest.raises(InclusionProofError):
        verify_inclusion(leaf_hash(ds[0]), tree.proof(ds[0])[1:], tree.root)


def test_swapped_siblings_truncated_and_extended_proofs() -> None:
    tree, ds = _tree(29)
    d = ds[4]
    proof = tree.proof(d)
    assert len(proof) >= 3
    swapped = [proof[1], proof[0], *proof[2:]]
    for bad in (swapped, proof[:-1], [*proof, proof[-1]], [*proof, tree.root], proof[1:]):
        with pytest.raises(InclusionProofError):
            verify_inclusion(d, bad, tree.root)


def test_malformed_proof_elements() -> None:
    tree, ds = _tree()
    proof = tree.proof(ds[0])
    with pytest.raises(MalformedError, match=r"proof\[1\]: expected 32 bytes, got 31"):
        verify_inclusion(ds[0], [proof[0], proof[1][:31], *proof[2:]], tree.root)
    with pytest.raises(MalformedError, match="exceeds"):
        verify_inclusion(ds[0], [proof[0]] * 65, tree.root)
    with pytest.raises(MalformedError, match="root"):
        verify_inclusion(ds[0], proof, tree.root[:16])


def test_exhaustive_probes_for_small_trees() -> None:
    # Every leaf of every tree up to 64 leaves: its proof verifies; the neighbour's proof,
    # a truncated proof and a proof with one flipped bit do not.
    for n in range(1, 65):
        tree, ds = _tree(n)
        for j, d in enumerate(ds):
            proof = tree.proof(d)
            verify_inclusion(d, proof, tree.root)
            if n > 1:
                with pytest.raises(InclusionProofError):
                    verify_inclusion(d, tree.proof(ds[(j + 1) % n]), tree.root)
                with pytest.raises(InclusionProofError):
                    verify_inclusion(d, proof[:-1], tree.root)
                flipped = [bytes([proof[0][0] ^ 1]) + proof[0][1:], *proof[1:]]
                with pytest.raises(InclusionProofError):
                    verify_inclusion(d, flipped, tree.root)


@settings(max_examples=120, deadline=None)
@given(
    st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=200, unique=True),
    st.data(),
)
def test_every_proof_verifies_and_any_byte_change_breaks_it(ds: list[bytes], data: Any) -> None:
    tree = MerkleTree.build(ds)
    d = data.draw(st.sampled_from(ds))
    proof = tree.proof(d)
    verify_inclusion(d, proof, tree.root)
    target = data.draw(
        st.sampled_from(["digest", "root", "proof"] if proof else ["digest", "root"])
    )
    pos = data.draw(st.integers(min_value=0, max_value=31))
    delta = data.draw(st.integers(min_value=1, max_value=255))

    def change(b: bytes) -> bytes:
        return b[:pos] + bytes([b[pos] ^ delta]) + b[pos + 1 :]

    with pytest.raises(InclusionProofError):
        if target == "digest":
            verify_inclusion(change(d), proof, tree.root)
        elif target == "root":
            verify_inclusion(d, proof, change(tree.root))
        else:
            k = data.draw(st.integers(min_value=0, max_value=len(proof) - 1))
            verify_inclusion(d, [*proof[:k], change(proof[k]), *proof[k + 1 :]], tree.root)


# --- manifest and CID -------------------------------------------------------------------


def test_manifest_matches_reference() -> None:
    m = MANIFEST["manifest"]
    built = build_manifest(
        seq=m["seq"],
        prev_manifest_digest_hex=m["prev_manifest_digest"],
        created_at=m["created_at"],
        digests=[bytes.fromhex(x) for x in reversed(m["leaves"])],
    )
    assert built == m
    assert manifest_bytes(built) == MANIFEST["canonical"].encode()
    assert manifest_digest(built).hex() == MANIFEST["manifest_digest"]
    assert manifest_cid(built) == MANIFEST["cid"]
    assert digest_from_cid(MANIFEST["cid"]).hex() == MANIFEST["manifest_digest"]


def test_format_doc_examples_are_the_vectors() -> None:
    doc = (Path(__file__).resolve().parents[3] / "docs" / "FORMAT.md").read_text("utf-8")
    assert MANIFEST["manifest_digest"] in doc and MANIFEST["cid"] in doc
    assert TREES["cases"][2]["root"] in doc


def test_manifest_refuses_duplicates_and_bad_fields() -> None:
    ds = _digests(3)
    with pytest.raises(MalformedError, match="twice"):
        build_manifest(
            seq=1, prev_manifest_digest_hex="0" * 64, created_at="x", digests=[*ds, ds[0]]
        )
    with pytest.raises(MalformedError) as info:
        build_manifest(seq=1, prev_manifest_digest_hex="AB" * 32, created_at="x", digests=ds)
    assert info.value.path == "manifest.prev_manifest_digest"
    with pytest.raises(MalformedError):
        build_manifest(seq=-1, prev_manifest_digest_hex="0" * 64, created_at="x", digests=ds)


def test_cid_known_answer_and_strict_decoding() -> None:
    # CIDv1 raw sha2-256 of b"hello"; test_merkle_node.py checks it against npm multiformats.
    cid = "bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq"
    assert cid_v1_raw_sha256(b"hello") == cid
    assert digest_from_cid(cid) == hashlib.sha256(b"hello").digest()
    for bad in (cid.upper(), "z" + cid[1:], cid[:-1], cid + "a", "bafybei" + cid[7:], 7):
        with pytest.raises(MalformedError):
            digest_from_cid(bad)  # type: ignore[arg-type]
