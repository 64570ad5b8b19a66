"""The AnchorRegistry's records proven against block headers, read from several endpoints.

For each anchor block the verifier asks its first endpoint, in one batch request for all
anchors, for the header (``eth_getBlockByNumber``) and the proof of the registry's batch
record (``eth_getProof`` of the record's slots, from the compiler's storage layout). It
recomputes the header's hash, folds the account proof to the header's state root, checks
the proven code hash against the pinned one (the layout is only valid for that code),
folds each slot's proof to the account's storage root, and decodes the record from the
proven words. Every other endpoint is asked for the same headers, in one request each;
their recomputed hashes must equal the first endpoint's at every height, and a
difference is a failure naming the endpoints and the hashes.

What remains trusted after this is said in docs/VERIFY-trust.md: that the headers the
endpoints agree on are the chain's (no consensus proof is checked here).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ledger.core.bundle import BatchHeader
from ledger.core.errors import VerificationError
from verifier.evm.errors import CodeHashError, EndpointDisagreementError
from verifier.evm.header import BlockHeader, header_from_rpc
from verifier.evm.layout import Location, StorageLayout
from verifier.evm.rpc import Call, RpcEndpoint
from verifier.evm.state import ProvenStorage, verify_proof

__all__ = [
    "ProvenBatch",
    "ProvenHead",
    "ProvenRevocation",
    "RegistryProver",
    "verify_batch_header",
]

_BATCH_FIELDS = ("root", "manifestDigest", "logHash", "leafCount", "blockNumber", "timestamp")
_REVOCATION_FIELDS = ("reasonDigest", "reasonCode", "blockNumber", "timestamp")
#: Digests whose revocation slots one eth_getProof call proves (one account proof each).
_REVOCATIONS_PER_CALL = 200


@dataclass(frozen=True)
class ProvenBatch:
    """``_batches[seq]`` as proven at ``proven_at`` (all zero when never anchored);
    ``header`` is the anchor block's header, its hash recomputed."""

    seq: int
    root: bytes
    manifest_digest: bytes
    log_hash: bytes
    leaf_count: int
    block_number: int
    timestamp: int
    header: BlockHeader
    proven_at: BlockHeader

    @property
    def exists(self) -> bool:
        return self.root != bytes(32)


@dataclass(frozen=True)
class ProvenHead:
    """The registry's batch count and log head proven at ``header``."""

    batch_count: int
    log_head: bytes
    header: BlockHeader


@dataclass(frozen=True)
class ProvenRevocation:
    """``_revocations[digest]``; ``reason_code`` 0 means never revoked."""

    digest: bytes
    reason_code: int
    reason_digest: bytes
    block_number: int
    timestamp: int


class RegistryProver:
    """Proofs about the pinned AnchorRegistry through ``endpoints`` (the first answers
    the proofs; all of them must agree on every header read)."""

    def __init__(
        self,
        endpoints: Sequence[RpcEndpoint],
        *,
        registry: str,
        code_hash: str | None = None,
        layout: StorageLayout | None = None,
    ) -> None:
        if not endpoints:
            raise ValueError("at least one endpoint")
        self.endpoints = list(endpoints)
        self.registry = registry
        self.layout = layout or StorageLayout.packaged("AnchorRegistry")
        #: the auditor's pin, if any; the proven code must be it
        self.code_hash = code_hash.lower() if code_hash else None
        self._headers: dict[int, BlockHeader] = {}

    @property
    def primary(self) -> RpcEndpoint:
        return self.endpoints[0]

    # -- batches --------------------------------------------------------------

    def prove_batches(
        self, anchors: Mapping[int, int], *, at_block: int | None = None
    ) -> dict[int, ProvenBatch]:
        """``{seq: anchor block}`` -> each batch record proven at ``at_block`` (default:
        the highest anchor block), with the header of every anchor block and of
        ``at_block`` recomputed and compared across every endpoint.

        The records are proven at one recent block rather than at each anchor block: the
        registry never changes a record once written, and the record itself names the
        block it was written in, while a node that is not an archive keeps the state of
        recent blocks only (go-ethereum: 128) and could not prove an old anchor block's."""
        at = at_block if at_block is not None else max(anchors.values())
        plan = {seq: self._batch_locations(seq) for seq in anchors}
        heights = sorted({*anchors.values(), at})
        calls = [Call("eth_getBlockByNumber", (hex(b), False)) for b in heights]
        calls.append(Call("eth_getProof", self._proof_params(_flat(plan.values()), at)))
        answers = self.primary.batch(calls)
        headers = {b: self._header(a, b) for b, a in zip(heights, answers, strict=False)}
        words = self._verify(answers[-1], headers[at], _flat(plan.values())).words
        out: dict[int, ProvenBatch] = {}
        for seq, block in anchors.items():
            values = {name: loc.extract(words[loc.slot]) for name, loc in plan[seq].items()}
            out[seq] = ProvenBatch(
                seq=seq,
                root=values["root"].to_bytes(32, "big"),
                manifest_digest=values["manifestDigest"].to_bytes(32, "big"),
                log_hash=values["logHash"].to_bytes(32, "big"),
                leaf_count=values["leafCount"],
                block_number=values["blockNumber"],
                timestamp=values["timestamp"],
                header=headers[block],
                proven_at=headers[at],
            )
        self.compare_headers(heights)
        return out

    def prove_head(self, block: int) -> ProvenHead:
        """The batch count and log head (the last batch's log hash) proven at ``block``."""
        count_at = self.layout.locate("_batchCount")
        first = self.primary.batch(
            [
                Call("eth_getBlockByNumber", (hex(block), False)),
                Call("eth_getProof", self._proof_params([count_at], block)),
            ]
        )
        header = self._header(first[0], block)
        count = count_at.extract(self._verify(first[1], header, [count_at]).words[count_at.slot])
        log_head = bytes(32)
        if count:
            at = self.layout.locate("_batches", count, "logHash")
            answer = self.primary.call("eth_getProof", *self._proof_params([at], block))
            log_head = at.extract(self._verify(answer, header, [at]).words[at.slot]).to_bytes(
                32, "big"
            )
        self.compare_headers([block])
        return ProvenHead(count, log_head, header)

    def prove_revocations(
        self, digests: Iterable[bytes], block: int
    ) -> dict[bytes, ProvenRevocation]:
        """The revocation record of every digest, proven at ``block`` (absent = zero):
        one eth_getProof per chunk of digests, all chunks in one batch request."""
        wanted = list(dict.fromkeys(digests))
        header = self.header(block)
        chunks = [
            wanted[i : i + _REVOCATIONS_PER_CALL]
            for i in range(0, len(wanted), _REVOCATIONS_PER_CALL)
        ]
        plans = [{d: self._revocation_locations(d) for d in chunk} for chunk in chunks]
        calls = [
            Call("eth_getProof", self._proof_params(_flat(plan.values()), block)) for plan in plans
        ]
        out: dict[bytes, ProvenRevocation] = {}
        for plan, answer in zip(plans, self.primary.batch(calls), strict=True):
            words = self._verify(answer, header, _flat(plan.values())).words
            for digest, at in plan.items():
                out[digest] = ProvenRevocation(
                    digest=digest,
                    reason_code=at["reasonCode"].extract(words[at["reasonCode"].slot]),
                    reason_digest=at["reasonDigest"]
                    .extract(words[at["reasonDigest"].slot])
                    .to_bytes(32, "big"),
                    block_number=at["blockNumber"].extract(words[at["blockNumber"].slot]),
                    timestamp=at["timestamp"].extract(words[at["timestamp"].slot]),
                )
        return out

    # -- headers --------------------------------------------------------------

    def header(self, block: int) -> BlockHeader:
        """The header at ``block`` from the first endpoint, hash recomputed and compared
        across the endpoints."""
        if block not in self._headers:
            self._header(self.primary.call("eth_getBlockByNumber", hex(block), False), block)
            self.compare_headers([block])
        return self._headers[block]

    def compare_headers(self, blocks: Sequence[int]) -> None:
        """Every other endpoint's header at each of ``blocks`` must hash to the first
        endpoint's: one batch request per endpoint."""
        for other in self.endpoints[1:]:
            answers = other.batch([Call("eth_getBlockByNumber", (hex(b), False)) for b in blocks])
            for block, answer in zip(blocks, answers, strict=True):
                theirs = header_from_rpc(answer, url=other.url, number=block)
                ours = self._headers[block]
                if theirs.hash != ours.hash:
                    raise EndpointDisagreementError(
                        f"the endpoints disagree on block {block}: {self.primary.url} gives "
                        f"{ours.hash_hex}, {other.url} gives {theirs.hash_hex}: they are not "
                        "on one chain, so none of them can be believed",
                        height=block,
                        hashes={self.primary.url: ours.hash_hex, other.url: theirs.hash_hex},
                        expected=ours.hash_hex,
                        computed=theirs.hash_hex,
                    )

    def _header(self, answer: object, block: int) -> BlockHeader:
        header = header_from_rpc(answer, url=self.primary.url, number=block)
        self._headers[block] = header
        return header

    # -- proofs ---------------------------------------------------------------

    def _batch_locations(self, seq: int) -> dict[str, Location]:
        return {name: self.layout.locate("_batches", seq, name) for name in _BATCH_FIELDS}

    def _revocation_locations(self, digest: bytes) -> dict[str, Location]:
        return {
            name: self.layout.locate("_revocations", digest, name) for name in _REVOCATION_FIELDS
        }

    def _proof_params(self, locations: Iterable[Location], block: int) -> tuple[object, ...]:
        slots = sorted({loc.slot for loc in locations})
        return (self.registry, ["0x" + s.to_bytes(32, "big").hex() for s in slots], hex(block))

    def _verify(
        self, answer: object, header: BlockHeader, locations: Iterable[Location]
    ) -> ProvenStorage:
        slots = sorted({loc.slot for loc in locations})
        storage = verify_proof(
            answer,
            state_root=header.state_root,
            address=self.registry,
            slots=slots,
            url=self.primary.url,
            block=header.number,
        )
        proven = "0x" + storage.account.code_hash.hex()
        if self.code_hash is not None and proven != self.code_hash:
            raise CodeHashError(
                f"the AnchorRegistry at {self.registry} runs code {proven} at block "
                f"{header.number} (proven against the block's state root), not the "
                f"pinned {self.code_hash}",
                expected=self.code_hash,
                computed=proven,
            )
        # Slots mean what the layout says only in the build it came from.
        if proven != self.layout.runtime_code_hash:
            raise CodeHashError(
                f"the AnchorRegistry at {self.registry} runs code {proven} at block "
                f"{header.number}, not the build {self.layout.runtime_code_hash} whose "
                "storage layout this verifier reads: its stored records cannot be proven "
                "by this verifier (use the verifier released with that build)",
                expected=self.layout.runtime_code_hash,
                computed=proven,
            )
        return storage


def _flat(groups: Iterable[dict[str, Location]]) -> list[Location]:
    return [loc for group in groups for loc in group.values()]


def verify_batch_header(proven: ProvenBatch, header: BatchHeader, *, where: str) -> None:
    """The bundle's header of batch ``proven.seq`` (at ``where``) is the proven record:
    root, leaf count, manifest digest and anchor block as the registry stores them, and
    the block hash the one recomputed from the anchor block's header. Raises
    ``VerificationError`` naming every difference."""
    if not proven.exists:
        raise VerificationError(
            f"{where}: the registry holds no batch {proven.seq} at block "
            f"{proven.proven_at.number} (proven empty)",
            expected="a batch record",
            computed="none",
        )
    diffs = []
    for name, stated, stored in (
        ("root", header.root.hex(), proven.root.hex()),
        ("leaf_count", header.leaf_count, proven.leaf_count),
        ("manifest_digest", header.manifest_digest.hex(), proven.manifest_digest.hex()),
        ("block_number", header.block_number, proven.block_number),
        ("block_hash", header.block_hash.hex(), proven.header.hash.hex()),
    ):
        if stated != stored:
            diffs.append((name, stated, stored))
    if diffs:
        raise VerificationError(
            f"{where}: "
            + "; ".join(
                f"{name} {stated} is not the proven {stored}" for name, stated, stored in diffs
            ),
            expected={name: stored for name, _, stored in diffs},
            computed={name: stated for name, stated, _ in diffs},
        )
