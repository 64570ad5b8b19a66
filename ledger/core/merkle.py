"""Merkle batches compatible with OpenZeppelin's StandardMerkleTree (docs/FORMAT.md §4).

Leaf encoding ``["bytes32"]`` with the record digest as the value:
leaf = keccak256(keccak256(abi.encode(digest))) = keccak256(keccak256(digest)), since the
ABI encoding of a bytes32 is its 32 bytes. Leaves are sorted; an inner node is the
keccak256 of its two children in ascending order (commutative, so proofs carry no
direction bits and verify with ``MerkleProof.verify`` on-chain). The tree is OZ's array
layout: node i has children 2i+1 and 2i+2, leaves fill the end of the array in reverse
sorted order, and no node is ever duplicated (CVE-2012-2459 cannot arise).
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ledger.core.canonical import canonicalize
from ledger.core.cid import cid_v1_raw_sha256
from ledger.core.errors import InclusionProofError, MalformedError

__all__ = [
    "MANIFEST_FORMAT",
    "MAX_PROOF_LENGTH",
    "ZERO_DIGEST_HEX",
    "MerkleTree",
    "build_manifest",
    "leaf_hash",
    "log_hash",
    "manifest_bytes",
    "manifest_cid",
    "manifest_digest",
    "node_hash",
    "process_proof",
    "verify_inclusion",
]

MANIFEST_FORMAT = "carbonledger-manifest/1"
#: A tree of 2^64 leaves needs 64 siblings; a longer proof cannot be genuine.
MAX_PROOF_LENGTH = 64
#: ``prev_manifest_digest`` of the first batch.
ZERO_DIGEST_HEX = "0" * 64


def _load_keccak() -> Callable[[bytes], bytes]:
    # The C keccak of safe-pysha3 is ~8x faster per call than eth-hash's default backend,
    # and tree building is nothing but keccak calls; both compute the same function.
    try:
        import sha3  # type: ignore[import-not-found,unused-ignore]

        k = sha3.keccak_256
        return lambda data: k(data).digest()
    except ImportError:  # pragma: no cover - depends on the installed backend
        from eth_hash.auto import keccak

        return keccak


keccak256: Callable[[bytes], bytes] = _load_keccak()


def _check32(value: Any, what: str) -> bytes:
    if not isinstance(value, bytes | bytearray) or len(value) != 32:
        got = len(value) if isinstance(value, bytes | bytearray) else type(value).__name__
        raise MalformedError(f"{what}: expected 32 bytes, got {got}")
    return bytes(value)


def leaf_hash(digest: bytes) -> bytes:
    """keccak256(keccak256(digest)): OZ StandardMerkleTree leaf for ``["bytes32"]``."""
    return keccak256(keccak256(_check32(digest, "digest")))


def log_hash(prev: bytes, seq: int, root: bytes, leaf_count: int, manifest: bytes) -> bytes:
    """The AnchorRegistry's running log hash after batch ``seq`` (docs/CONTRACTS.md §3):
    keccak256(abi.encode(prev, uint64 seq, bytes32 root, uint32 leafCount, bytes32
    manifestDigest)), every argument one 32-byte ABI word, 160 bytes in all."""
    return keccak256(
        _check32(prev, "previous log hash")
        + seq.to_bytes(32, "big")
        + _check32(root, "root")
        + leaf_count.to_bytes(32, "big")
        + _check32(manifest, "manifest digest")
    )


def node_hash(a: bytes, b: bytes) -> bytes:
    """OZ ``Hashes.commutativeKeccak256``: keccak256 of the smaller then the larger."""
    return keccak256(a + b if a <= b else b + a)


@dataclass(frozen=True)
class MerkleTree:
    """A built batch tree; ``nodes`` is OZ's array layout (``nodes[0]`` is the root)."""

    nodes: tuple[bytes, ...]
    leaves: tuple[bytes, ...]
    _index: dict[bytes, int]

    @classmethod
    def build(cls, digests: Sequence[bytes]) -> MerkleTree:
        """Build the tree of ``digests`` (each 32 bytes, each at most once, at least one)."""
        if not digests:
            raise MalformedError("a batch needs at least one digest")
        k = keccak256
        pairs: list[tuple[bytes, bytes]] = []
        for i, d in enumerate(digests):
            _check32(d, f"digests[{i}]")
            pairs.append((k(k(d)), bytes(d)))
        pairs.sort()
        n = len(pairs)
        nodes: list[bytes] = [b""] * (2 * n - 1)
        index: dict[bytes, int] = {}
        last = 2 * n - 2
        for i, (leaf, d) in enumerate(pairs):
            if d in index:
                raise MalformedError(f"digest {d.hex()} appears twice in the batch")
            nodes[last - i] = leaf
            index[d] = last - i
        for i in range(n - 2, -1, -1):
            a = nodes[2 * i + 1]
            b = nodes[2 * i + 2]
            nodes[i] = k(a + b if a <= b else b + a)
        return cls(tuple(nodes), tuple(sorted(index)), index)

    @property
    def root(self) -> bytes:
        return self.nodes[0]

    @property
    def leaf_count(self) -> int:
        return len(self.leaves)

    def __contains__(self, digest: object) -> bool:
        return digest in self._index

    def proof(self, digest: bytes) -> list[bytes]:
        """Sibling hashes from the leaf of ``digest`` up to the root (OZ ``getProof``)."""
        i = self._index.get(bytes(digest))
        if i is None:
            raise MalformedError(f"digest {bytes(digest).hex()} is not in this batch")
        out: list[bytes] = []
        while i > 0:
            out.append(self.nodes[i + 1 if i % 2 else i - 1])
            i = (i - 1) // 2
        return out


def process_proof(leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """Fold ``proof`` into ``leaf`` (OZ ``MerkleProof.processProof``)."""
    computed = _check32(leaf, "leaf")
    for i, sibling in enumerate(proof):
        s = _check32(sibling, f"proof[{i}]")
        computed = keccak256(computed + s if computed <= s else s + computed)
    return computed


def verify_inclusion(digest: bytes, proof: Sequence[bytes], root: bytes) -> None:
    """Raise ``InclusionProofError`` unless ``proof`` leads from ``digest``'s leaf to ``root``.

    The evidence is hex: ``expected`` is the root, ``computed`` what the proof led to.
    """
    _check32(root, "root")
    if len(proof) > MAX_PROOF_LENGTH:
        raise MalformedError(f"proof of {len(proof)} hashes exceeds {MAX_PROOF_LENGTH}")
    computed = process_proof(leaf_hash(digest), proof)
    if computed != root:
        raise InclusionProofError(
            "the proof does not lead from the record's leaf to the batch root",
            expected=root.hex(),
            computed=computed.hex(),
        )


def build_manifest(
    *,
    seq: int,
    prev_manifest_digest_hex: str,
    created_at: str,
    digests: Sequence[bytes],
) -> dict[str, Any]:
    """The batch manifest (docs/FORMAT.md §4): its leaves are the sorted digests, never ids.

    ``prev_manifest_digest_hex`` is the previous batch's manifest digest, or 64 zeros for
    the first batch; ``created_at`` is an RFC 3339 UTC timestamp string.
    """
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 0:
        raise MalformedError("seq must be a non-negative integer", path="manifest.seq")
    if (
        not isinstance(prev_manifest_digest_hex, str)
        or len(prev_manifest_digest_hex) != 64
        or prev_manifest_digest_hex.strip("0123456789abcdef")
    ):
        raise MalformedError(
            "expected 64 lowercase hex characters", path="manifest.prev_manifest_digest"
        )
    leaves = sorted(_check32(d, f"manifest.leaves[{i}]") for i, d in enumerate(digests))
    if not leaves:
        raise MalformedError("a batch needs at least one digest", path="manifest.leaves")
    for a, b in itertools.pairwise(leaves):
        if a == b:
            raise MalformedError(f"digest {a.hex()} appears twice", path="manifest.leaves")
    return {
        "format": MANIFEST_FORMAT,
        "seq": seq,
        "prev_manifest_digest": prev_manifest_digest_hex,
        "created_at": created_at,
        "leaf_count": len(leaves),
        "leaves": [d.hex() for d in leaves],
    }


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    """JCS bytes of the manifest: what its digest and its CID are taken over."""
    return canonicalize(manifest)


def manifest_digest(manifest: dict[str, Any]) -> bytes:
    """SHA-256 of the manifest's JCS bytes (32 raw bytes)."""
    return hashlib.sha256(manifest_bytes(manifest)).digest()


def manifest_cid(manifest: dict[str, Any]) -> str:
    """CIDv1 (raw codec, sha2-256) of the manifest's JCS bytes, base32 multibase."""
    return cid_v1_raw_sha256(manifest_bytes(manifest))
