"""Read-only access to the two registries at the addresses and chain id the auditor pins.

The verifier trusts the chain, never the platform (docs/VERIFY.md §2): every root,
key and revocation it uses is read from the contract at a pinned address, and the checks
ask for them through one interface, ``ChainFacts``. ``carbon-verify`` answers it with
``verifier.proven.ProvenReader``: storage proofs against recomputed block headers,
through untrusted JSON-RPC endpoints. ``ChainReader`` here answers it with the contracts'
view functions through one connected Web3: for a chain that cannot answer
``eth_getProof`` (the in-process py-evm chain of the service's tests) and for the naive
verifier the benchmark compares against (``cache=False``: one call per question). It
believes its node.

All reads of one verification are made at one block (``at_block``) so they see one
state. Results are cached per batch, key and digest, so a bundle of 10,000 records in a
few batches costs a few calls per batch, not per record.

web3 and transport exceptions stop at this boundary: an RPC that does
not answer, or answers with something that is not a well-formed JSON-RPC result, raises
``UnavailableError`` (the verifier's "indeterminate", exit 3); a view function that
reverts is an answer ("no such batch / key / body") and is returned as ``None``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from eth_typing import ChecksumAddress
from eth_utils import keccak, to_checksum_address
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import ContractLogicError

from ledger.core.errors import MalformedError, UnavailableError, VerificationError
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

if TYPE_CHECKING:
    from ledger.core.bundle import BatchHeader

__all__ = [
    "AnchorTx",
    "Attestation",
    "Body",
    "ChainFacts",
    "ChainReader",
    "OnchainBatch",
    "ProducerKey",
    "Revocation",
    "Supersession",
    "TypeGrant",
    "load_abi",
    "packaged_code_hash",
    "parse_address",
]

T = TypeVar("T")
# Class names of the in-process test backend's revert exceptions (eth-tester, py-evm):
# the production reader talks HTTP, where web3 raises ContractLogicError instead.
_BACKEND_REVERTS = frozenset({"TransactionFailed", "Revert"})
_BATCH_ANCHORED = "BatchAnchored(uint64,bytes32,uint32,bytes32,string,bytes32)"
_DIGEST_REVOKED = "DigestRevoked(bytes32,uint16,bytes32,address)"
_DIGEST_SUPERSEDED = "DigestSuperseded(bytes32,bytes32,uint64)"
_ATTESTATION_FILED = "AttestationFiled(bytes32,address,bytes32,uint8,uint256)"


@cache
def _abi_document(name: str) -> dict[str, Any]:
    text = resources.files("verifier.abi").joinpath(f"{name}.json").read_text("utf-8")
    doc: dict[str, Any] = json.loads(text)
    return doc


def load_abi(name: str) -> list[dict[str, Any]]:
    """The packaged ABI of ``AnchorRegistry`` or ``TrustRegistry`` (scripts/export_abis.py)."""
    abi: list[dict[str, Any]] = _abi_document(name)["abi"]
    return abi


def packaged_code_hash(name: str) -> str:
    """The runtime code hash of the build the packaged ABI came from (``0x`` hex)."""
    return str(_abi_document(name)["runtime_code_hash"])


def _is_revert(exc: BaseException) -> bool:
    if isinstance(exc, ContractLogicError):
        return True
    return any(cls.__name__ in _BACKEND_REVERTS for cls in type(exc).__mro__)


class ChainFacts(Protocol):
    """What the checks ask the chain (docs/VERIFY.md §4). ``None`` answers "no such
    batch, key, transaction or body"; a ``VerificationError`` says an answer is provably
    not the chain's (a FAIL of the check that asked), an ``UnavailableError`` that no
    usable answer came (UNKNOWN)."""

    anchor_address: ChecksumAddress
    at_block: int | None
    where: str

    @property
    def trust_address(self) -> ChecksumAddress: ...
    @property
    def calls(self) -> int: ...
    def plan(self, wanted: Wanted) -> None: ...
    def chain_id(self) -> int: ...
    def block_hash(self, number: int) -> bytes | None: ...
    def pin_head(self) -> int: ...
    def linked_trust_registry(self) -> ChecksumAddress: ...
    def code_hash(self, address: str) -> str: ...
    def batch(self, seq: int) -> OnchainBatch | None: ...
    def verify_batch(self, seq: int, header: BatchHeader) -> str: ...
    def log_link(self, seq: int) -> tuple[bytes, bytes]: ...
    def log_head(self) -> tuple[int, bytes]: ...
    def anchor_tx(self, tx_hash: bytes) -> AnchorTx | None: ...
    def key(self, key_id: bytes) -> ProducerKey | None: ...
    def type_grant(self, key_id: bytes, record_type: str) -> TypeGrant | None: ...
    def revocation(self, digest: bytes) -> Revocation | None: ...
    def supersession(self, digest: bytes) -> Supersession | None: ...
    def attestations(self, digest: bytes) -> list[Attestation]: ...
    def body(self, address: str) -> Body | None: ...
    def interface_version(self, contract: str) -> int: ...
    def terminal_key(self, key_id: bytes) -> TerminalKey | None: ...
    def metering_point_grant(self, key_id: bytes, point: str) -> TypeGrant: ...


class ChainReader:
    """Views of the pinned AnchorRegistry and TrustRegistry on one chain.

    ``w3`` is any connected Web3 (``from_rpc`` builds the HTTP one the CLI uses);
    ``where`` names the node in messages.
    """

    def __init__(
        self,
        w3: Web3,
        *,
        anchor_registry: str,
        trust_registry: str | None = None,
        where: str = "the chain",
        cache: bool = True,
    ) -> None:
        self.w3 = w3
        self.where = where
        self.caching = cache
        self.calls = 0
        self.anchor_address = parse_address(anchor_registry, "--registry")
        # The TrustRegistry is the one the pinned AnchorRegistry names (fixed at its
        # deployment); an auditor may pin it too, and then the two must agree (check 2).
        self.pinned_trust_address = (
            parse_address(trust_registry, "--trust-registry") if trust_registry else None
        )
        self._linked_trust: ChecksumAddress | None = None
        self._trust_contract: Any = None
        self._anchor = w3.eth.contract(address=self.anchor_address, abi=load_abi("AnchorRegistry"))
        self._memo: dict[tuple[Any, ...], Any] = {}
        self.at_block: int | None = None
        self._anchored_topic = keccak(text=_BATCH_ANCHORED)
        # Digests ever revoked / attested up to ``at_block``, from one eth_getLogs each;
        # None until read, or when the node refuses the query (then one call per digest).
        self._revoked_index: set[bytes] | None = None
        self._superseded_index: set[bytes] | None = None
        self._attested_index: set[bytes] | None = None
        self._indexed = False

    @classmethod
    def from_rpc(
        cls,
        url: str,
        *,
        anchor_registry: str,
        trust_registry: str | None = None,
        timeout_s: float = 10.0,
        cache: bool = True,
    ) -> ChainReader:
        """A view reader over HTTP JSON-RPC (the naive benchmark; ``carbon-verify``
        proves instead, verifier.proven)."""
        if not url.startswith(("http://", "https://")):
            raise MalformedError(f"--rpc {url!r} is not an http(s) URL")
        from web3 import HTTPProvider

        # One try per request: an auditor wants "the node does not answer" fast, and a
        # retry would only repeat a read whose answer is cached anyway.
        provider = HTTPProvider(
            url, request_kwargs={"timeout": timeout_s}, exception_retry_configuration=None
        )
        return cls(
            Web3(provider),
            anchor_registry=anchor_registry,
            trust_registry=trust_registry,
            where=f"the RPC node at {url}",
            cache=cache,
        )

    def plan(self, wanted: Wanted) -> None:
        """Views are read one by one: nothing to plan."""

    # -- boundary -------------------------------------------------------------

    @contextmanager
    def _boundary(self, action: str) -> Iterator[None]:
        try:
            yield
        except (UnavailableError, _Reverted):
            raise
        except Exception as exc:  # any transport, JSON or decoding failure is no answer
            if _is_revert(exc):
                raise _Reverted(action) from exc
            raise UnavailableError(
                f"{action}: {self.where} gave no usable answer ({type(exc).__name__}: "
                f"{str(exc)[:160]})",
                retry_after_s=5.0,
            ) from exc

    def _read(self, key: tuple[Any, ...], action: str, fn: Callable[[], T]) -> T:
        if self.caching and key in self._memo:
            value: T = self._memo[key]
            return value
        self.calls += 1
        with self._boundary(action):
            value = fn()
        if self.caching:
            self._memo[key] = value
        return value

    def _view(self, key: tuple[Any, ...], action: str, contract: Any, name: str, *args: Any) -> Any:
        """Call view ``name(*args)`` at ``at_block``; a revert gives None. The web3 call
        object is built only on a cache miss (building one costs more than the lookup)."""
        block = self.at_block if self.at_block is not None else "latest"

        def call() -> Any:
            return getattr(contract.functions, name)(*args).call(block_identifier=block)

        try:
            return self._read((*key, block), action, call)
        except _Reverted:
            if self.caching:
                self._memo[(*key, block)] = None
            return None

    # -- the chain ------------------------------------------------------------

    def linked_trust_registry(self) -> ChecksumAddress:
        """The TrustRegistry address the pinned AnchorRegistry was deployed with."""
        if self._linked_trust is None:
            raw = self._view(("trust",), "calling trustRegistry", self._anchor, "trustRegistry")
            if not isinstance(raw, str) or int(raw, 16) == 0:
                raise VerificationError(
                    f"the AnchorRegistry at {self.anchor_address} names no TrustRegistry "
                    "(not a carbonledger AnchorRegistry)",
                    expected="a linked TrustRegistry",
                    computed=raw,
                )
            self._linked_trust = Web3.to_checksum_address(raw)
        return self._linked_trust

    @property
    def trust_address(self) -> ChecksumAddress:
        return self.linked_trust_registry()

    @property
    def _trust(self) -> Any:
        if self._trust_contract is None:
            self._trust_contract = self.w3.eth.contract(
                address=self.trust_address, abi=load_abi("TrustRegistry")
            )
        return self._trust_contract

    def chain_id(self) -> int:
        return int(self._read(("chain_id",), "reading the chain id", lambda: self.w3.eth.chain_id))

    def pin_head(self) -> int:
        """Read the latest block number and make every later view read at that block."""
        head = int(
            self._read(("head",), "reading the block height", lambda: self.w3.eth.block_number)
        )
        self.at_block = head
        return head

    def code_hash(self, address: str) -> str:
        code = self._read(
            ("code", address),
            f"reading the code at {address}",
            lambda: self.w3.eth.get_code(to_checksum_address(address)),
        )
        return "0x" + keccak(bytes(code)).hex()

    def block_hash(self, number: int) -> bytes | None:
        def fetch() -> bytes | None:
            block = self.w3.eth.get_block(number)
            return bytes(block["hash"]) if block else None

        try:
            return self._read(("block", number), f"reading block {number}", fetch)
        except UnavailableError as exc:
            if "BlockNotFound" in exc.message:
                return None
            raise

    def anchor_tx(self, tx_hash: bytes) -> AnchorTx | None:
        """The receipt of ``tx_hash``, or None when the chain has no such transaction."""

        def fetch() -> AnchorTx | None:
            try:
                receipt = self.w3.eth.get_transaction_receipt(HexBytes(tx_hash))
            except Exception as exc:
                if type(exc).__name__ == "TransactionNotFound":
                    return None
                raise
            seqs = []
            for log in receipt["logs"]:
                topics = [bytes(t) for t in log["topics"]]
                if (
                    to_checksum_address(log["address"]) == self.anchor_address
                    and len(topics) >= 2
                    and topics[0] == self._anchored_topic
                ):
                    seqs.append(int.from_bytes(topics[1], "big"))
            to = receipt.get("to")
            return AnchorTx(
                tx_hash=bytes(tx_hash),
                status=int(receipt["status"]),
                to=to_checksum_address(to) if to else None,
                block_number=int(receipt["blockNumber"]),
                block_hash=bytes(receipt["blockHash"]),
                anchored_seqs=tuple(seqs),
            )

        return self._read(("tx", bytes(tx_hash)), f"reading transaction 0x{tx_hash.hex()}", fetch)

    # -- AnchorRegistry -------------------------------------------------------

    def next_seq(self) -> int:
        value = self._view(("nextSeq",), "calling nextSeq", self._anchor, "nextSeq")
        if value is None:
            raise UnavailableError(f"nextSeq reverted on {self.where}: is it an AnchorRegistry?")
        return int(value)

    def batch(self, seq: int) -> OnchainBatch | None:
        """The batch the contract holds for ``seq``, or None when it holds none."""
        if not 1 <= seq < self.next_seq():
            return None
        raw = self._view(("batch", seq), f"calling getBatch({seq})", self._anchor, "getBatch", seq)
        if raw is None:
            return None
        root, count, manifest, block, ts, log_hash = raw
        return OnchainBatch(
            seq, bytes(root), int(count), bytes(manifest), int(block), int(ts), bytes(log_hash)
        )

    def verify_batch(self, seq: int, header: BatchHeader) -> str:
        """Raise ``VerificationError`` unless ``getBatch(seq)`` and the block hash are the
        bundle's ``header``; says how it was checked."""
        where = f"bundle.batches.{seq}"
        onchain = self.batch(seq)
        if onchain is None:
            raise VerificationError(
                f"the AnchorRegistry holds no batch {seq}: {where} was never anchored here",
                expected="a batch record",
                computed="none",
            )
        diffs = [
            f"{name} {stated} differs from the contract's {stored}"
            for name, stated, stored in (
                ("root", header.root.hex(), onchain.root.hex()),
                ("leaf_count", header.leaf_count, onchain.leaf_count),
                ("manifest_digest", header.manifest_digest.hex(), onchain.manifest_digest.hex()),
                ("block_number", header.block_number, onchain.block_number),
            )
            if stated != stored
        ]
        if diffs:
            raise VerificationError(f"{where}: " + "; ".join(diffs), expected=None, computed=None)
        if self.block_hash(header.block_number) != header.block_hash:
            raise VerificationError(
                f"{where}.block_hash is not the hash of block {header.block_number} on this chain",
                expected="0x" + header.block_hash.hex(),
                computed=None,
            )
        return "as getBatch returns them"

    def log_link(self, seq: int) -> tuple[bytes, bytes]:
        """(logHash of batch ``seq - 1`` or zero, logHash of batch ``seq``) from getBatch."""
        prev = self.batch(seq - 1) if seq > 1 else None
        this = self.batch(seq)
        if this is None or (seq > 1 and prev is None):
            raise VerificationError(
                f"the AnchorRegistry holds no batch {seq if this is None else seq - 1}",
                expected="a batch record",
                computed="none",
            )
        return (prev.log_hash if prev is not None else bytes(32)), this.log_hash

    def log_head(self) -> tuple[int, bytes]:
        """(batch count, logHead()) from the views."""
        head = self._view(("logHead",), "calling logHead", self._anchor, "logHead")
        return self.next_seq() - 1, bytes(head)

    def _digest_topics(self, address: str, event: str) -> set[bytes]:
        block = self.at_block if self.at_block is not None else "latest"
        params: Any = {
            "address": address,
            "topics": ["0x" + keccak(text=event).hex()],
            "fromBlock": 0,
            "toBlock": block,
        }
        logs = self._read(
            ("logs", address, event, block),
            f"reading {event.split('(')[0]} events",
            lambda: self.w3.eth.get_logs(params),
        )
        return {bytes(log["topics"][1]) for log in logs if len(log["topics"]) > 1}

    def _index_events(self) -> bool:
        """Read which digests were ever revoked or attested, once per run (cached mode).

        A log is as trustworthy as a view call: both are the pinned node's answer about
        the pinned address. A node that refuses the range (some cap eth_getLogs) leaves
        the reader asking per digest instead.
        """
        if not self.caching:
            return False
        if not self._indexed:
            self._indexed = True
            try:
                self._revoked_index = self._digest_topics(self.anchor_address, _DIGEST_REVOKED)
                self._superseded_index = self._digest_topics(
                    self.anchor_address, _DIGEST_SUPERSEDED
                )
                self._attested_index = self._digest_topics(self.trust_address, _ATTESTATION_FILED)
            except UnavailableError:
                self._revoked_index = self._superseded_index = self._attested_index = None
        return (
            self._revoked_index is not None
            and self._superseded_index is not None
            and self._attested_index is not None
        )

    def revocation(self, digest: bytes) -> Revocation | None:
        if self._index_events() and digest not in (self._revoked_index or ()):
            return None
        raw = self._view(
            ("revocation", digest),
            "calling getRevocation",
            self._anchor,
            "getRevocation",
            digest,
        )
        if raw is None or int(raw[0]) == 0:
            return None
        return Revocation(int(raw[0]), bytes(raw[1]), int(raw[2]), int(raw[3]))

    def interface_version(self, contract: str) -> int:
        """``INTERFACE_VERSION()`` of the ``"anchor"`` or ``"trust"`` registry; 1 when the
        call reverts (the first release has no such function, docs/CONTRACTS.md §6)."""
        target = self._anchor if contract == "anchor" else self._trust
        value = self._view(
            ("interface", contract), "calling INTERFACE_VERSION", target, "INTERFACE_VERSION"
        )
        return 1 if value is None else int(value)

    def supersession(self, digest: bytes) -> Supersession | None:
        """The successor the AnchorRegistry records for ``digest``; None when it records
        none (or, version 1, cannot record any)."""
        if self.interface_version("anchor") < 2:
            return None
        if self._index_events() and digest not in (self._superseded_index or ()):
            return None
        raw = self._view(
            ("supersession", digest),
            "calling getSupersession",
            self._anchor,
            "getSupersession",
            digest,
        )
        if raw is None or bytes(raw[0]) == bytes(32):
            return None
        return Supersession(bytes(raw[0]), int(raw[1]), int(raw[2]), int(raw[3]))

    def type_grant(self, key_id: bytes, record_type: str) -> TypeGrant | None:
        """When ``key_id`` was granted (and withdrawn) ``record_type``; None when the
        TrustRegistry is version 1 and keeps no record types."""
        if self.interface_version("trust") < 2:
            return None
        raw = self._view(
            ("grant", key_id, record_type),
            "calling getRecordTypeGrant",
            self._trust,
            "getRecordTypeGrant",
            key_id,
            record_type,
        )
        if raw is None:
            return TypeGrant(0, 0)
        return TypeGrant(int(raw[0]), int(raw[1]))

    def terminal_key(self, key_id: bytes) -> TerminalKey | None:
        """``getTerminalKey`` (interface version 3); None for an id that is not a terminal
        key. Ask ``interface_version("trust")`` first: a version 2 registry has none."""
        raw = self._view(
            ("terminal", key_id), "calling getTerminalKey", self._trust, "getTerminalKey", key_id
        )
        if raw is None:
            return None
        return TerminalKey(
            int(raw[0]), bytes(raw[1]), bytes(raw[2]), bytes(raw[3]), *map(int, raw[4:7])
        )

    def metering_point_grant(self, key_id: bytes, point: str) -> TypeGrant:
        """``getMeteringPointGrant`` (interface version 3): the same formula as a type grant."""
        raw = self._view(
            ("point", key_id, point),
            "calling getMeteringPointGrant",
            self._trust,
            "getMeteringPointGrant",
            key_id,
            point,
        )
        return TypeGrant(0, 0) if raw is None else TypeGrant(int(raw[0]), int(raw[1]))

    def verify_inclusion_onchain(self, seq: int, proof: list[bytes], digest: bytes) -> bool:
        """The contract's own ``verifyInclusion`` (what the naive reader calls per record)."""
        key = ("inclusion", seq, tuple(proof), digest)
        action = f"calling verifyInclusion({seq})"
        return bool(self._view(key, action, self._anchor, "verifyInclusion", seq, proof, digest))

    # -- TrustRegistry --------------------------------------------------------

    def key(self, key_id: bytes) -> ProducerKey | None:
        raw = self._view(("key", key_id), "calling getKey", self._trust, "getKey", key_id)
        if raw is None:
            return None
        return ProducerKey(bytes(raw[0]), bytes(raw[1]), int(raw[2]), int(raw[3]), int(raw[4]))

    def body(self, address: str) -> Body | None:
        raw = self._view(("body", address), "calling getBody", self._trust, "getBody", address)
        if raw is None:
            return None
        return Body(
            address, str(raw[0]), str(raw[1]), str(raw[2]), int(raw[3]), int(raw[4]), bool(raw[5])
        )

    def attestations(self, digest: bytes, *, limit: int = 100) -> list[Attestation]:
        """Attestations filed about ``digest``, oldest first (at most ``limit``)."""
        if self._index_events() and digest not in (self._attested_index or ()):
            return []
        count = self._view(
            ("attcount", digest),
            "calling attestationCount",
            self._trust,
            "attestationCount",
            digest,
        )
        out = []
        for i in range(min(int(count or 0), limit)):
            raw = self._view(
                ("att", digest, i),
                "calling getAttestation",
                self._trust,
                "getAttestation",
                digest,
                i,
            )
            if raw is not None:
                out.append(
                    Attestation(
                        to_checksum_address(raw[0]),
                        bytes(raw[1]),
                        int(raw[2]),
                        int(raw[3]),
                        int(raw[4]),
                    )
                )
        return out


class _Reverted(Exception):  # noqa: N818 - internal signal, never leaves this module
    """A view reverted: an answer, not a failure of the node."""


def parse_address(value: str, option: str) -> ChecksumAddress:
    try:
        if not Web3.is_address(value):
            raise ValueError(value)
        return to_checksum_address(value)
    except (ValueError, TypeError):
        raise MalformedError(f"{option} {value!r} is not a 20-byte 0x address") from None
