"""What the verifier reads from the registries, as plain values (docs/CONTRACTS.md §3, §4)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ledger.core.bundle import BatchHeader

__all__ = [
    "AnchorTx",
    "Attestation",
    "Body",
    "OnchainBatch",
    "ProducerKey",
    "Revocation",
    "Supersession",
    "TerminalKey",
    "TypeGrant",
    "Wanted",
]


@dataclass(frozen=True)
class OnchainBatch:
    seq: int
    root: bytes
    leaf_count: int
    manifest_digest: bytes
    block_number: int
    timestamp: int
    log_hash: bytes


@dataclass(frozen=True)
class AnchorTx:
    """What the anchoring transaction's receipt shows: where it landed and what it logged."""

    tx_hash: bytes
    status: int
    to: str | None
    block_number: int
    block_hash: bytes
    anchored_seqs: tuple[int, ...]


@dataclass(frozen=True)
class Revocation:
    reason_code: int
    reason_digest: bytes
    block_number: int
    timestamp: int


@dataclass(frozen=True)
class ProducerKey:
    public_key: bytes
    producer_id: bytes
    valid_from: int
    valid_until: int
    revoked_at: int

    def is_valid_at(self, timestamp: int) -> bool:
        """TrustRegistry.isKeyValidAt's formula (docs/CONTRACTS.md §4, half-open windows):
        evaluated here from the key read on-chain, so a bundle of 10,000 records issued at
        10,000 different times costs one read per key, not one per record."""
        if not self.valid_from <= timestamp < self.valid_until:
            return False
        return self.revoked_at == 0 or timestamp < self.revoked_at


@dataclass(frozen=True)
class Body:
    address: str
    name: str
    scope: str
    regions: str
    valid_from: int
    valid_until: int
    withdrawn: bool


@dataclass(frozen=True)
class Attestation:
    body: str
    report_digest: bytes
    verdict: int
    block_number: int
    timestamp: int


@dataclass(frozen=True)
class Supersession:
    """AnchorRegistry ``getSupersession`` (interface version 2): the anchored successor."""

    successor: bytes
    successor_seq: int
    block_number: int
    timestamp: int


@dataclass(frozen=True)
class TypeGrant:
    """TrustRegistry ``getRecordTypeGrant`` (interface version 2): when a key was granted a
    record type and when it was withdrawn (0: never), both block timestamps."""

    granted_at: int
    withdrawn_at: int

    def covers(self, timestamp: int) -> bool:
        """``isTypeGrantedAt``'s formula (docs/CONTRACTS.md §4): a record anchored at
        ``timestamp`` is of a type its key may sign."""
        if self.granted_at == 0 or timestamp < self.granted_at:
            return False
        return self.withdrawn_at == 0 or timestamp < self.withdrawn_at


@dataclass
class Wanted:
    """What a verification will ask the chain, so that a reader can prove each group of
    facts (every key, every digest's status, ...) in one go."""

    anchors: dict[int, BatchHeader] = field(default_factory=dict)
    key_ids: set[bytes] = field(default_factory=set)
    grants: set[tuple[bytes, str]] = field(default_factory=set)
    digests: set[bytes] = field(default_factory=set)
    #: The terminal keys meter-reading batches state, and (key, metering point) pairs.
    terminal_key_ids: set[bytes] = field(default_factory=set)
    points: set[tuple[bytes, str]] = field(default_factory=set)


@dataclass(frozen=True)
class TerminalKey:
    """TrustRegistry ``getTerminalKey`` (interface version 3): a collection terminal's key
    in its scheme's canonical encoding (docs/CONTRACTS.md §4, terminal keys)."""

    scheme: int  # 1 Ed25519, 2 SM2 with SM3
    public_key: bytes
    distinguishing_id: bytes
    terminal_id: bytes
    valid_from: int
    valid_until: int
    revoked_at: int

    def is_valid_at(self, timestamp: int) -> bool:
        """``isTerminalKeyValidAt``'s formula, the same as a producer key's."""
        if not self.valid_from <= timestamp < self.valid_until:
            return False
        return self.revoked_at == 0 or timestamp < self.revoked_at
