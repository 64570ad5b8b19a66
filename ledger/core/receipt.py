"""Receipts: the service's signed promise to anchor a record (docs/FORMAT.md §5).

A receipt is ``{format, record_id, digest, accepted_at, anchor_by, service_key_id,
signature}``. The service signs, with Ed25519, the bytes
``carbonledger.receipt.v1`` || 0x00 || JCS(receipt without ``signature``);
``anchor_by`` = ``accepted_at`` + the maximum merge delay. After ``anchor_by`` the record's
bundle must verify: the receipt is evidence against the service if it does not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.core import jsonshape
from ledger.core.canonical import canonicalize, format_timestamp, parse_timestamp
from ledger.core.errors import MalformedError, SignatureError, VerificationError
from ledger.core.signature import key_id, verify_ed25519

__all__ = [
    "RECEIPT_DOMAIN",
    "RECEIPT_FORMAT",
    "Receipt",
    "issue_receipt",
    "receipt_signed_bytes",
    "verify_receipt",
]

RECEIPT_FORMAT = "carbonledger-receipt/1"
RECEIPT_DOMAIN = b"carbonledger.receipt.v1\x00"
MAX_RECORD_ID_CHARS = 256
_FIELDS = frozenset(
    {"format", "record_id", "digest", "accepted_at", "anchor_by", "service_key_id", "signature"}
)


@dataclass(frozen=True)
class Receipt:
    record_id: str
    digest_hex: str
    accepted_at: str
    anchor_by: str
    service_key_id: str
    signature: bytes

    def body(self) -> dict[str, Any]:
        """The signed members (everything but the signature)."""
        return {
            "format": RECEIPT_FORMAT,
            "record_id": self.record_id,
            "digest": self.digest_hex,
            "accepted_at": self.accepted_at,
            "anchor_by": self.anchor_by,
            "service_key_id": self.service_key_id,
        }

    def to_json(self) -> dict[str, Any]:
        return {**self.body(), "signature": self.signature.hex()}

    @classmethod
    def from_json(cls, obj: Any, *, path: str = "receipt") -> Receipt:
        jsonshape.members(obj, path, _FIELDS)
        if obj["format"] != RECEIPT_FORMAT:
            raise MalformedError(
                f"unsupported receipt format {obj['format']!r}", path=f"{path}.format"
            )
        rid = jsonshape.string(
            obj["record_id"], f"{path}.record_id", min_chars=1, max_chars=MAX_RECORD_ID_CHARS
        )
        digest_hex = jsonshape.hex_text(obj["digest"], f"{path}.digest", size=32)
        kid = jsonshape.hex_text(obj["service_key_id"], f"{path}.service_key_id", size=32)
        accepted = parse_timestamp(obj["accepted_at"], path=f"{path}.accepted_at")
        anchor_by = parse_timestamp(obj["anchor_by"], path=f"{path}.anchor_by")
        if anchor_by < accepted:
            raise MalformedError("anchor_by precedes accepted_at", path=f"{path}.anchor_by")
        signature = jsonshape.hex_bytes(obj["signature"], f"{path}.signature", size=64)
        return cls(rid, digest_hex, obj["accepted_at"], obj["anchor_by"], kid, signature)


def receipt_signed_bytes(body: dict[str, Any]) -> bytes:
    """The exact bytes the service signs: domain tag, 0x00, JCS of the body."""
    return RECEIPT_DOMAIN + canonicalize(body)


def issue_receipt(
    *,
    record_id: str,
    digest: bytes,
    accepted_at: datetime,
    max_merge_delay_s: int,
    service_key: Ed25519PrivateKey,
) -> Receipt:
    """Sign a receipt promising that ``digest`` is anchored by accepted_at + the delay."""
    if len(digest) != 32:
        raise MalformedError(f"digest: expected 32 bytes, got {len(digest)}")
    if max_merge_delay_s < 0:
        raise MalformedError("max_merge_delay_s must not be negative")
    unsigned = Receipt(
        record_id=record_id,
        digest_hex=digest.hex(),
        accepted_at=format_timestamp(accepted_at),
        anchor_by=format_timestamp(accepted_at + timedelta(seconds=max_merge_delay_s)),
        service_key_id=key_id(service_key),
        signature=b"",
    )
    signature = service_key.sign(receipt_signed_bytes(unsigned.body()))
    return Receipt(**{**unsigned.__dict__, "signature": signature})


def verify_receipt(
    receipt: Receipt,
    service_public_key: bytes,
    *,
    digest_hex: str | None = None,
    record_id: str | None = None,
) -> None:
    """Raise unless ``receipt`` is signed by ``service_public_key`` (and names the record).

    ``SignatureError`` for a bad signature or a receipt naming another service key;
    ``VerificationError`` when ``digest_hex``/``record_id`` are given and differ.
    """
    expected_kid = key_id(service_public_key)
    if receipt.service_key_id != expected_kid:
        raise SignatureError(
            "the receipt names another service key",
            expected=expected_kid,
            computed=receipt.service_key_id,
        )
    verify_ed25519(service_public_key, receipt_signed_bytes(receipt.body()), receipt.signature)
    if digest_hex is not None and receipt.digest_hex != digest_hex:
        raise VerificationError(
            "the receipt is for another digest", expected=digest_hex, computed=receipt.digest_hex
        )
    if record_id is not None and receipt.record_id != record_id:
        raise VerificationError(
            "the receipt is for another record id", expected=record_id, computed=receipt.record_id
        )
