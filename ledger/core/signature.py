"""Producer signatures over a domain-tagged record digest (docs/FORMAT.md §3).

Signed bytes = ``carbonledger.sig.v1`` || 0x00 || digest (32 raw bytes), whatever the
scheme: Ed25519 signs them as they are, SM2 hashes them with SM3 after Z_A. The tag keeps a
producer signature from ever being valid as any other carbonledger signature (receipts
use their own tag). A key is named by its key id: SHA-256 of the key's canonical encoding
(``ledger.core.keys``), lowercase hex, the value registered in the TrustRegistry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ledger.core import jsonshape
from ledger.core.errors import MalformedError, SignatureError
from ledger.core.keys import (
    ALG_ED25519,
    ALG_SM2_SM3,
    SIGNATURE_ALGS,
    PublicKey,
    SigningKey,
    public_key,
    public_key_of,
    sign_message,
)

__all__ = [
    "ALG_ED25519",
    "ALG_SM2_SM3",
    "SIGNATURE_DOMAIN",
    "PublicKey",
    "Signature",
    "key_id",
    "private_key_from_seed",
    "public_key_bytes",
    "public_key_from",
    "sign_digest",
    "signed_message",
    "verify_ed25519",
    "verify_signature",
]

SIGNATURE_DOMAIN = b"carbonledger.sig.v1\x00"
_MEMBERS = frozenset({"key_id", "alg", "value"})


def public_key_bytes(key: SigningKey | Ed25519PublicKey) -> bytes:
    """The public key in its scheme's canonical encoding (32 bytes for Ed25519,
    ``04 || x || y`` for SM2)."""
    return public_key_of(key).raw


def private_key_from_seed(seed: bytes) -> Ed25519PrivateKey:
    """Ed25519 private key from its 32-byte seed (RFC 8032 §5.1.5)."""
    if len(seed) != 32:
        raise MalformedError(f"Ed25519 seed: expected 32 bytes, got {len(seed)}")
    return Ed25519PrivateKey.from_private_bytes(seed)


def key_id(key: bytes | PublicKey | SigningKey | Ed25519PublicKey) -> str:
    """SHA-256 of the public key's canonical encoding, lowercase hex.

    Bare bytes are an Ed25519 public key (the only scheme that has no other spelling).
    """
    if isinstance(key, PublicKey):
        return key.key_id
    if isinstance(key, bytes):
        return public_key(ALG_ED25519, key).key_id
    return public_key_of(key).key_id


def signed_message(digest: bytes) -> bytes:
    """The exact bytes a producer signs for ``digest``."""
    if len(digest) != 32:
        raise MalformedError(f"digest: expected 32 bytes, got {len(digest)}")
    return SIGNATURE_DOMAIN + digest


@dataclass(frozen=True)
class Signature:
    """A producer signature as bundles carry it: ``{key_id, alg, value}`` (value in hex);
    ``alg`` is one of ``SIGNATURE_ALGS`` and the value is 64 bytes for both."""

    key_id: str
    value: bytes
    alg: str = ALG_ED25519

    def to_json(self) -> dict[str, str]:
        return {"key_id": self.key_id, "alg": self.alg, "value": self.value.hex()}

    @classmethod
    def from_json(cls, obj: Any, *, path: str = "signature") -> Signature:
        jsonshape.members(obj, path, _MEMBERS)
        alg = obj["alg"]
        if alg not in SIGNATURE_ALGS:
            raise MalformedError(
                f"alg must be one of {', '.join(SIGNATURE_ALGS)}", path=f"{path}.alg"
            )
        return cls(
            jsonshape.hex_text(obj["key_id"], f"{path}.key_id", size=32),
            jsonshape.hex_bytes(obj["value"], f"{path}.value", size=64),
            alg,
        )


def sign_digest(private_key: SigningKey, digest: bytes) -> Signature:
    """Sign a record digest as its producer (or terminal), under the key's scheme."""
    alg, value = sign_message(private_key, signed_message(digest))
    return Signature(key_id(private_key), value, alg)


def verify_ed25519(public_key: bytes, message: bytes, signature: bytes) -> None:
    """Plain Ed25519 verification (RFC 8032 §5.1.7); raise ``SignatureError`` on failure."""
    public_key_from(public_key).verify(message, signature)


def public_key_from(key: bytes | PublicKey) -> PublicKey:
    """A PublicKey as given, or bare bytes read as an Ed25519 key."""
    return key if isinstance(key, PublicKey) else public_key(ALG_ED25519, key)


def verify_signature(
    public_key: bytes | PublicKey, digest: bytes, signature: Signature | bytes
) -> None:
    """Raise ``SignatureError`` unless ``signature`` is the producer's over ``digest``.

    ``public_key`` is a PublicKey of any scheme, or bare bytes for an Ed25519 key. With a
    ``Signature``, its ``alg`` must be the key's scheme and its key id must name the key.
    """
    key = public_key_from(public_key)
    if isinstance(signature, Signature):
        if signature.alg not in SIGNATURE_ALGS:
            raise MalformedError(f"unsupported signature algorithm {signature.alg!r}")
        if signature.alg != key.scheme:
            raise SignatureError(
                f"the signature is {signature.alg} but the key is {key.scheme}",
                expected=key.scheme,
                computed=signature.alg,
            )
        if signature.key_id != key.key_id:
            raise SignatureError(
                "the signature names another key",
                expected=key.key_id,
                computed=signature.key_id,
            )
        value = signature.value
    else:
        value = signature
    key.verify(signed_message(digest), value)
