"""Readings signed at the terminal (docs/FORMAT.md §3.3, docs/RECORDS.md §3.12).

A collection terminal signs each interval reading when it measures it, before any gateway,
batch or record exists. What it signs is the reading's own content, never a record digest:

    M = "carbonledger.reading.v1" || 0x00 || JCS(content)

    content = {"end", "field", "metering_point", "quantity", "start", "terminal", "unit"}

all seven members strings exactly as the ``meter-reading`` record writes them (``terminal``
is the terminal's identifier). The tag keeps a reading signature from ever being valid as a
record or receipt signature, and the other way round. The record carrying a batch of
readings is signed by its producer like every record (docs/FORMAT.md §3); its digest covers
each reading's signature, so the two signatures say different things: the terminal, that it
measured this quantity over this interval; the producer, that it submits this batch.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from ledger.core.canonical import canonicalize
from ledger.core.errors import MalformedError, SignatureError
from ledger.core.keys import PublicKey, SigningKey, public_key_of, sign_message
from ledger.core.records import Record
from ledger.core.types.metering import validate_terminal

__all__ = [
    "READING_DOMAIN",
    "reading_content",
    "reading_message",
    "sign_reading",
    "terminal_id_hex",
    "terminal_key",
    "verify_readings",
]

READING_DOMAIN = b"carbonledger.reading.v1\x00"


def reading_content(batch: Mapping[str, Any], reading: Mapping[str, Any]) -> dict[str, str]:
    """The content a terminal signs for ``reading`` of the batch body ``batch``."""
    return {
        "end": reading["end"],
        "field": batch["field"],
        "metering_point": batch["metering_point"],
        "quantity": reading["quantity"],
        "start": reading["start"],
        "terminal": batch["terminal"]["id"],
        "unit": batch["unit"],
    }


def reading_message(content: Mapping[str, str]) -> bytes:
    """The exact bytes a terminal signs for a reading's content."""
    return READING_DOMAIN + canonicalize(dict(content))


def sign_reading(key: SigningKey, content: Mapping[str, str]) -> str:
    """A terminal's signature of one reading, as the record writes it (128 hex digits)."""
    _alg, value = sign_message(key, reading_message(content))
    return value.hex()


def terminal_id_hex(identifier: str) -> str:
    """The TrustRegistry's ``terminalId`` of a terminal: SHA-256 of the UTF-8 bytes of its
    identifier in canonical spelling (docs/CONTRACTS.md §4), lowercase hex."""
    return hashlib.sha256(identifier.encode("utf-8")).hexdigest()


def terminal_key(batch: Mapping[str, Any]) -> PublicKey:
    """The public key a batch states for its terminal (checked as validation checks it)."""
    return validate_terminal(batch["terminal"], "body.terminal")


def verify_readings(record: Record, *, key: PublicKey | None = None) -> None:
    """Verify every reading's terminal signature; raise ``SignatureError`` naming the first
    reading that does not verify (its JSON path in the message).

    The key is the one the batch states. Given ``key`` (the terminal's key as the
    TrustRegistry holds it), the stated key must be that key, with the same distinguishing
    identifier. Whether the terminal may sign for the metering point is the registry's
    question, not this function's.
    """
    if record.type != "meter-reading":
        raise MalformedError(f"{record.id} is a {record.type}, expected a meter-reading")
    batch = record.body
    stated = terminal_key(batch)
    if key is not None and key != stated:
        raise SignatureError(
            "body.terminal: the batch states another key than the terminal's registered key",
            expected=key.key_id,
            computed=stated.key_id,
        )
    for i, reading in enumerate(batch["readings"]):
        message = reading_message(reading_content(batch, reading))
        try:
            stated.verify(message, bytes.fromhex(reading["signature"]))
        except SignatureError as exc:
            raise SignatureError(
                f"body.readings[{i}].signature: the terminal's signature does not verify "
                f"over this reading ({reading['start']} to {reading['end']}, "
                f"{reading['quantity']} {batch['unit']})",
                expected=exc.expected,
                computed=exc.computed,
            ) from None


def public_key_hex(key: SigningKey) -> str:
    """A terminal key's public half in the canonical encoding a batch states."""
    return public_key_of(key).raw.hex()
