"""The AnchorRegistry's state proven against block headers, read from several endpoints.

For the anchor blocks and the head block, the verifier reads the headers (hashes
recomputed, compared across every endpoint: verifier.evm.network) and proves the
registry's storage with ``eth_getProof`` against the head header's state root
(verifier.evm.contract): the batch records, the batch count and the TrustRegistry it is
linked to, the log hashes, and each record digest's revocation and supersession.

The records are proven at one recent block rather than at each anchor block: the
registry never changes a record once written, and the record itself names the block it
was written in, while a node that is not an archive keeps the state of recent blocks only
(go-ethereum: 128) and could not prove an old anchor block's.

What remains trusted after this is said in docs/VERIFY.md "What you trust": that the
headers the endpoints agree on are the chain's (no consensus proof is checked here).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ledger.core.bundle import BatchHeader
from ledger.core.errors import VerificationError
from verifier.evm.contract import ProvenContract
from verifier.evm.header import BlockHeader
from verifier.evm.layout import Location, StorageLayout
from verifier.evm.network import Network
from verifier.evm.rpc import RpcEndpoint
from verifier.facts import Revocation, Supersession

__all__ = [
    "BatchRecord",
    "DigestStatus",
    "ProvenBatch",
    "ProvenHead",
    "RegistryProver",
    "verify_batch_header",
]

_BATCH_FIELDS = ("root", "manifestDigest", "logHash", "leafCount", "blockNumber", "timestamp")
_REVOCATION_FIELDS = ("reasonDigest", "reasonCode", "blockNumber", "timestamp")
_SUPERSESSION_FIELDS = ("successor", "successorSeq", "blockNumber", "timestamp")


@dataclass(frozen=True)
class BatchRecord:
    """``_batches[seq]`` as proven at ``proven_at`` (all zero when never anchored)."""

    seq: int
    root: bytes
    manifest_digest: bytes
    log_hash: bytes
    leaf_count: int
    block_number: int
    timestamp: int
    proven_at: BlockHeader

    @property
    def exists(self) -> bool:
        return self.root != bytes(32)


@dataclass(frozen=True)
class ProvenBatch(BatchRecord):
    """A batch record with ``header``, its anchor block's header (hash recomputed)."""

    header: BlockHeader


@dataclass(frozen=True)
class ProvenHead:
    """The registry's batch count, log head and linked TrustRegistry proven at ``header``."""

    batch_count: int
    log_head: bytes
    trust_registry: str
    header: BlockHeader


@dataclass(frozen=True)
class DigestStatus:
    """A record digest's status as the registry holds it (docs/CONTRACTS.md §3)."""

    revocation: Revocation | None
    supersession: Supersession | None


class RegistryProver:
    """Proofs about the pinned AnchorRegistry through ``endpoints`` (the first answers
    the proofs; all of them must agree on every header read), or through a ``network``
    shared with the TrustRegistry's reads."""

    def __init__(
        self,
        endpoints: Sequence[RpcEndpoint] = (),
        *,
        registry: str,
        code_hash: str | None = None,
        layout: StorageLayout | None = None,
        network: Network | None = None,
    ) -> None:
        self.network = network or Network(endpoints)
        self.registry = registry
        self.contract = ProvenContract(
            self.network,
            name="AnchorRegistry",
            address=registry,
            layout=layout or StorageLayout.packaged("AnchorRegistry"),
            code_hash=code_hash,
        )
        self.layout = self.contract.layout

    @property
    def endpoints(self) -> list[RpcEndpoint]:
        return self.network.endpoints

    @property
    def primary(self) -> RpcEndpoint:
        return self.network.primary

    def header(self, block: int) -> BlockHeader:
        return self.network.header(block)

    # -- batches --------------------------------------------------------------

    def prove_batches(
        self, anchors: Mapping[int, int], *, at_block: int | None = None
    ) -> dict[int, ProvenBatch]:
        """``{seq: anchor block}`` -> each batch record proven at ``at_block`` (default:
        the highest anchor block), with the header of every anchor block and of
        ``at_block`` recomputed and compared across every endpoint."""
        at = at_block if at_block is not None else max(anchors.values())
        headers = self.network.headers([*anchors.values(), at])
        records = self.prove_records(anchors, at)
        return {
            seq: ProvenBatch(**records[seq].__dict__, header=headers[block])
            for seq, block in anchors.items()
        }

    def prove_records(self, seqs: Iterable[int], block: int) -> dict[int, BatchRecord]:
        """``_batches[seq]`` of every seq, proven at ``block`` (no anchor headers read)."""
        plan = {seq: self._locations("_batches", seq, _BATCH_FIELDS) for seq in set(seqs)}
        words = self.contract.words(_flat(plan.values()), block)
        at = self.network.header(block)
        out: dict[int, BatchRecord] = {}
        for seq, where in plan.items():
            v = {name: loc.extract(words[loc.slot]) for name, loc in where.items()}
            out[seq] = BatchRecord(
                seq=seq,
                root=v["root"].to_bytes(32, "big"),
                manifest_digest=v["manifestDigest"].to_bytes(32, "big"),
                log_hash=v["logHash"].to_bytes(32, "big"),
                leaf_count=v["leafCount"],
                block_number=v["blockNumber"],
                timestamp=v["timestamp"],
                proven_at=at,
            )
        return out

    def prove_head(self, block: int) -> ProvenHead:
        """The batch count, the log head (the last batch's log hash) and the linked
        TrustRegistry, proven at ``block``."""
        count_at = self.layout.locate("_batchCount")
        trust_at = self.layout.locate("_trustRegistry")
        words = self.contract.words([count_at, trust_at], block)
        count = count_at.extract(words[count_at.slot])
        trust = trust_at.extract(words[trust_at.slot]).to_bytes(20, "big")
        log_head = bytes(32)
        if count:
            log_head = self.prove_records([count], block)[count].log_hash
        return ProvenHead(count, log_head, "0x" + trust.hex(), self.network.header(block))

    # -- record statuses ----------------------------------------------------------

    def prove_statuses(self, digests: Iterable[bytes], block: int) -> dict[bytes, DigestStatus]:
        """Every digest's revocation and supersession, proven at ``block``: first the one
        word of each that says whether there is one (the reason code, the successor), all
        in one batch request; then the rest of the records that exist."""
        wanted = list(dict.fromkeys(digests))
        code = {d: self.layout.locate("_revocations", d, "reasonCode") for d in wanted}
        successor = {d: self.layout.locate("_supersessions", d, "successor") for d in wanted}
        words = self.contract.words([*code.values(), *successor.values()], block)
        revoked = [d for d in wanted if code[d].extract(words[code[d].slot])]
        superseded = [d for d in wanted if successor[d].extract(words[successor[d].slot])]
        details = {
            **{("r", d): self._locations("_revocations", d, _REVOCATION_FIELDS) for d in revoked},
            **{
                ("s", d): self._locations("_supersessions", d, _SUPERSESSION_FIELDS)
                for d in superseded
            },
        }
        more = self.contract.words(_flat(details.values()), block) if details else {}
        out: dict[bytes, DigestStatus] = {}
        for d in wanted:
            revocation = supersession = None
            if ("r", d) in details:
                v = {n: at.extract(more[at.slot]) for n, at in details[("r", d)].items()}
                revocation = Revocation(
                    v["reasonCode"],
                    v["reasonDigest"].to_bytes(32, "big"),
                    v["blockNumber"],
                    v["timestamp"],
                )
            if ("s", d) in details:
                v = {n: at.extract(more[at.slot]) for n, at in details[("s", d)].items()}
                supersession = Supersession(
                    v["successor"].to_bytes(32, "big"),
                    v["successorSeq"],
                    v["blockNumber"],
                    v["timestamp"],
                )
            out[d] = DigestStatus(revocation, supersession)
        return out

    def prove_revocations(self, digests: Iterable[bytes], block: int) -> dict[bytes, Revocation]:
        """The revocation record of every digest, proven at ``block`` (absent = zero)."""
        return {
            d: s.revocation or Revocation(0, bytes(32), 0, 0)
            for d, s in self.prove_statuses(digests, block).items()
        }

    def _locations(
        self, variable: str, key: int | bytes, fields: Sequence[str]
    ) -> dict[str, Location]:
        return {name: self.layout.locate(variable, key, name) for name in fields}


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
