"""Check 13: the receipts a bundle carries, and whether the service kept their promises.

A receipt (docs/FORMAT.md §5) is the service's signed promise, given when it accepted a record,
to anchor it by ``anchor_by``. Every receipt in a bundle must be signed under the bundle's
service key (SHA-256 of which is its id; an auditor may pin that id with
``--service-key-id``) and name a record of the bundle by id and digest. A receipt whose
record was anchored later than promised is a WARN naming both times: the record is no
less valid, but the service broke its word, which is what receipts exist to show.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING

from ledger.core.bundle import Bundle
from ledger.core.canonical import format_timestamp, parse_timestamp
from ledger.core.errors import LedgerError
from ledger.core.receipt import Receipt, verify_receipt
from verifier.chain import ChainFacts
from verifier.model import Check, Pins, Status, Verification

if TYPE_CHECKING:
    from verifier.checks import Entry

OnChain = Callable[[int, "Entry | None", Callable[[], tuple[Status, str]]], Check]
NUMBER = 13


def check_receipts(
    bundle: Bundle,
    entries: Sequence[Entry],
    *,
    reader: ChainFacts,
    pins: Pins,
    out: Verification,
    on_chain: OnChain,
    signature_errors: Mapping[int, str | None] | None = None,
) -> None:
    """Check 13 for every receipt. ``signature_errors`` (receipt index -> the error of
    its signature, None when it verifies) are the signatures already checked elsewhere
    (by the worker processes of ``--jobs``); missing ones are checked here."""
    if bundle.receipts is None or bundle.service is None:
        out.add(Check(NUMBER, Status.SKIP, "the bundle carries no receipts"))
        return
    service = bundle.service
    if pins.service_key_id is not None and pins.service_key_id != service.key_id:
        out.add(
            Check(
                NUMBER,
                Status.FAIL,
                f"the receipts are signed by service key {service.key_id}, you pinned "
                f"{pins.service_key_id}: check where the bundle came from",
            )
        )
        return
    whose = (
        "the pinned service key"
        if pins.service_key_id is not None
        else f"service key {service.key_id[:16]}… (as the bundle states; pin it with "
        "--service-key-id)"
    )
    by_record = {(e.record_id, e.item.digest.hex()): e for e in entries}
    for i, receipt in enumerate(bundle.receipts):
        where = f"receipts[{i}]"
        if signature_errors is not None and i in signature_errors:
            error = signature_errors[i]
        else:
            error = receipt_signature_error(receipt, service.public_key)
        if error is not None:
            out.add(Check(NUMBER, Status.FAIL, f"{where}: {error}", where, receipt.record_id))
            continue
        entry = by_record.get((receipt.record_id, receipt.digest_hex))
        if entry is None:
            out.add(
                Check(
                    NUMBER,
                    Status.FAIL,
                    f"{where} names record {receipt.record_id} with digest "
                    f"{receipt.digest_hex[:16]}…, which is not in the bundle",
                    where,
                    receipt.record_id,
                )
            )
            continue
        on_chain(NUMBER, entry, partial(_promise, reader, receipt, entry, whose))


def receipt_signature_error(receipt: Receipt, public_key: bytes) -> str | None:
    """Why ``receipt``'s signature does not verify under ``public_key``; None when it does."""
    try:
        verify_receipt(receipt, public_key)
    except LedgerError as exc:
        return exc.message
    return None


def _promise(reader: ChainFacts, receipt: Receipt, entry: Entry, whose: str) -> tuple[Status, str]:
    batch = reader.batch(entry.item.batch_seq)
    if batch is None:
        return Status.SKIP, f"signed by {whose}; batch {entry.item.batch_seq} is not on chain"
    anchored = datetime.fromtimestamp(batch.timestamp, UTC)
    promised = parse_timestamp(receipt.anchor_by)
    if anchored > promised:
        return (
            Status.WARN,
            f"signed by {whose}, but anchored at {format_timestamp(anchored)}, after the "
            f"promised {receipt.anchor_by}: the service broke its promise",
        )
    return (
        Status.PASS,
        f"signed by {whose}; accepted {receipt.accepted_at}, anchored "
        f"{format_timestamp(anchored)}, promised by {receipt.anchor_by}",
    )
