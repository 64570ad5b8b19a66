"""The chain facts of a verification, each proven against a block header or agreed by every
endpoint: what ``carbon-verify`` reads (docs/VERIFY.md "What you trust").

``ProvenReader`` answers the questions the checks ask (``verifier.chain.ChainFacts``) from
storage proofs of the two registries at the head block, read through untrusted JSON-RPC
endpoints (verifier.evm): batch records and their anchor headers, the log hashes, the
linked TrustRegistry, producer keys and their record types, collection terminals' keys and
their metering points, each digest's revocation and supersession, attestations and the
bodies that filed them, and each registry's interface version (its proven build's). What
no proof can establish, the chain id, the head and the anchoring receipts, every endpoint
must say alike.

The checks ask record by record; the reader proves a whole group at the first question
(every key of the bundle, every digest's status, ...), in one batch request per round,
from the plan the verification gives it (:meth:`plan`). A group whose proof fails stays
failed: every check that needs it reports the same error (a ``VerificationError`` is a
FAIL naming the endpoint, an ``UnavailableError`` UNKNOWN).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import Any, TypeVar

from eth_typing import ChecksumAddress
from eth_utils import keccak, to_checksum_address

from ledger.core.bundle import BatchHeader
from ledger.core.errors import LedgerError, UnavailableError, VerificationError
from verifier.chain import parse_address
from verifier.evm.network import Network
from verifier.evm.registry import (
    DigestStatus,
    ProvenBatch,
    RegistryProver,
    verify_batch_header,
)
from verifier.evm.rpc import RpcEndpoint
from verifier.evm.state import EMPTY_CODE_HASH
from verifier.evm.trust import TrustProver
from verifier.facts import (
    AnchorTx,
    Attestation,
    Body,
    OnchainBatch,
    ProducerKey,
    Revocation,
    Supersession,
    TerminalKey,
    TypeGrant,
    Wanted,
)

__all__ = ["ProvenReader"]

T = TypeVar("T")
#: Each registry's interface versions, newest first, by a state variable it added.
_VERSIONS = {
    "anchor": ((2, "_supersessions"),),
    "trust": ((3, "_terminalKeys"), (2, "_grants")),
}
_BATCH_ANCHORED = keccak(text="BatchAnchored(uint64,bytes32,uint32,bytes32,string,bytes32)")


class ProvenReader:
    """Chain facts proven through ``endpoints`` (the first answers the proofs; every one
    must agree on every header, the chain id and the receipts)."""

    def __init__(
        self,
        endpoints: Sequence[RpcEndpoint],
        *,
        anchor_registry: str,
        anchor_code_hash: str | None = None,
        trust_code_hash: str | None = None,
    ) -> None:
        self.network = Network(endpoints)
        self.anchor_address = parse_address(anchor_registry, "--registry")
        self.registry = RegistryProver(
            network=self.network, registry=self.anchor_address, code_hash=anchor_code_hash
        )
        self.trust_code_hash = trust_code_hash
        self.where = "the endpoints " + ", ".join(e.url for e in endpoints)
        self.at_block: int | None = None
        self.wanted = Wanted()
        self._trust: TrustProver | None = None
        self._linked: ChecksumAddress | None = None
        self._results: dict[str, tuple[bool, Any]] = {}

    @classmethod
    def from_urls(
        cls,
        urls: Sequence[str],
        *,
        anchor_registry: str,
        timeout_s: float = 10.0,
        anchor_code_hash: str | None = None,
        trust_code_hash: str | None = None,
    ) -> ProvenReader:
        return cls(
            [RpcEndpoint(u, timeout_s=timeout_s) for u in urls],
            anchor_registry=anchor_registry,
            anchor_code_hash=anchor_code_hash,
            trust_code_hash=trust_code_hash,
        )

    @property
    def calls(self) -> int:
        """HTTP requests sent to the endpoints so far."""
        return self.network.requests

    def plan(self, wanted: Wanted) -> None:
        self.wanted = wanted

    def prove_planned(self) -> bool:
        """Prove every group of the plan now, as the checks' first questions would (each
        answer, or its error, is kept for them); False when an endpoint did not answer
        (an ``UnavailableError``), so that the run can keep the order of its questions."""
        w = self.wanted
        questions: list[Callable[[], object]] = [
            self.log_head,
            self.linked_trust_registry,
            lambda: self.interface_version("anchor"),
            lambda: self.interface_version("trust"),
        ]
        if w.anchors:
            seq, header = min(w.anchors.items())
            questions += [
                lambda: self.verify_batch(seq, header),
                lambda: self.log_link(seq),
                lambda: self.anchor_tx(header.tx_hash),
            ]
        if w.key_ids:
            questions.append(partial(self.key, min(w.key_ids)))
        if w.digests:
            questions += [
                partial(self.revocation, min(w.digests)),
                partial(self.attestations, min(w.digests)),
            ]
        if w.terminal_key_ids:
            questions.append(partial(self.terminal_key, min(w.terminal_key_ids)))
        if w.grants:
            questions.append(lambda: self.type_grant(*min(w.grants)))
        if w.points:
            questions.append(lambda: self.metering_point_grant(*min(w.points)))
        if w.digests:
            questions.append(self._planned_bodies)
        for ask in questions:
            try:
                ask()
            except UnavailableError:
                return False
            except LedgerError:
                continue  # kept in its group: the check that asks reports it
        return True

    def _planned_bodies(self) -> None:
        """The bodies that filed the planned attestations, proven in one group."""
        for digest in self.wanted.digests:
            for a in self.attestations(digest):
                self.body(a.body)
                return

    def _group(self, name: str, fn: Callable[[], T]) -> T:
        """``fn()`` once; its value, or the same exception, at every later call."""
        if name not in self._results:
            try:
                self._results[name] = (True, fn())
            except (VerificationError, UnavailableError) as exc:
                self._results[name] = (False, exc)
        ok, value = self._results[name]
        if not ok:
            raise value
        result: T = value
        return result

    @property
    def _head(self) -> int:
        if self.at_block is None:
            raise LedgerError("the head block is read first (pin_head, check 2)")
        return self.at_block

    # -- identity (check 2) and code (check 3) -----------------------------------------

    def chain_id(self) -> int:
        return self.network.chain_id()

    def block_hash(self, number: int) -> bytes | None:
        return self.network.header(number).hash

    def pin_head(self) -> int:
        """Read the head block (the highest any endpoint reports: every endpoint must then
        serve that header alike, so none hides later blocks by claiming an earlier head)
        and make every later read there."""
        self.at_block = self.network.head().number
        return self.at_block

    def linked_trust_registry(self) -> ChecksumAddress:
        if self._linked is None:
            head = self._group("head", lambda: self.registry.prove_head(self._head))
            if int(head.trust_registry, 16) == 0:
                raise VerificationError(
                    f"the AnchorRegistry at {self.anchor_address} names no TrustRegistry "
                    "(proven: not a carbonledger AnchorRegistry)",
                    expected="a linked TrustRegistry",
                    computed=head.trust_registry,
                )
            self._linked = to_checksum_address(head.trust_registry)
        return self._linked

    @property
    def trust_address(self) -> ChecksumAddress:
        return self.linked_trust_registry()

    @property
    def trust(self) -> TrustProver:
        if self._trust is None:
            self._trust = TrustProver(
                self.network, registry=self.trust_address, code_hash=self.trust_code_hash
            )
        return self._trust

    def code_hash(self, address: str) -> str:
        """The runtime code hash proven in the account of ``address`` (one of the two
        registries) at the head block."""
        contract = self.registry.contract if address == self.anchor_address else self.trust.contract
        try:
            account = contract.account(self._head)
        except VerificationError as exc:
            if "no account exists" in exc.message:
                return "0x" + EMPTY_CODE_HASH.hex()
            raise
        return "0x" + account.code_hash.hex()

    # -- batches (checks 5, 7, 13, 14) -------------------------------------------------------

    def _batches(self) -> dict[int, ProvenBatch]:
        anchors = {seq: h.block_number for seq, h in self.wanted.anchors.items()}
        return self._group(
            "batches", lambda: self.registry.prove_batches(anchors, at_block=self._head)
        )

    def batch(self, seq: int) -> OnchainBatch | None:
        proven = self._batches().get(seq)
        if proven is None:
            proven_record = self.registry.prove_records([seq], self._head)[seq]
            if not proven_record.exists:
                return None
            p: Any = proven_record
        else:
            if not proven.exists:
                return None
            p = proven
        return OnchainBatch(
            seq, p.root, p.leaf_count, p.manifest_digest, p.block_number, p.timestamp, p.log_hash
        )

    def verify_batch(self, seq: int, header: BatchHeader) -> str:
        """Raise ``VerificationError`` unless the bundle's ``header`` of batch ``seq`` is
        the proven record and the anchor block's recomputed hash; says how it was checked."""
        proven = self._batches().get(seq)
        if proven is None:
            proven = self.registry.prove_batches({seq: header.block_number}, at_block=self._head)[
                seq
            ]
        verify_batch_header(proven, header, where=f"bundle.batches.{seq}")
        return "proven against the block header"

    def log_link(self, seq: int) -> tuple[bytes, bytes]:
        """(logHash of batch ``seq - 1`` or zero, logHash of batch ``seq``), proven."""
        seqs = sorted({s for a in self.wanted.anchors for s in (a - 1, a) if s >= 1} | {seq})
        records = self._group("log", lambda: self.registry.prove_records(seqs, self._head))
        if seq not in records or (seq > 1 and seq - 1 not in records):
            records = {**records, **self.registry.prove_records([seq - 1, seq], self._head)}
        prev = records[seq - 1].log_hash if seq > 1 else bytes(32)
        return prev, records[seq].log_hash

    def log_head(self) -> tuple[int, bytes]:
        """(batch count, log head) proven at the head block."""
        head = self._group("head", lambda: self.registry.prove_head(self._head))
        return head.batch_count, head.log_head

    def anchor_tx(self, tx_hash: bytes) -> AnchorTx | None:
        hashes = sorted({h.tx_hash for h in self.wanted.anchors.values()} | {tx_hash})
        receipts = self._group("receipts", lambda: self.network.receipts(hashes))
        if tx_hash not in receipts:
            receipts = {**receipts, **self.network.receipts([tx_hash])}
        r = receipts[tx_hash]
        if r is None:
            return None
        anchored = self.anchor_address.lower()
        seqs = tuple(
            int.from_bytes(topics[1], "big")
            for address, topics in r.logs
            if address == anchored and len(topics) >= 2 and topics[0] == _BATCH_ANCHORED
        )
        return AnchorTx(
            tx_hash=tx_hash,
            status=r.status,
            to=to_checksum_address(r.to) if r.to else None,
            block_number=r.block_number,
            block_hash=r.block_hash,
            anchored_seqs=seqs,
        )

    # -- keys (check 5) -----------------------------------------------------------------------

    def key(self, key_id: bytes) -> ProducerKey | None:
        return self._one("keys", self.wanted.key_ids, key_id, self.trust.prove_keys)

    def type_grant(self, key_id: bytes, record_type: str) -> TypeGrant | None:
        return self._one(
            "grants", self.wanted.grants, (key_id, record_type), self.trust.prove_grants
        )

    # -- statuses (check 8) and attestations (check 11) ---------------------------------------

    def _status(self, digest: bytes) -> DigestStatus:
        return self._one("statuses", self.wanted.digests, digest, self.registry.prove_statuses)

    def revocation(self, digest: bytes) -> Revocation | None:
        return self._status(digest).revocation

    def supersession(self, digest: bytes) -> Supersession | None:
        return self._status(digest).supersession

    def attestations(self, digest: bytes) -> list[Attestation]:
        return self._one("attestations", self.wanted.digests, digest, self.trust.prove_attestations)

    # -- terminal keys (check 5 of a meter-reading batch) ----------------------------------

    def interface_version(self, contract: str) -> int:
        """The interface version of the ``"anchor"`` or ``"trust"`` registry, from its proven
        code: ``INTERFACE_VERSION`` is a constant in the code, not in storage, and the
        registry's code hash is proven to be the build whose storage layout this verifier
        carries (else a FAIL, as for every fact read from it), so the version is that build's,
        told by the state variables its layout declares (docs/VERIFY.md §9.2)."""
        target = self.registry.contract if contract == "anchor" else self.trust.contract

        def prove() -> int:
            target.account(self._head)
            return next((v for v, name in _VERSIONS[contract] if target.layout.has(name)), 1)

        return self._group(f"interface {contract}", prove)

    def terminal_key(self, key_id: bytes) -> TerminalKey | None:
        return self._one(
            "terminal keys",
            self.wanted.terminal_key_ids,
            key_id,
            self.trust.prove_terminal_keys,
        )

    def metering_point_grant(self, key_id: bytes, point: str) -> TypeGrant:
        return self._one(
            "points", self.wanted.points, (key_id, point), self.trust.prove_point_grants
        )

    def body(self, address: str) -> Body | None:
        """The body as accredited; the bodies of every planned attestation in one go."""
        # A generator: walked once, when the group is first proven, not at every call.
        filed = (a.body for d in self.wanted.digests for a in self.attestations(d))
        return self._one("bodies", filed, address, self.trust.prove_bodies)

    def _one(
        self,
        group: str,
        planned: Iterable[Any],
        key: Any,
        prove: Callable[[Iterable[Any], int], dict[Any, T]],
    ) -> T:
        """The fact ``key`` of ``group``, the whole planned group proven at its first use
        (a key outside the plan is proven alone). ``planned`` is read only then: asked
        once per record, anything more than a lookup here would make the run quadratic."""
        found = self._group(group, lambda: prove({*planned, key}, self._head))
        if key not in found:
            found.update(prove([key], self._head))
        return found[key]
