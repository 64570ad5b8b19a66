"""Checks 2, 3, 7 and 14: the chain is the one pinned, the registries are the expected
code, each batch header is what the AnchorRegistry recorded for its seq, and the bundle's
batches chain to the registry's log head.

Identity comes only from the auditor's pins (docs/VERIFY.md §2; after immudb
CVE-2022-39199): a bundle naming another chain or registry fails; it never re-points
the verifier.
"""

from __future__ import annotations

from datetime import UTC, datetime

from ledger.core.bundle import BatchHeader, Bundle
from ledger.core.canonical import format_timestamp
from ledger.core.errors import UnavailableError, VerificationError
from ledger.core.merkle import log_hash
from verifier.chain import ChainFacts, packaged_code_hash
from verifier.model import Check, Outcome, Pins, Status

__all__ = ["check_batch", "check_chain", "check_code", "check_log"]


def check_chain(bundle: Bundle, reader: ChainFacts, pins: Pins) -> Check:
    """Check 2: the endpoints serve the pinned chain (the same chain id from each, the
    pinned genesis block, one head header), and the bundle names the pinned chain and
    registries. On success every later read is made at the head block read here."""
    problems = []
    ref = bundle.chain
    if ref.chain_id != pins.chain_id:
        problems.append(f"the bundle names chain {ref.chain_id}, you pinned {pins.chain_id}")
    if ref.anchor_registry != reader.anchor_address:
        problems.append(
            f"the bundle names AnchorRegistry {ref.anchor_registry}, you pinned "
            f"{reader.anchor_address}"
        )
    try:
        served = reader.chain_id()
        if served != pins.chain_id:
            problems.append(f"the node serves chain {served}, not the pinned {pins.chain_id}")
        else:
            if pins.genesis_hash is not None:
                block_zero = reader.block_hash(0)
                found = "0x" + block_zero.hex() if block_zero is not None else "(none)"
                if found != pins.genesis_hash:
                    problems.append(
                        f"the chain's genesis block is {found}, you pinned "
                        f"{pins.genesis_hash}: this is another chain with the same chain id"
                    )
            head = reader.pin_head()
            # The TrustRegistry is the one the pinned AnchorRegistry names, never the bundle's.
            linked = reader.linked_trust_registry()
            if pins.trust_registry is not None and pins.trust_registry != linked:
                problems.append(
                    f"you pinned TrustRegistry {pins.trust_registry}, but the AnchorRegistry "
                    f"is linked to {linked}"
                )
            if ref.trust_registry != linked:
                problems.append(
                    f"the bundle names TrustRegistry {ref.trust_registry}, the pinned "
                    f"AnchorRegistry is linked to {linked}"
                )
    except VerificationError as exc:
        # The endpoints' answers are provably not one chain's: nothing else is read.
        return Check(2, Status.FAIL, "; ".join([*problems, exc.message]))
    except UnavailableError as exc:
        if problems:
            return Check(2, Status.FAIL, "; ".join(problems))
        return Check(2, Status.UNKNOWN, exc.message)
    if problems:
        return Check(
            2, Status.FAIL, "; ".join(problems) + ": check the bundle's origin and the pins"
        )
    genesis = ", genesis as pinned" if pins.genesis_hash is not None else ""
    return Check(
        2, Status.PASS, f"chain {pins.chain_id}{genesis}, registries as pinned, head block {head}"
    )


def check_code(reader: ChainFacts, pins: Pins) -> tuple[Status, str]:
    """Check 3: code is deployed at both pinned addresses and, when the auditor gives the
    expected runtime code hashes, it is exactly that code (docs/CONTRACTS.md §1)."""
    notes = []
    status = Status.PASS
    for name, address, expected in (
        ("AnchorRegistry", reader.anchor_address, pins.anchor_code_hash),
        ("TrustRegistry", reader.trust_address, pins.trust_code_hash),
    ):
        actual = reader.code_hash(address)
        if actual == _EMPTY_CODE_HASH:
            return Status.FAIL, f"no contract deployed at the pinned {name} address {address}"
        if expected is None:
            status = Status.SKIP if status is Status.PASS else status
            notes.append(f"{name} code {actual[:12]}… (no expected hash given)")
        elif actual != expected:
            return Status.FAIL, (
                f"{name} at {address} runs code {actual}, not the expected {expected}: "
                "this is not the audited contract"
            )
        else:
            notes.append(f"{name} code as expected")
    if status is Status.SKIP:
        build = packaged_code_hash("AnchorRegistry")
        notes.append(f"pass --code-hash to check it (this verifier's build: {build[:12]}…)")
    return status, "; ".join(notes)


_EMPTY_CODE_HASH = "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"


def check_batch(reader: ChainFacts, pins: Pins, seq: int, header: BatchHeader) -> Outcome:
    """Check 7 for one batch: root, leaf count, manifest digest and block as recorded by the
    contract; the anchoring transaction is real, succeeded, went to the registry and logged
    this seq; the block hash is the chain's; the anchor is ``min_depth`` blocks deep."""
    where = f"bundle.batches.{seq}"
    try:
        how = reader.verify_batch(seq, header)
    except VerificationError as exc:
        return Status.FAIL, exc.message
    return _check_anchor_tx(reader, pins, seq, header, where, how=how)


def _check_anchor_tx(
    reader: ChainFacts, pins: Pins, seq: int, header: BatchHeader, where: str, *, how: str
) -> Outcome:
    """The rest of check 7 once the record and the block hash are settled: the anchoring
    transaction and the depth."""
    tx = reader.anchor_tx(header.tx_hash)
    if tx is None:
        return Status.FAIL, f"{where}.tx_hash: no such transaction on this chain"
    if (
        tx.status != 1
        or tx.to != reader.anchor_address
        or tx.block_number != header.block_number
        or tx.block_hash != header.block_hash
        or seq not in tx.anchored_seqs
    ):
        return (
            Status.FAIL,
            f"{where}.tx_hash: that transaction did not anchor batch {seq} "
            f"in block {header.block_number}",
        )
    head = reader.at_block if reader.at_block is not None else header.block_number
    depth = head - header.block_number + 1
    if depth < pins.min_depth:
        return (
            Status.FAIL,
            f"batch {seq} is {depth} blocks deep, fewer than the required "
            f"{pins.min_depth}: wait and re-run",
        )
    batch = reader.batch(seq)
    anchored_at = batch.timestamp if batch is not None else None
    return (
        Status.PASS,
        f"batch {seq} anchored in block {header.block_number}, {depth} deep; "
        f"root, count, manifest match ({how})",
        {
            "batch_seq": seq,
            "tx_hash": "0x" + header.tx_hash.hex(),
            "block_number": header.block_number,
            "block_hash": "0x" + header.block_hash.hex(),
            "anchored_at": (
                format_timestamp(datetime.fromtimestamp(anchored_at, UTC))
                if anchored_at is not None
                else None
            ),
            "depth": depth,
        },
    )


def check_log(reader: ChainFacts, seq: int, header: BatchHeader) -> tuple[Status, str]:
    """Check 14 for one batch: the bundle's header, with the registry's log hash of the
    batch before, recomputes the registry's log hash of this batch (docs/CONTRACTS.md §3),
    so the batch is a link of the one history the log head pins."""
    prev, stored = reader.log_link(seq)
    computed = log_hash(prev, seq, header.root, header.leaf_count, header.manifest_digest)
    count, head = reader.log_head()
    if computed != stored:
        return Status.FAIL, (
            f"bundle.batches.{seq}: keccak256(logHash {seq - 1}, seq, root, leaf_count, "
            f"manifest_digest) is 0x{computed.hex()}, the registry's logHash {seq} is "
            f"0x{stored.hex()}: this batch is not the one the registry's history holds"
        )
    return Status.PASS, (
        f"batch {seq} links logHash {seq - 1} to logHash {seq} 0x{stored.hex()[:16]}…; "
        f"the log head after batch {count} is 0x{head.hex()}"
    )
