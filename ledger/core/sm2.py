"""SM2 signatures with SM3, as a collection terminal signs (docs/FORMAT.md §3.2).

SM2 is the elliptic-curve signature of GB/T 32918.2-2016 on the recommended 256-bit curve
of GB/T 32918.5-2017; SM3 is the hash of GB/T 32905-2016. The signer's distinguishing
identifier ID_A is bound into every signature through

    Z_A = SM3(ENTL_A || ID_A || a || b || x_G || y_G || x_A || y_A)
    e   = SM3(Z_A || M)

(ENTL_A: the bit length of ID_A as two big-endian bytes; a, b, x_G, y_G: the curve;
x_A, y_A: the signer's public key, each 32 bytes big-endian). This module computes Z_A and
e exactly as written above, with SM3 from OpenSSL (through ``cryptography``); the curve
arithmetic that signs and verifies e is gmalglib's (C). Either half is cross-checked in the
tests against the other library and against npm ``sm-crypto``.

Encodings used by carbonledger:

- private key: 32 bytes, big-endian, in [1, n-2] (GB/T 32918.2 §6.1);
- public key: SEC 1 §2.3.3 octet strings, ``04 || x || y`` (65 bytes, the canonical form
  key ids are computed from) or compressed ``02``/``03 || x`` (33 bytes, accepted on input);
- signature: ``r || s``, each 32 bytes big-endian (64 bytes), never DER.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes
from gmalglib import sm2 as _curve

from ledger.core.errors import MalformedError, SignatureError

__all__ = [
    "COMPRESSED_KEY_BYTES",
    "DEFAULT_DISTINGUISHING_ID",
    "MAX_DISTINGUISHING_ID_BYTES",
    "SIGNATURE_BYTES",
    "UNCOMPRESSED_KEY_BYTES",
    "SM2PrivateKey",
    "SM2PublicKey",
    "message_digest",
    "parse_public_key",
    "sm3",
    "verify_sm2",
    "z_a",
]

# GM/T 0009-2012 §10: the identifier used when the parties agree on no other.
DEFAULT_DISTINGUISHING_ID = b"1234567812345678"
# ENTL_A is two bytes counting bits (GB/T 32918.2 §5.5), so ID_A holds at most 8191 bytes.
MAX_DISTINGUISHING_ID_BYTES = 8191
PRIVATE_KEY_BYTES = 32
UNCOMPRESSED_KEY_BYTES = 65
COMPRESSED_KEY_BYTES = 33
SIGNATURE_BYTES = 64

_CURVE_PARAMS = (
    _curve.SM2_PARAMS_A + _curve.SM2_PARAMS_B + _curve.SM2_PARAMS_G[0] + _curve.SM2_PARAMS_G[1]
)


def sm3(data: bytes) -> bytes:
    """SM3 (GB/T 32905-2016) of ``data``: 32 bytes."""
    h = hashes.Hash(hashes.SM3())
    h.update(data)
    return h.finalize()


def _check_distinguishing_id(distinguishing_id: bytes) -> bytes:
    if not isinstance(distinguishing_id, bytes):
        raise MalformedError("SM2 distinguishing identifier: expected bytes")
    if not 1 <= len(distinguishing_id) <= MAX_DISTINGUISHING_ID_BYTES:
        raise MalformedError(
            f"SM2 distinguishing identifier: expected 1 to {MAX_DISTINGUISHING_ID_BYTES} bytes, "
            f"got {len(distinguishing_id)}"
        )
    return distinguishing_id


def parse_public_key(raw: bytes) -> bytes:
    """Check an SM2 public key and return its uncompressed form ``04 || x || y``.

    Accepts the uncompressed (65 bytes) and compressed (33 bytes) SEC 1 encodings of a
    point on the curve; refuses the hybrid ``06``/``07`` form, the point at infinity and
    anything off the curve.
    """
    if not isinstance(raw, bytes):
        raise MalformedError("SM2 public key: expected bytes")
    uncompressed = len(raw) == UNCOMPRESSED_KEY_BYTES and raw[0] == 0x04
    compressed = len(raw) == COMPRESSED_KEY_BYTES and raw[0] in (0x02, 0x03)
    if not (uncompressed or compressed):
        raise MalformedError(
            f"SM2 public key: expected 65 bytes starting 04 or 33 bytes starting 02 or 03, "
            f"got {len(raw)} bytes starting {raw[:1].hex() or 'with nothing'}"
        )
    if not _curve.SM2.is_pk_valid(raw):
        raise MalformedError("SM2 public key: not a point on the SM2 curve")
    point: bytes = _curve.SM2.convert_pk(raw, _curve.SM2_PCMODE_RAW)
    return point


def z_a(public_key: bytes, distinguishing_id: bytes = DEFAULT_DISTINGUISHING_ID) -> bytes:
    """Z_A of GB/T 32918.2 §5.5 for the key and the signer's distinguishing identifier."""
    point = parse_public_key(public_key)
    ident = _check_distinguishing_id(distinguishing_id)
    entl = (8 * len(ident)).to_bytes(2, "big")
    return sm3(entl + ident + _CURVE_PARAMS + point[1:])


def message_digest(
    public_key: bytes, message: bytes, distinguishing_id: bytes = DEFAULT_DISTINGUISHING_ID
) -> bytes:
    """e = SM3(Z_A || M), the value SM2 signs (GB/T 32918.2 §6.1 steps A1-A2)."""
    return sm3(z_a(public_key, distinguishing_id) + message)


@dataclass(frozen=True)
class SM2PrivateKey:
    """A terminal's SM2 private key with the distinguishing identifier it signs under."""

    secret: bytes = field(repr=False)
    distinguishing_id: bytes = DEFAULT_DISTINGUISHING_ID
    _signer: _curve.SM2 = field(init=False, repr=False, compare=False)
    _z_a: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.secret, bytes) or len(self.secret) != PRIVATE_KEY_BYTES:
            raise MalformedError("SM2 private key: expected 32 bytes")
        # GB/T 32918.2 §6.1: d_A in [1, n-2], so that (1 + d_A) is invertible mod n.
        if not _curve.SM2.is_sk_valid(self.secret):
            raise MalformedError("SM2 private key: expected an integer from 1 to n-2")
        _check_distinguishing_id(self.distinguishing_id)
        object.__setattr__(self, "_signer", _curve.SM2(sk=self.secret))
        object.__setattr__(self, "_z_a", z_a(self.public_key(), self.distinguishing_id))

    @classmethod
    def generate(cls, distinguishing_id: bytes = DEFAULT_DISTINGUISHING_ID) -> SM2PrivateKey:
        """A new key from the operating system's random source."""
        secret, _ = _curve.SM2().generate_keypair()
        return cls(secret, distinguishing_id)

    def public_key(self, *, compressed: bool = False) -> bytes:
        mode = _curve.SM2_PCMODE_COMPRESS if compressed else _curve.SM2_PCMODE_RAW
        public: bytes = _curve.SM2.get_pk(self.secret, mode)
        return public

    def sign(self, message: bytes) -> bytes:
        """SM2 signature ``r || s`` of ``message`` with a fresh random k (§6.1)."""
        signature: bytes = self._signer.sign_digest(sm3(self._z_a + message))
        return signature


@dataclass(frozen=True)
class SM2PublicKey:
    """A terminal's public key with the distinguishing identifier it signs under, ready to
    verify many signatures: the point is checked and Z_A computed once, not per signature."""

    public_key: bytes
    distinguishing_id: bytes = DEFAULT_DISTINGUISHING_ID
    _point: bytes = field(init=False, repr=False, compare=False)
    _z_a: bytes = field(init=False, repr=False, compare=False)
    _verifier: _curve.SM2 = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        point = parse_public_key(self.public_key)
        object.__setattr__(self, "_point", point)
        object.__setattr__(self, "_z_a", z_a(point, self.distinguishing_id))
        object.__setattr__(self, "_verifier", _curve.SM2(pk=point))

    def verify(self, message: bytes, signature: bytes) -> None:
        """SM2 verification (GB/T 32918.2 §7.1); raise ``SignatureError`` on failure.

        r and s must lie in [1, n-1]; the key id in the evidence is SHA-256 of ``04 || x || y``.
        """
        e = sm3(self._z_a + message)
        if len(signature) != SIGNATURE_BYTES or not self._verifier.verify_digest(e, signature):
            raise SignatureError(
                "the SM2 signature does not verify under the stated key and distinguishing "
                "identifier",
                expected=hashlib.sha256(self._point).hexdigest(),
                computed=signature.hex(),
            )


def verify_sm2(
    public_key: bytes,
    message: bytes,
    signature: bytes,
    *,
    distinguishing_id: bytes = DEFAULT_DISTINGUISHING_ID,
) -> None:
    """SM2 verification of one signature (see :class:`SM2PublicKey` for many)."""
    SM2PublicKey(public_key, distinguishing_id).verify(message, signature)
