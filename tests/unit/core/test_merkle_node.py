"""Merkle trees and CIDs cross-checked against @openzeppelin/merkle-tree and multiformats.

Both directions: the JavaScript reference's roots and proofs must equal ours and verify in
ours, and our proofs must verify in ``StandardMerkleTree.verify``.
"""

from __future__ import annotations

import random

import pytest

from ledger.core.cid import cid_v1_raw_sha256
from ledger.core.merkle import MerkleTree, verify_inclusion
from tests.js.reference import run_reference

pytestmark = pytest.mark.node


def _sizes(rng: random.Random) -> list[int]:
    # Every size up to 64, the powers of two and their neighbours, then a random sample.
    edges = {n for k in range(7, 11) for n in (2**k - 1, 2**k, 2**k + 1)}
    sample = set(rng.sample(range(65, 1001), 40))
    return sorted(set(range(1, 65)) | edges | sample | {1000})


def test_trees_of_1_to_1000_leaves_match_in_both_directions() -> None:
    rng = random.Random(20260131)
    trees = []
    requests = []
    for n in _sizes(rng):
        digests = [rng.randbytes(32) for _ in range(n)]
        tree = MerkleTree.build(digests)
        probe = digests if n <= 64 else rng.sample(digests, 24)
        trees.append((tree, probe))
        requests.append(
            {
                "digests": [d.hex() for d in digests],
                "prove": [d.hex() for d in probe],
                "check": [
                    {
                        "digest": d.hex(),
                        "proof": [p.hex() for p in tree.proof(d)],
                        "root": tree.root.hex(),
                    }
                    for d in probe
                ],
            }
        )
    answers = run_reference({"op": "merkle", "trees": requests})
    assert len(answers) == len(trees)
    for (tree, probe), answer in zip(trees, answers, strict=True):
        assert answer["root"] == tree.root.hex(), tree.leaf_count
        assert all(answer["checks"]), f"our proof refused by OZ at size {tree.leaf_count}"
        for d in probe:
            js_proof = [bytes.fromhex(p) for p in answer["proofs"][d.hex()]]
            assert js_proof == tree.proof(d)
            verify_inclusion(d, js_proof, tree.root)


def test_openzeppelin_refuses_a_corrupted_proof_of_ours() -> None:
    rng = random.Random(7)
    digests = [rng.randbytes(32) for _ in range(100)]
    tree = MerkleTree.build(digests)
    d, other = digests[3], digests[4]
    proof = tree.proof(d)
    bad = [
        {"digest": d.hex(), "proof": [p.hex() for p in tree.proof(other)], "root": tree.root.hex()},
        {"digest": d.hex(), "proof": [p.hex() for p in proof[:-1]], "root": tree.root.hex()},
    ]
    (answer,) = run_reference(
        {"op": "merkle", "trees": [{"digests": [x.hex() for x in digests], "check": bad}]}
    )
    assert answer["checks"] == [False, False]


def test_cids_match_multiformats() -> None:
    rng = random.Random(3)
    blobs = [b"", b"hello", *(rng.randbytes(rng.randrange(1, 300)) for _ in range(50))]
    answers = run_reference({"op": "cid", "hex": [b.hex() for b in blobs]})
    assert [cid_v1_raw_sha256(b) for b in blobs] == answers
