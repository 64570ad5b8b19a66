"""Building real evidence bundles for the verifier tests: the example records committed,
signed by their producers' keys (registered in the TrustRegistry), batched, anchored
through the AnchorRegistry on a real chain (py-evm or anvil), and assembled into a
``carbonledger-bundle/1`` exactly as docs/FORMAT.md §6 lays it out.

The bundle exporter of the service is not used: these tests must not trust the code
whose output the verifier is meant to check.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hexbytes import HexBytes

from anchoring.chain import Chain
from anchoring.deployment import DeploymentRecord, deploy_contracts
from ledger import examples
from ledger.core.bundle import BatchHeader, Bundle, BundleItem, ChainRef, serialize_bundle
from ledger.core.keys import ALG_SM2_SM3, public_key_of
from ledger.core.merkle import (
    ZERO_DIGEST_HEX,
    MerkleTree,
    build_manifest,
    manifest_cid,
    manifest_digest,
)
from ledger.core.policy import is_confidential_set, public_view, reveals
from ledger.core.signature import key_id, private_key_from_seed, public_key_bytes, sign_digest
from ledger.core.view import Commitment, commit, redact
from ledger.examples import efficiency

KEY_VALID_FROM = 1735689600  # 2025-01-01T00:00:00Z
KEY_VALID_UNTIL = 1924992000  # 2031-01-01T00:00:00Z

#: The records the default bundle is about; everything they refer to goes in the closure.
DEFAULT_ITEMS = (
    examples.SUB_TANK_EU,
    examples.SUB_HX_SEA,
    examples.CC_ENTERPRISE_2025,
    examples.BIM_TANK_INSPECTION,
    examples.CR_TANK_REVISED,
)


def seeded_salts(record_id: str) -> Callable[[int], bytes]:
    counter = iter(range(1_000_000))

    def draw(n: int) -> bytes:
        seed = f"verifier-test:{record_id}#{next(counter)}".encode()
        return hashlib.sha256(seed).digest()[:n]

    return draw


def producer_key(producer: str) -> Ed25519PrivateKey:
    return private_key_from_seed(
        hashlib.sha256(b"verifier-test-key\x00" + producer.encode()).digest()
    )


@dataclass
class Ledger:
    """Everything the tests know about one anchored set of records."""

    chain: Chain
    deployment: DeploymentRecord
    commitments: dict[str, Commitment]
    batch_of: dict[str, int] = field(default_factory=dict)
    trees: dict[int, MerkleTree] = field(default_factory=dict)
    headers: dict[int, BatchHeader] = field(default_factory=dict)

    @property
    def anchor_address(self) -> str:
        return self.deployment.address_of("AnchorRegistry")

    @property
    def trust_address(self) -> str:
        return self.deployment.address_of("TrustRegistry")

    def contract(self, name: str) -> Any:
        from verifier.chain import load_abi

        return self.chain.contract(load_abi(name), self.deployment.address_of(name))

    @property
    def confidential_sets(self) -> frozenset[str]:
        return frozenset(i for i, c in self.commitments.items() if is_confidential_set(c.record))

    def item(self, record_id: str, *, audience: str | None = None) -> BundleItem:
        """``audience``: None (full view), "public" (what the public policy shows: full
        for what is not confidential) or "allow-list" (redacted by the public allow list
        whatever the record, as the first version's exporter did)."""
        c = self.commitments[record_id]
        view: Any = c
        if audience == "public":
            view = public_view(c, confidential_sets=self.confidential_sets)
        elif audience == "allow-list":
            view = redact(c, reveals(c.record["type"], "public"))
        seq = self.batch_of[record_id]
        return BundleItem(
            view=view,
            digest=c.digest,
            signature=sign_digest(producer_key(c.record["producer"]), c.digest),
            batch_seq=seq,
            proof=tuple(self.trees[seq].proof(c.digest)),
        )

    def closure_of(self, ids: Iterable[str]) -> list[str]:
        wanted = list(ids)
        seen: list[str] = []
        stack = [r["id"] for i in wanted for r in self.commitments[i].record["refs"]]
        while stack:
            rid = stack.pop()
            if rid in seen or rid in wanted:
                continue
            seen.append(rid)
            stack.extend(r["id"] for r in self.commitments[rid].record["refs"])
        return sorted(seen)

    def bundle(
        self,
        items: Iterable[str] = DEFAULT_ITEMS,
        *,
        audience: str | None = None,
        closure_audience: str | None = None,
        chain_ref: ChainRef | None = None,
    ) -> Bundle:
        ids = list(items)
        closure = self.closure_of(ids)
        used = {self.batch_of[i] for i in [*ids, *closure]}
        return Bundle(
            chain=chain_ref
            or ChainRef(self.chain.chain_id, self.anchor_address, self.trust_address),
            items=tuple(self.item(i, audience=audience) for i in ids),
            batches={seq: self.headers[seq] for seq in sorted(used)},
            closure=tuple(self.item(i, audience=closure_audience) for i in closure),
        )

    def bundle_bytes(self, items: Iterable[str] = DEFAULT_ITEMS, **kw: Any) -> bytes:
        return serialize_bundle(self.bundle(items, **kw))


def register_producer(chain: Chain, trust: Any, producer: str, types: Iterable[str]) -> bytes:
    """Register ``producer``'s key and grant it ``types``, as the key admin and the
    registrar would; returns the key id."""
    pub = public_key_bytes(producer_key(producer))
    kid = bytes.fromhex(key_id(pub))
    chain.transact(
        trust.functions.registerKey(
            kid,
            pub,
            hashlib.sha256(producer.encode()).digest(),
            KEY_VALID_FROM,
            KEY_VALID_UNTIL,
        )
    )
    for record_type in sorted(set(types)):
        chain.transact(trust.functions.grantRecordType(kid, record_type))
    return kid


def register_producers(chain: Chain, trust: Any, types: Mapping[str, Iterable[str]]) -> None:
    """``register_producer`` for each producer of ``types`` (producer -> record types)."""
    for producer in sorted(types):
        register_producer(chain, trust, producer, types[producer])


def anchor(
    ledger: Ledger, record_ids: list[str], *, created_at: str = "2026-04-01T00:00:00Z"
) -> int:
    """Anchor ``record_ids`` as the next batch; returns its seq."""
    registry = ledger.contract("AnchorRegistry")
    seq = len(ledger.trees) + 1
    digests = [ledger.commitments[i].digest for i in record_ids]
    tree = MerkleTree.build(digests)
    prev = ledger.headers[seq - 1].manifest_digest.hex() if seq > 1 else ZERO_DIGEST_HEX
    manifest = build_manifest(
        seq=seq, prev_manifest_digest_hex=prev, created_at=created_at, digests=digests
    )
    receipt = ledger.chain.transact(
        registry.functions.anchorBatch(
            seq, tree.root, tree.leaf_count, manifest_digest(manifest), manifest_cid(manifest)
        )
    )
    ledger.trees[seq] = tree
    ledger.headers[seq] = BatchHeader(
        root=tree.root,
        manifest_digest=manifest_digest(manifest),
        leaf_count=tree.leaf_count,
        tx_hash=bytes(HexBytes(receipt["transactionHash"])),
        block_number=int(receipt["blockNumber"]),
        block_hash=bytes(HexBytes(receipt["blockHash"])),
    )
    for rid in record_ids:
        ledger.batch_of[rid] = seq
    return seq


def commit_examples() -> dict[str, Commitment]:
    commitments: dict[str, Commitment] = {}

    def digest_of(record: dict[str, Any]) -> str:
        c = commit(record, salt_source=seeded_salts(record["id"]))
        commitments[record["id"]] = c
        return c.digest_hex

    examples.example_records(digest_of)
    return commitments


def build_ledger(chain: Chain, artifacts: Mapping[str, Any]) -> Ledger:
    """Deploy, register every example producer's key and anchor the examples in two
    batches: reference data first, then the records computed from it."""
    deployment = deploy_contracts(chain, artifacts, admin_delay_s=3600)
    ledger = Ledger(chain, deployment, commit_examples())
    types: dict[str, set[str]] = {}
    for c in ledger.commitments.values():
        types.setdefault(c.record["producer"], set()).add(c.record["type"])
    register_producers(chain, ledger.contract("TrustRegistry"), types)
    reference = [
        i
        for i, c in ledger.commitments.items()
        if c.record["type"] in ("factor-set", "region-rule", "rating-rule")
    ]
    anchor(ledger, reference)
    anchor(ledger, [i for i in ledger.commitments if i not in reference])
    return ledger


def register_terminal(chain: Chain, trust: Any, terminal: efficiency.Terminal) -> None:
    """``registerTerminalKey`` (key admin), then ``grantMeteringPoint`` and
    ``grantRecordType`` (registrar), as ``carbonledger keys terminal`` does."""
    public = public_key_of(terminal.key)
    kid = bytes.fromhex(public.key_id)
    chain.transact(
        trust.functions.registerTerminalKey(
            kid,
            2 if public.scheme == ALG_SM2_SM3 else 1,
            public.raw,
            public.distinguishing_id or b"",
            hashlib.sha256(terminal.id.encode()).digest(),
            KEY_VALID_FROM,
            KEY_VALID_UNTIL,
        )
    )
    chain.transact(trust.functions.grantMeteringPoint(kid, terminal.metering_point))
    chain.transact(trust.functions.grantRecordType(kid, "meter-reading"))


#: The records of the efficiency ledger anchored first (what the grading refers to).
_EFFICIENCY_REFERENCE = (
    "factor-set",
    "metadata-template",
    "industry-benchmark",
    "efficiency-grading-rule",
)


def build_efficiency_ledger(chain: Chain, artifacts: Mapping[str, Any]) -> Ledger:
    """The example plant over one day (two SM2 meters, one Ed25519 gateway) on ``chain``:
    producers and terminals registered and granted, reference records anchored in batch 1,
    the readings and the evaluation in batch 2."""
    commitments: dict[str, Commitment] = {}

    def digest_of(record: dict[str, Any]) -> str:
        commitments[record["id"]] = commit(record, salt_source=seeded_salts(record["id"]))
        return commitments[record["id"]].digest_hex

    efficiency.efficiency_example_records(digest_of, days=1)
    deployment = deploy_contracts(chain, artifacts, admin_delay_s=3600)
    built = Ledger(chain, deployment, commitments)
    producers: dict[str, set[str]] = {}
    for c in commitments.values():
        producers.setdefault(c.record["producer"], set()).add(c.record["type"])
    register_producers(chain, built.contract("TrustRegistry"), producers)
    for terminal in efficiency.terminals():
        register_terminal(chain, built.contract("TrustRegistry"), terminal)
    reference = [i for i, c in commitments.items() if c.record["type"] in _EFFICIENCY_REFERENCE]
    anchor(built, reference)
    anchor(built, [i for i in commitments if i not in reference])
    return built
