"""Check 5 for a meter-reading batch: the terminal's signatures as well as the producer's
(docs/VERIFY.md §4, docs/CONTRACTS.md §4 terminal keys, docs/RECORDS.md §3.12).

A batch carries two kinds of signature: the producer's over the record, checked for every
record (``verifier.authority.check_signer``), and its terminal's over each reading. The
terminal's count when the TrustRegistry (interface version 3) holds the key the batch
states, for the terminal it names, with the same scheme and distinguishing identifier; the
key was valid at the end of every reading (when the terminal signed it) and unrevoked when
the batch was anchored; the key was granted ``meter-reading`` and the batch's metering point
at the anchor time; and every reading's signature verifies over its content (SM2 with SM3,
or Ed25519; docs/FORMAT.md §3.3). A registry older than version 3 holds no terminal keys:
WARN, "cannot be established". A view that hides the readings' signatures (the public view)
lets the key be checked but not the signatures: WARN, naming the view to ask for.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ledger.core.canonical import format_timestamp, parse_timestamp
from ledger.core.errors import LedgerError
from ledger.core.keys import ALG_ED25519, ALG_SM2_SM3, PublicKey
from ledger.core.readings import terminal_key, verify_readings
from verifier.authority import check_signer
from verifier.chain import ChainFacts
from verifier.facts import OnchainBatch, TerminalKey
from verifier.model import Status

if TYPE_CHECKING:
    from verifier.checks import Entry

__all__ = ["READING_TYPE", "check_signatures", "check_terminal", "stated_terminal"]

READING_TYPE = "meter-reading"
SCHEMES = {1: ALG_ED25519, 2: ALG_SM2_SM3}
_WORST = (Status.FAIL, Status.UNKNOWN, Status.WARN, Status.SKIP, Status.PASS)


def _when(timestamp: int) -> str:
    return format_timestamp(datetime.fromtimestamp(timestamp, UTC))


def check_signatures(reader: ChainFacts, entry: Entry) -> tuple[Status, str]:
    """Check 5 for one record: the producer's signature, and for a meter-reading batch
    whose producer signature counts, its terminal's signatures too (the worse verdict)."""
    status, reason = check_signer(reader, entry)
    if entry.record_type != READING_TYPE or status is Status.FAIL:
        return status, reason
    theirs, why = check_terminal(reader, entry)
    worst = min(status, theirs, key=_WORST.index)
    return worst, f"{reason}; terminal: {why}"


def stated_terminal(body: dict[str, Any]) -> tuple[PublicKey, str] | None:
    """The terminal key and the metering point a meter-reading batch's ``body`` states;
    None when this view does not disclose them."""
    point = body.get("metering_point")
    if not isinstance(point, str):
        return None
    try:
        return terminal_key(body), point
    except (LedgerError, KeyError, TypeError):
        return None


def check_terminal(reader: ChainFacts, entry: Entry) -> tuple[Status, str]:
    """The terminal half of check 5 for one meter-reading batch (after the producer half
    passed, so its batch is on this chain)."""
    raw = entry.raw.get("body")
    body: dict[str, Any] = raw if isinstance(raw, dict) else {}
    terminal = stated_terminal(body)
    if terminal is None:
        return Status.WARN, (
            "the terminal or the metering point is not disclosed in this view, so its "
            "signatures cannot be checked: ask for the regulator view"
        )
    stated, point = terminal
    if reader.interface_version("trust") < 3:
        return Status.WARN, (
            "the TrustRegistry is older than interface version 3 and holds no terminal keys, "
            "so whether the terminal may sign these readings cannot be established"
        )
    batch = reader.batch(entry.item.batch_seq)
    if batch is None:  # check_signer has failed already; kept for a direct caller
        return Status.FAIL, f"batch {entry.item.batch_seq} is not on this chain"
    kid = f"{stated.key_id[:16]}…"
    key = reader.terminal_key(bytes.fromhex(stated.key_id))
    if key is None:
        return Status.FAIL, (
            f"terminal key {kid} ({body['terminal'].get('id')}) is not registered in the "
            f"TrustRegistry at {reader.trust_address}"
        )
    problem = _registration(stated, key, str(body["terminal"]["id"]), kid)
    problem = problem or _windows(body, key, batch, kid)
    problem = problem or _grants(reader, stated, point, batch, kid)
    if problem is not None:
        return Status.FAIL, problem
    if entry.record is None:
        return Status.WARN, (
            f"key {kid} is registered for {body['terminal']['id']} and granted {point}, but "
            "this view hides the readings' signatures: ask for the regulator view"
        )
    try:
        verify_readings(entry.record, key=stated)
    except LedgerError as exc:
        return Status.FAIL, f"{exc.message}: look at {entry.subject}.view"
    count = len(entry.record.body["readings"])
    return Status.PASS, (
        f"{count} readings signed {stated.scheme} by {body['terminal']['id']}, key {kid} "
        f"valid when each was measured and granted {point} when anchored"
    )


def _registration(stated: PublicKey, key: TerminalKey, terminal: str, kid: str) -> str | None:
    if key.terminal_id != hashlib.sha256(terminal.encode("utf-8")).digest():
        return f"terminal key {kid} is registered for another terminal than {terminal}"
    scheme = SCHEMES.get(key.scheme, f"scheme {key.scheme}")
    if scheme != stated.scheme or key.public_key != stated.raw:
        return f"terminal key {kid} is registered as another {scheme} key than the batch states"
    if key.distinguishing_id != (stated.distinguishing_id or b""):
        return (
            f"terminal key {kid} is registered with another distinguishing identifier "
            f"({key.distinguishing_id!r}) than the batch states"
        )
    return None


def _windows(body: dict[str, Any], key: TerminalKey, batch: OnchainBatch, kid: str) -> str | None:
    anchored = f"anchored {_when(batch.timestamp)} (block {batch.block_number})"
    if key.revoked_at != 0 and batch.timestamp >= key.revoked_at:
        return (
            f"{anchored}, after terminal key {kid} was revoked (effective {_when(key.revoked_at)})"
        )
    readings = body.get("readings")
    for i, reading in enumerate(readings if isinstance(readings, list) else []):
        end = reading.get("end") if isinstance(reading, dict) else None
        if not isinstance(end, str):
            continue  # hidden in this view; the record's own form is check 4's
        try:
            at = int(parse_timestamp(end, path=f"body.readings[{i}].end").timestamp())
        except LedgerError as exc:
            return exc.message
        if not key.is_valid_at(at):
            return (
                f"body.readings[{i}]: terminal key {kid} was not valid when this reading "
                f"ended ({end}; window {_when(key.valid_from)}..{_when(key.valid_until)}, "
                f"revoked {_when(key.revoked_at) if key.revoked_at else 'never'})"
            )
    return None


def _grants(
    reader: ChainFacts, stated: PublicKey, point: str, batch: OnchainBatch, kid: str
) -> str | None:
    key_id = bytes.fromhex(stated.key_id)
    anchored = f"the batch was anchored {_when(batch.timestamp)}"
    kind = reader.type_grant(key_id, READING_TYPE)
    if kind is None or not kind.covers(batch.timestamp):
        return (
            f"terminal key {kid} was not granted {READING_TYPE} when {anchored} "
            "(TrustRegistry getRecordTypeGrant)"
        )
    if not reader.metering_point_grant(key_id, point).covers(batch.timestamp):
        return (
            f"terminal key {kid} may not sign for metering point {point}: not granted when "
            f"{anchored} (TrustRegistry getMeteringPointGrant)"
        )
    return None
