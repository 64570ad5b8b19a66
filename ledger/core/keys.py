"""Signature schemes and public keys (docs/FORMAT.md §3).

Every producer or terminal key has a scheme, and the scheme fixes the key's canonical byte
encoding, its key id (SHA-256 of that encoding, lowercase hex: the value the TrustRegistry
registers) and how a signature is checked:

| scheme     | public key encoding                          | signature                       |
|------------|----------------------------------------------|---------------------------------|
| ``ed25519``| 32 bytes (RFC 8032 §5.1.5)                   | 64 bytes (RFC 8032 §5.1.6)      |
| ``sm2-sm3``| 65 bytes ``04 || x || y`` (compressed input  | 64 bytes ``r || s`` over SM3 of |
|            | is accepted and expanded)                    | Z_A || M (``ledger.core.sm2``)  |

An ``sm2-sm3`` key also carries the signer's distinguishing identifier, registered with
the key (default ``1234567812345678``), because every signature is bound to it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ledger.core import sm2
from ledger.core.errors import MalformedError, SignatureError

__all__ = [
    "ALG_ED25519",
    "ALG_SM2_SM3",
    "SIGNATURE_ALGS",
    "PublicKey",
    "SigningKey",
    "public_key",
    "public_key_of",
    "sign_message",
]

ALG_ED25519 = "ed25519"
ALG_SM2_SM3 = "sm2-sm3"
SIGNATURE_ALGS = (ALG_ED25519, ALG_SM2_SM3)
ED25519_KEY_BYTES = 32

SigningKey = Ed25519PrivateKey | sm2.SM2PrivateKey


@dataclass(frozen=True)
class PublicKey:
    """A public key in its scheme's canonical encoding; build it with :func:`public_key`."""

    scheme: str
    raw: bytes
    distinguishing_id: bytes | None = None

    @property
    def key_id(self) -> str:
        """SHA-256 of the canonical encoding, lowercase hex."""
        return hashlib.sha256(self.raw).hexdigest()

    @cached_property
    def _sm2(self) -> sm2.SM2PublicKey:
        # The point check and Z_A once per key object, not once per signature.
        ident = self.distinguishing_id or sm2.DEFAULT_DISTINGUISHING_ID
        return sm2.SM2PublicKey(self.raw, ident)

    def verify(self, message: bytes, signature: bytes) -> None:
        """Raise ``SignatureError`` unless ``signature`` signs ``message`` under this key."""
        if self.scheme == ALG_SM2_SM3:
            self._sm2.verify(message, signature)
            return
        if self.scheme != ALG_ED25519:
            raise MalformedError(f"unknown signature scheme {self.scheme!r}")
        try:
            Ed25519PublicKey.from_public_bytes(self.raw).verify(signature, message)
        except (InvalidSignature, ValueError):
            raise SignatureError(
                "the Ed25519 signature does not verify under the stated key",
                expected=self.key_id,
                computed=signature.hex(),
            ) from None


def public_key(scheme: str, raw: bytes, *, distinguishing_id: bytes | None = None) -> PublicKey:
    """Check ``raw`` as a key of ``scheme`` and return it in canonical encoding."""
    if scheme == ALG_ED25519:
        if len(raw) != ED25519_KEY_BYTES:
            raise MalformedError(f"Ed25519 public key: expected 32 bytes, got {len(raw)}")
        if distinguishing_id is not None:
            raise MalformedError("an Ed25519 key has no distinguishing identifier")
        return PublicKey(ALG_ED25519, raw)
    if scheme == ALG_SM2_SM3:
        ident = sm2.DEFAULT_DISTINGUISHING_ID if distinguishing_id is None else distinguishing_id
        point = sm2.parse_public_key(raw)
        # z_a checks the identifier's length, so a bad one fails here and not at verification.
        sm2.z_a(point, ident)
        return PublicKey(ALG_SM2_SM3, point, ident)
    raise MalformedError(f"unknown signature scheme {scheme!r}; known: {', '.join(SIGNATURE_ALGS)}")


def public_key_of(key: SigningKey | Ed25519PublicKey) -> PublicKey:
    """The public half of a private key (or an Ed25519 public key object) as a PublicKey."""
    if isinstance(key, sm2.SM2PrivateKey):
        return PublicKey(ALG_SM2_SM3, key.public_key(), key.distinguishing_id)
    pub = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return PublicKey(ALG_ED25519, pub.public_bytes(Encoding.Raw, PublicFormat.Raw))


def sign_message(key: SigningKey, message: bytes) -> tuple[str, bytes]:
    """Sign ``message`` under the key's scheme; returns ``(alg, signature)``."""
    if isinstance(key, sm2.SM2PrivateKey):
        return ALG_SM2_SM3, key.sign(message)
    return ALG_ED25519, key.sign(message)
