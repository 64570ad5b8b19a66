"""The signature scheme registry (ledger.core.keys) and the dispatch of verify_signature."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from ledger.core import sm2
from ledger.core.errors import MalformedError, SignatureError
from ledger.core.keys import ALG_ED25519, ALG_SM2_SM3, public_key, public_key_of
from ledger.core.signature import (
    Signature,
    key_id,
    private_key_from_seed,
    sign_digest,
    signed_message,
    verify_signature,
)

VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "signature"
SM2_DOC = json.loads((VECTORS / "sm2.json").read_text(encoding="utf-8"))
ED_DOC = json.loads((VECTORS / "ed25519.json").read_text(encoding="utf-8"))


def _terminal(case: dict[str, Any]) -> sm2.SM2PrivateKey:
    return sm2.SM2PrivateKey(
        bytes.fromhex(case["private_key"]), case["distinguishing_id"].encode("utf-8")
    )


@pytest.mark.parametrize("case", SM2_DOC["producer"], ids=lambda c: c["digest"][:8])
def test_sm2_terminal_signature_vectors(case: dict[str, Any]) -> None:
    key = _terminal(case)
    digest = bytes.fromhex(case["digest"])
    assert signed_message(digest).hex() == case["signed_message"]
    registered = public_key(
        ALG_SM2_SM3,
        bytes.fromhex(case["public_key"]),
        distinguishing_id=case["distinguishing_id"].encode("utf-8"),
    )
    assert registered.key_id == case["key_id"] == key_id(key) == key_id(registered)
    recorded = Signature(case["key_id"], bytes.fromhex(case["signature"]), ALG_SM2_SM3)
    verify_signature(registered, digest, recorded)
    fresh = sign_digest(key, digest)
    assert (fresh.alg, fresh.key_id) == (ALG_SM2_SM3, case["key_id"])
    verify_signature(registered, digest, fresh)
    assert Signature.from_json(recorded.to_json()) == recorded


def test_compressed_input_gives_the_same_key_id() -> None:
    case = SM2_DOC["sm_crypto"][0]
    full = public_key(ALG_SM2_SM3, bytes.fromhex(case["public_key"]))
    short = public_key(ALG_SM2_SM3, bytes.fromhex(case["compressed_public_key"]))
    assert full == short
    assert full.key_id == hashlib.sha256(bytes.fromhex(case["public_key"])).hexdigest()


def test_ed25519_is_unchanged() -> None:
    # Key ids, signed bytes and signatures of the Ed25519 vectors stay byte-identical.
    for case in ED_DOC["producer"]:
        key = private_key_from_seed(bytes.fromhex(case["seed"]))
        pub = public_key_of(key)
        assert (pub.scheme, pub.raw.hex(), pub.key_id) == (
            ALG_ED25519,
            case["public_key"],
            case["key_id"],
        )
        sig = sign_digest(key, bytes.fromhex(case["digest"]))
        assert sig.to_json() == {
            "key_id": case["key_id"],
            "alg": "ed25519",
            "value": case["signature"],
        }
        verify_signature(pub, bytes.fromhex(case["digest"]), sig)


def test_signature_must_be_of_the_key_scheme() -> None:
    digest = hashlib.sha256(b"record").digest()
    terminal = sm2.SM2PrivateKey.generate()
    producer = private_key_from_seed(hashlib.sha256(b"k").digest())
    sm2_sig = sign_digest(terminal, digest)
    ed_sig = sign_digest(producer, digest)
    # An SM2 signature relabelled as Ed25519 under the producer's key id, and the reverse.
    relabelled = Signature(key_id(producer), sm2_sig.value, ALG_ED25519)
    with pytest.raises(SignatureError):
        verify_signature(public_key_of(producer), digest, relabelled)
    with pytest.raises(SignatureError, match="is ed25519 but the key is sm2-sm3"):
        verify_signature(public_key_of(terminal), digest, ed_sig)
    with pytest.raises(SignatureError, match="is sm2-sm3 but the key is ed25519"):
        verify_signature(public_key_of(producer), digest, sm2_sig)
    with pytest.raises(SignatureError, match="names another key"):
        verify_signature(public_key_of(sm2.SM2PrivateKey.generate()), digest, sm2_sig)


def test_terminal_signature_needs_the_domain_tag_and_registered_identifier() -> None:
    digest = hashlib.sha256(b"record").digest()
    terminal = sm2.SM2PrivateKey.generate(b"88.118.8/GW-METER-01")
    bare = terminal.sign(digest)
    with pytest.raises(SignatureError):
        verify_signature(public_key_of(terminal), digest, bare)
    sig = sign_digest(terminal, digest)
    registered_default = public_key(ALG_SM2_SM3, terminal.public_key())
    with pytest.raises(SignatureError):
        verify_signature(registered_default, digest, sig)
    verify_signature(public_key_of(terminal), digest, sig)


@pytest.mark.parametrize(
    ("scheme", "raw", "ident", "match"),
    [
        ("ed25519", bytes(31), None, "expected 32 bytes"),
        ("ed25519", bytes(32), b"x", "no distinguishing identifier"),
        ("sm2-sm3", bytes(32), None, "SM2 public key"),
        ("sm2-sm3", bytes.fromhex(SM2_DOC["standard"]["public_key"]), b"", "identifier"),
        ("ecdsa-p256", bytes(33), None, "unknown signature scheme"),
    ],
)
def test_public_key_errors(scheme: str, raw: bytes, ident: bytes | None, match: str) -> None:
    with pytest.raises(MalformedError, match=match):
        public_key(scheme, raw, distinguishing_id=ident)


def test_signature_json_accepts_only_known_algs() -> None:
    value = "00" * 64
    ok = Signature.from_json({"key_id": "ab" * 32, "alg": "sm2-sm3", "value": value})
    assert ok.alg == ALG_SM2_SM3
    with pytest.raises(MalformedError) as info:
        Signature.from_json({"key_id": "ab" * 32, "alg": "SM2-SM3", "value": value})
    assert info.value.path == "signature.alg"
