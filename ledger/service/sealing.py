"""Sealing: the oldest pending records become the next batch (docs/FORMAT.md §4,
docs/OPERATIONS.md §1).

A batch is due when ``max_records`` records are pending or the oldest of them has waited
``max_age_s``. One transaction stores the batch (seq, root, manifest, its digest and CID),
every leaf with its proof, and moves the records pending → batched: a crash leaves the
whole batch or nothing. The sealed batch is the anchor intent; the anchorer (which calls
this at every step) signs its transaction next. Sealing needs no chain.
"""

from __future__ import annotations

import logging
from datetime import datetime

from ledger.core.canonical import format_timestamp
from ledger.core.merkle import (
    ZERO_DIGEST_HEX,
    MerkleTree,
    build_manifest,
    manifest_bytes,
    manifest_cid,
    manifest_digest,
)
from ledger.store import Store
from ledger.store import batches as batch_repo
from ledger.store.batches import SealedLeaf

log = logging.getLogger(__name__)


def seal_one(store: Store, *, now: datetime, max_records: int, max_age_s: float) -> int | None:
    """Seal the next batch when one is due; its seq, or None when none is due.

    Leaf indices are positions in the sorted digest order (the manifest's ``leaves``).
    """
    with store.transaction() as session:
        pending, oldest = batch_repo.pending_summary(session)
        if not pending:
            return None
        age_s = (now - oldest).total_seconds() if oldest is not None else 0.0
        if pending < max_records and age_s < max_age_s:
            return None
        digests_hex = batch_repo.oldest_pending_digests(session, max_records)
        seq = batch_repo.next_batch_seq(session)
        previous = batch_repo.latest_batch(session)
        prev_hex = previous.manifest_digest_hex if previous is not None else ZERO_DIGEST_HEX
        digests = [bytes.fromhex(d) for d in digests_hex]
        tree = MerkleTree.build(digests)
        manifest = build_manifest(
            seq=seq,
            prev_manifest_digest_hex=prev_hex,
            created_at=format_timestamp(now),
            digests=digests,
        )
        index = {leaf: i for i, leaf in enumerate(tree.leaves)}
        batch_repo.seal_batch(
            session,
            seq=seq,
            root_hex=tree.root.hex(),
            manifest=manifest_bytes(manifest),
            manifest_digest_hex=manifest_digest(manifest).hex(),
            manifest_cid=manifest_cid(manifest),
            created_at=now,
            leaves=[
                SealedLeaf(
                    leaf_index=index[d],
                    digest_hex=d.hex(),
                    proof=[node.hex() for node in tree.proof(d)],
                )
                for d in digests
            ],
        )
    log.info("sealed batch %s: %s records", seq, len(digests))
    return seq
