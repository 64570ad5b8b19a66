"""What a verification produces: numbered checks with a status and a reason.

The numbers are part of the documented interface (docs/VERIFY.md §4): an auditor's
script may look for "check 7 of items[3]", so a number never changes meaning.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = [
    "CHECK_NAMES",
    "EXIT_FAILED",
    "EXIT_INDETERMINATE",
    "EXIT_NOT_RECOMPUTED",
    "EXIT_OK",
    "EXIT_UNREADABLE",
    "Check",
    "Outcome",
    "Pins",
    "Status",
    "Verification",
]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_UNREADABLE = 2
EXIT_INDETERMINATE = 3
#: every check passed, but some record's figures could not be recomputed from this bundle
EXIT_NOT_RECOMPUTED = 4

CHECK_NAMES: dict[int, str] = {
    1: "bundle format",
    2: "chain identity",
    3: "registry code",
    4: "digest from disclosures",
    5: "producer signature",
    6: "Merkle proof to root",
    7: "anchor on chain",
    8: "not revoked",
    9: "references in bundle",
    10: "recomputation (calc/1)",
    11: "attestations",
    12: "local file",
    13: "receipts",
    14: "log hash",
}


class Status(StrEnum):
    PASS = "PASS"
    FAIL = "FAIL"
    SKIP = "SKIP"
    WARN = "WARN"
    #: the chain could not answer: neither pass nor fail (exit 3)
    UNKNOWN = "UNKNOWN"


#: What a chain-reading check finds: a status and one reason, and optionally details.
Outcome = tuple[Status, str] | tuple[Status, str, dict[str, Any]]


@dataclass(frozen=True)
class Check:
    """One numbered check about the bundle (``subject`` "bundle") or one of its records."""

    number: int
    status: Status
    reason: str
    subject: str = "bundle"
    record_id: str | None = None
    evidence: dict[str, Any] | None = None
    #: check 10 only: whether the record's figures were recomputed (None: it states none)
    recomputed: bool | None = None
    #: what the chain showed, for a machine (check 7: the anchoring transaction, block and
    #: time; check 11: every attestation), docs/VERIFY.md §6
    details: dict[str, Any] | None = None

    @property
    def name(self) -> str:
        return CHECK_NAMES[self.number]

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "number": self.number,
            "name": self.name,
            "subject": self.subject,
            "status": self.status.value,
            "reason": self.reason,
        }
        if self.record_id is not None:
            out["record_id"] = self.record_id
        if self.evidence:
            out["evidence"] = self.evidence
        if self.recomputed is not None:
            out["recomputed"] = self.recomputed
        if self.details is not None:
            out["details"] = self.details
        return out


@dataclass(frozen=True)
class Pins:
    """The auditor's trust anchors (never taken from the bundle)."""

    chain_id: int
    anchor_registry: str
    #: optional: the pinned AnchorRegistry names its TrustRegistry; if given, they must agree
    trust_registry: str | None = None
    #: the anchor's block must have at least this many blocks on top, itself included
    min_depth: int = 1
    anchor_code_hash: str | None = None
    trust_code_hash: str | None = None
    #: optional: the service key id the bundle's receipts must be signed under
    service_key_id: str | None = None
    #: optional: the hash of the chain's block 0 (``0x`` hex), so that two chains with
    #: one chain id (two dev chains) cannot be confused
    genesis_hash: str | None = None
    #: the JSON-RPC endpoints read (the first answers the proofs, all must agree)
    rpc: tuple[str, ...] = ()
    #: SHA-256 of the trust root file the pins came from, when one was given
    trust_root_sha256: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "chain_id": self.chain_id,
            "anchor_registry": self.anchor_registry,
            "trust_registry": self.trust_registry,
            "min_depth": self.min_depth,
            "anchor_code_hash": self.anchor_code_hash,
            "trust_code_hash": self.trust_code_hash,
            "service_key_id": self.service_key_id,
            "genesis_hash": self.genesis_hash,
            "rpc": list(self.rpc),
            "trust_root_sha256": self.trust_root_sha256,
        }


@dataclass
class Verification:
    """The checks of one run, in order, and what they add up to."""

    checks: list[Check] = field(default_factory=list)
    bundle_sha256: str | None = None
    record_count: int = 0
    head_block: int | None = None
    #: the TrustRegistry the pinned AnchorRegistry is linked to, once check 2 read it
    trust_registry: str | None = None
    unreadable: bool = False
    #: the claims section (docs/VERIFY.md §6.1): per unit, its claims found in the bundle
    claims: list[dict[str, Any]] = field(default_factory=list)
    #: What fails beyond the numbered checks, in words: the CBAM package that differs from
    #: its recomputation (``cbam``, docs/VERIFY.md §6.2), the scanned code that does not
    #: match (``code``, §6.3). It fails the run, whatever the checks say.
    fails_beyond_checks: str | None = None

    def add(self, check: Check) -> Check:
        self.checks.append(check)
        return check

    @property
    def exit_code(self) -> int:
        if self.unreadable:
            return EXIT_UNREADABLE
        statuses = {c.status for c in self.checks}
        if Status.FAIL in statuses or self.fails_beyond_checks:
            return EXIT_FAILED
        if Status.UNKNOWN in statuses:
            return EXIT_INDETERMINATE
        if self.not_recomputed():
            return EXIT_NOT_RECOMPUTED
        return EXIT_OK

    @property
    def verdict(self) -> str:
        return {
            EXIT_OK: "verified",
            EXIT_FAILED: "failed",
            EXIT_UNREADABLE: "unreadable",
            EXIT_INDETERMINATE: "indeterminate",
            EXIT_NOT_RECOMPUTED: "not-recomputed",
        }[self.exit_code]

    def failures(self) -> list[Check]:
        return [c for c in self.checks if c.status is Status.FAIL]

    def not_recomputed(self) -> list[Check]:
        """The check-10 rows of records whose figures this bundle does not let anyone
        recompute (a hidden input, or a view that hides the figures' own inputs)."""
        return [c for c in self.checks if c.number == 10 and c.recomputed is False]
