"""Producer signatures (ledger.core.signature, docs/FORMAT.md §3)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from ledger.core.errors import MalformedError, SignatureError
from ledger.core.signature import (
    Signature,
    key_id,
    private_key_from_seed,
    public_key_bytes,
    sign_digest,
    signed_message,
    verify_ed25519,
    verify_signature,
)

# Pure: also run in the verifier's wheel-only venv (tests/verifier/test_distribution.py).
pytestmark = pytest.mark.verifier_dist

DOC = json.loads(
    (Path(__file__).resolve().parents[2] / "vectors" / "signature" / "ed25519.json").read_text()
)


def test_vectors_have_provenance() -> None:
    assert DOC["description"] and DOC["source"]


@pytest.mark.parametrize("case", DOC["rfc8032"], ids=lambda c: c["name"])
def test_rfc8032_primitive(case: dict[str, Any]) -> None:
    key = private_key_from_seed(bytes.fromhex(case["seed"]))
    assert public_key_bytes(key).hex() == case["public_key"]
    message = bytes.fromhex(case["message"])
    assert key.sign(message).hex() == case["signature"]
    verify_ed25519(bytes.fromhex(case["public_key"]), message, bytes.fromhex(case["signature"]))


@pytest.mark.parametrize("case", DOC["producer"], ids=lambda c: c["digest"][:8])
def test_producer_signature_vectors(case: dict[str, Any]) -> None:
    key = private_key_from_seed(bytes.fromhex(case["seed"]))
    digest = bytes.fromhex(case["digest"])
    assert signed_message(digest).hex() == case["signed_message"]
    sig = sign_digest(key, digest)
    assert sig.value.hex() == case["signature"]
    assert sig.key_id == case["key_id"] == key_id(bytes.fromhex(case["public_key"]))
    verify_signature(bytes.fromhex(case["public_key"]), digest, sig)
    verify_signature(bytes.fromhex(case["public_key"]), digest, sig.value)


def _signed() -> tuple[bytes, bytes, Signature]:
    key = private_key_from_seed(hashlib.sha256(b"k").digest())
    digest = hashlib.sha256(b"record").digest()
    return public_key_bytes(key), digest, sign_digest(key, digest)


def test_other_digest_other_key_and_flipped_bits_fail() -> None:
    pub, digest, sig = _signed()
    other_pub = public_key_bytes(private_key_from_seed(hashlib.sha256(b"other").digest()))
    with pytest.raises(SignatureError):
        verify_signature(pub, hashlib.sha256(b"other record").digest(), sig)
    with pytest.raises(SignatureError, match="names another key"):
        verify_signature(other_pub, digest, sig)
    with pytest.raises(SignatureError):
        verify_signature(other_pub, digest, sig.value)
    for i in (0, 31, 32, 63):
        flipped = bytearray(sig.value)
        flipped[i] ^= 0x01
        with pytest.raises(SignatureError):
            verify_signature(pub, digest, bytes(flipped))


def test_domain_tag_separates_a_bare_digest_signature() -> None:
    # A signature over the raw digest (no tag) must not pass as a producer signature.
    key = private_key_from_seed(hashlib.sha256(b"k").digest())
    digest = hashlib.sha256(b"record").digest()
    with pytest.raises(SignatureError):
        verify_signature(public_key_bytes(key), digest, key.sign(digest))


def test_signature_json_round_trip_and_errors() -> None:
    _, _, sig = _signed()
    assert Signature.from_json(sig.to_json()) == sig
    cases = [
        ({**sig.to_json(), "alg": "ecdsa"}, "signature.alg"),
        ({**sig.to_json(), "key_id": sig.key_id.upper()}, "signature.key_id"),
        ({**sig.to_json(), "value": sig.to_json()["value"][:-2]}, "signature.value"),
        ({**sig.to_json(), "extra": 1}, "signature"),
    ]
    for obj, path in cases:
        with pytest.raises(MalformedError) as info:
            Signature.from_json(obj)
        assert info.value.path == path
    with pytest.raises(MalformedError, match="expected 64 bytes, got 63"):
        Signature.from_json({**sig.to_json(), "value": sig.to_json()["value"][:-2]})


def test_wrong_lengths_are_malformed() -> None:
    pub, digest, sig = _signed()
    with pytest.raises(MalformedError):
        signed_message(digest[:31])
    with pytest.raises(MalformedError):
        verify_signature(pub[:31], digest, sig.value)
    with pytest.raises(MalformedError):
        private_key_from_seed(b"\x00" * 31)
