"""Producer signatures: Ed25519 over a domain-tagged record digest (DESIGN.md §3.3).

Signed bytes = ``carbonledger.sig.v1`` || 0x00 || digest (32 raw bytes). The tag keeps a
producer signature from ever being valid as any other carbonledger signature (receipts
use their own tag). A key is named by its key id: SHA-256 of the raw 32-byte public key,
lowercase hex, the value registered in the TrustRegistry.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ledger.core.errors import MalformedError, SignatureError

__all__ = [
    "ALG_ED25519",
    "SIGNATURE_DOMAIN",
    "Signature",
    "key_id",
    "private_key_from_seed",
    "public_key_bytes",
    "sign_digest",
    "signed_message",
    "verify_ed25519",
    "verify_signature",
]

SIGNATURE_DOMAIN = b"carbonledger.sig.v1\x00"
ALG_ED25519 = "ed25519"
_HEX = re.compile(r"[0-9a-f]*\Z")


def public_key_bytes(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    """Raw 32-byte public key (RFC 8032 §5.1.5 encoding)."""
    pub = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return pub.public_bytes(Encoding.Raw, PublicFormat.Raw)


def private_key_from_seed(seed: bytes) -> Ed25519PrivateKey:
    """Ed25519 private key from its 32-byte seed (RFC 8032 §5.1.5)."""
    if len(seed) != 32:
        raise MalformedError(f"Ed25519 seed: expected 32 bytes, got {len(seed)}")
    return Ed25519PrivateKey.from_private_bytes(seed)


def key_id(public_key: bytes | Ed25519PublicKey | Ed25519PrivateKey) -> str:
    """SHA-256 of the raw public key, lowercase hex."""
    raw = public_key if isinstance(public_key, bytes) else public_key_bytes(public_key)
    if len(raw) != 32:
        raise MalformedError(f"Ed25519 public key: expected 32 bytes, got {len(raw)}")
    return hashlib.sha256(raw).hexdigest()


def signed_message(digest: bytes) -> bytes:
    """The exact bytes a producer signs for ``digest``."""
    if len(digest) != 32:
        raise MalformedError(f"digest: expected 32 bytes, got {len(digest)}")
    return SIGNATURE_DOMAIN + digest


@dataclass(frozen=True)
class Signature:
    """A producer signature as bundles carry it: ``{key_id, alg, value}`` (value in hex)."""

    key_id: str
    value: bytes
    alg: str = ALG_ED25519

    def to_json(self) -> dict[str, str]:
        return {"key_id": self.key_id, "alg": self.alg, "value": self.value.hex()}

    @classmethod
    def from_json(cls, obj: Any, *, path: str = "signature") -> Signature:
        if not isinstance(obj, dict):
            raise MalformedError("expected an object", path=path)
        for name in sorted(set(obj) - {"key_id", "alg", "value"}):
            raise MalformedError(f"unknown member {name!r}", path=path)
        if obj.get("alg") != ALG_ED25519:
            raise MalformedError(f'alg must be "{ALG_ED25519}"', path=f"{path}.alg")
        kid = obj.get("key_id")
        if not isinstance(kid, str) or len(kid) != 64 or not _HEX.match(kid):
            raise MalformedError("expected 64 lowercase hex characters", path=f"{path}.key_id")
        value = obj.get("value")
        if not isinstance(value, str) or not _HEX.match(value) or len(value) % 2:
            raise MalformedError("expected lowercase hex", path=f"{path}.value")
        if len(value) != 128:
            raise MalformedError(f"expected 64 bytes, got {len(value) // 2}", path=f"{path}.value")
        return cls(kid, bytes.fromhex(value))


def sign_digest(private_key: Ed25519PrivateKey, digest: bytes) -> Signature:
    """Sign a record digest as its producer."""
    return Signature(key_id(private_key), private_key.sign(signed_message(digest)))


def verify_ed25519(public_key: bytes, message: bytes, signature: bytes) -> None:
    """Plain Ed25519 verification (RFC 8032 §5.1.7); raise ``SignatureError`` on failure."""
    if len(public_key) != 32:
        raise MalformedError(f"Ed25519 public key: expected 32 bytes, got {len(public_key)}")
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        raise SignatureError(
            "the Ed25519 signature does not verify under the stated key",
            expected=key_id(public_key),
            computed=signature.hex(),
        ) from None


def verify_signature(public_key: bytes, digest: bytes, signature: Signature | bytes) -> None:
    """Raise ``SignatureError`` unless ``signature`` is the producer's over ``digest``.

    With a ``Signature``, its key id must also name ``public_key``.
    """
    if isinstance(signature, Signature):
        if signature.alg != ALG_ED25519:
            raise MalformedError(f"unsupported signature algorithm {signature.alg!r}")
        if signature.key_id != key_id(public_key):
            raise SignatureError(
                "the signature names another key",
                expected=key_id(public_key),
                computed=signature.key_id,
            )
        value = signature.value
    else:
        value = signature
    verify_ed25519(public_key, signed_message(digest), value)
