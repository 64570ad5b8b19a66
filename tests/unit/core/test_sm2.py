"""SM2 with SM3 (ledger.core.sm2) against the standards' examples and sm-crypto's vectors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes

from ledger.core import sm2
from ledger.core.errors import MalformedError, SignatureError

VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "signature"
SM2_DOC = json.loads((VECTORS / "sm2.json").read_text(encoding="utf-8"))
SM3_DOC = json.loads((VECTORS / "sm3.json").read_text(encoding="utf-8"))
STD = SM2_DOC["standard"]
N = int(SM2_DOC["curve"]["n"], 16)


def _ident(case: dict[str, Any]) -> bytes:
    return case["distinguishing_id"].encode("utf-8")


def test_vectors_have_provenance() -> None:
    for doc in (SM2_DOC, SM3_DOC):
        assert doc["description"] and doc["source"]


@pytest.mark.parametrize("case", [*SM3_DOC["standard"], *SM3_DOC["extra"]], ids=lambda c: c["name"])
def test_sm3_known_answers(case: dict[str, str]) -> None:
    assert sm2.sm3(bytes.fromhex(case["message"])).hex() == case["digest"]


def test_z_a_is_sm3_over_the_documented_concatenation() -> None:
    # GB/T 32918.2 §5.5, assembled here from the vector's curve, not from the module.
    c = SM2_DOC["curve"]
    pub = bytes.fromhex(STD["public_key"])
    ident = _ident(STD)
    data = (
        (8 * len(ident)).to_bytes(2, "big")
        + ident
        + bytes.fromhex(c["a"] + c["b"] + c["gx"] + c["gy"])
        + pub[1:]
    )
    h = hashes.Hash(hashes.SM3())
    h.update(data)
    assert h.finalize().hex() == STD["z_a"] == sm2.z_a(pub, ident).hex()


def test_standard_example() -> None:
    key = sm2.SM2PrivateKey(bytes.fromhex(STD["private_key"]), _ident(STD))
    pub = key.public_key()
    assert pub.hex() == STD["public_key"]
    message = bytes.fromhex(STD["message"])
    assert sm2.message_digest(pub, message, _ident(STD)).hex() == STD["e"]
    sm2.verify_sm2(pub, message, bytes.fromhex(STD["signature"]))
    # The default identifier is the standard's.
    assert _ident(STD) == sm2.DEFAULT_DISTINGUISHING_ID


@pytest.mark.parametrize("case", SM2_DOC["sm_crypto"], ids=lambda c: c["name"])
def test_signatures_made_by_sm_crypto_verify(case: dict[str, str]) -> None:
    key = sm2.SM2PrivateKey(bytes.fromhex(case["private_key"]), _ident(case))
    assert key.public_key().hex() == case["public_key"]
    assert key.public_key(compressed=True).hex() == case["compressed_public_key"]
    message, sig = bytes.fromhex(case["message"]), bytes.fromhex(case["signature"])
    for encoding in ("public_key", "compressed_public_key"):
        pub = bytes.fromhex(case[encoding])
        sm2.verify_sm2(pub, message, sig, distinguishing_id=_ident(case))
    if _ident(case) != sm2.DEFAULT_DISTINGUISHING_ID:
        with pytest.raises(SignatureError):
            sm2.verify_sm2(bytes.fromhex(case["public_key"]), message, sig)


@pytest.mark.parametrize("case", SM2_DOC["negative"], ids=lambda c: c["name"])
def test_negative_vectors_are_refused(case: dict[str, str]) -> None:
    with pytest.raises(SignatureError) as info:
        sm2.verify_sm2(
            bytes.fromhex(case["public_key"]),
            bytes.fromhex(case["message"]),
            bytes.fromhex(case["signature"]),
            distinguishing_id=_ident(case),
        )
    assert info.value.computed == case["signature"]


def test_sign_then_verify_and_the_signature_binds_everything() -> None:
    key = sm2.SM2PrivateKey.generate(b"88.118.8/GW-METER-01")
    other = sm2.SM2PrivateKey.generate(b"88.118.8/GW-METER-01")
    message = b"carbonledger.sig.v1\x00" + bytes(32)
    sig = key.sign(message)
    assert len(sig) == sm2.SIGNATURE_BYTES
    assert key.sign(message) != sig  # a fresh k each time
    ident = key.distinguishing_id
    sm2.verify_sm2(key.public_key(), message, sig, distinguishing_id=ident)
    sm2.verify_sm2(key.public_key(compressed=True), message, sig, distinguishing_id=ident)
    for pub, msg, who in [
        (other.public_key(), message, ident),
        (key.public_key(), message[:-1] + b"\x01", ident),
        (key.public_key(), message, sm2.DEFAULT_DISTINGUISHING_ID),
    ]:
        with pytest.raises(SignatureError):
            sm2.verify_sm2(pub, msg, sig, distinguishing_id=who)
    for i in (0, 31, 32, 63):
        flipped = bytearray(sig)
        flipped[i] ^= 0x01
        with pytest.raises(SignatureError):
            sm2.verify_sm2(key.public_key(), message, bytes(flipped), distinguishing_id=ident)


def test_private_key_range_and_secrecy() -> None:
    for value in (0, N - 1, N, (1 << 256) - 1):
        with pytest.raises(MalformedError, match="1 to n-2"):
            sm2.SM2PrivateKey(value.to_bytes(32, "big"))
    with pytest.raises(MalformedError, match="32 bytes"):
        sm2.SM2PrivateKey(bytes(31) + b"\x01" + b"\x00")
    edge = sm2.SM2PrivateKey((N - 2).to_bytes(32, "big"))
    edge_sig = edge.sign(b"m")
    sm2.verify_sm2(edge.public_key(), b"m", edge_sig)
    assert STD["private_key"] not in repr(sm2.SM2PrivateKey(bytes.fromhex(STD["private_key"])))


def test_distinguishing_identifier_length() -> None:
    pub = bytes.fromhex(STD["public_key"])
    assert len(sm2.z_a(pub, b"x" * sm2.MAX_DISTINGUISHING_ID_BYTES)) == 32
    for bad in (b"", b"x" * (sm2.MAX_DISTINGUISHING_ID_BYTES + 1)):
        with pytest.raises(MalformedError, match="distinguishing identifier"):
            sm2.z_a(pub, bad)
        with pytest.raises(MalformedError, match="distinguishing identifier"):
            sm2.SM2PrivateKey(bytes.fromhex(STD["private_key"]), bad)


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("hybrid_encoding", "06" + STD["public_key"][2:]),
        ("uncompressed_prefix_on_compressed_length", "04" + STD["public_key"][2:66]),
        ("point_off_curve", STD["public_key"][:-2] + "14"),
        ("point_at_infinity", "00"),
        ("bare_coordinates", STD["public_key"][2:]),
        ("x_outside_field", "02" + "ff" * 32),
    ],
)
def test_public_key_encodings_refused(name: str, raw: str) -> None:
    with pytest.raises(MalformedError, match="SM2 public key"):
        sm2.parse_public_key(bytes.fromhex(raw))


def test_public_key_encodings_round_trip() -> None:
    pub = bytes.fromhex(STD["public_key"])
    compressed = sm2.SM2PrivateKey(bytes.fromhex(STD["private_key"])).public_key(compressed=True)
    assert compressed.hex() == "03" + STD["public_key"][2:66]  # y of the example is odd
    assert sm2.parse_public_key(compressed) == pub == sm2.parse_public_key(pub)
