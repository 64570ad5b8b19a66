"""Cross-check SM2/SM3 against npm ``sm-crypto`` run through node, in both directions.

Signed here, verified there; signed there, verified here; each with the default and with
custom distinguishing identifiers (so both sides build the same Z_A), for plain messages and
for terminal signatures over ``carbonledger.sig.v1`` || 0x00 || digest.
"""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

import pytest

from ledger.core import sm2
from ledger.core.errors import SignatureError
from ledger.core.keys import ALG_SM2_SM3, public_key
from ledger.core.signature import sign_digest, signed_message, verify_signature
from tests.js.reference import run_reference

pytestmark = pytest.mark.node

NEGATIVE = json.loads(
    (Path(__file__).resolve().parents[2] / "vectors" / "signature" / "sm2.json").read_text(
        encoding="utf-8"
    )
)["negative"]
IDS = [None, "88.118.8/GW-METER-01", "1.2.156.3001.1", "电表-0042", "x" * 300]


def _ident(uid: str | None) -> bytes:
    return sm2.DEFAULT_DISTINGUISHING_ID if uid is None else uid.encode("utf-8")


def _messages(rng: random.Random) -> list[bytes]:
    sizes = [0, 1, 52, 55, 56, 63, 64, 65, 119, 1000]
    return [rng.randbytes(n) for n in sizes]


def _with_uid(item: dict[str, str], uid: str | None) -> dict[str, str]:
    return item if uid is None else {**item, "user_id": uid}


def test_sm3_agrees_on_block_boundaries() -> None:
    messages = _messages(random.Random(32905))
    answers = run_reference({"op": "sm3", "hex": [m.hex() for m in messages]})
    assert answers == [sm2.sm3(m).hex() for m in messages]


def test_signed_here_verified_there() -> None:
    rng = random.Random(32918)
    items, expected = [], []
    for uid in IDS:
        key = sm2.SM2PrivateKey.generate(_ident(uid))
        for message in _messages(rng)[:4]:
            sig = key.sign(message)
            for pub in (key.public_key(), key.public_key(compressed=True)):
                item = {"public_key": pub.hex(), "message": message.hex(), "signature": sig.hex()}
                items.append(_with_uid(item, uid))
                expected.append(True)
            # Same signature, another identifier: Z_A differs, so sm-crypto must refuse it.
            wrong = "someone-else" if uid is not None else "88.118.8/GW-METER-01"
            items.append({**items[-1], "user_id": wrong})
            expected.append(False)
    assert run_reference({"op": "sm2_verify", "items": items}) == expected


def test_signed_there_verified_here() -> None:
    rng = random.Random(5)
    items = []
    for uid in IDS:
        secret = sm2.SM2PrivateKey.generate().secret.hex()
        for message in _messages(rng)[:3]:
            items.append(_with_uid({"private_key": secret, "message": message.hex()}, uid))
    answers = run_reference({"op": "sm2_sign", "items": items})
    for item, answer in zip(items, answers, strict=True):
        ident = _ident(item.get("user_id"))
        key = sm2.SM2PrivateKey(bytes.fromhex(item["private_key"]), ident)
        assert answer["public_key"] == key.public_key().hex()
        assert answer["compressed_public_key"] == key.public_key(compressed=True).hex()
        message, sig = bytes.fromhex(item["message"]), bytes.fromhex(answer["signature"])
        sm2.verify_sm2(key.public_key(), message, sig, distinguishing_id=ident)
        with pytest.raises(SignatureError):
            sm2.verify_sm2(key.public_key(), message, sig, distinguishing_id=ident + b"-")


def test_terminal_signatures_over_record_digests_both_ways() -> None:
    key = sm2.SM2PrivateKey.generate(b"88.118.8/GW-METER-01")
    registered = public_key(
        ALG_SM2_SM3, key.public_key(), distinguishing_id=b"88.118.8/GW-METER-01"
    )
    digests = [hashlib.sha256(f"reading {i}".encode()).digest() for i in range(3)]
    ours = [sign_digest(key, d) for d in digests]
    assert all(s.alg == ALG_SM2_SM3 and s.key_id == registered.key_id for s in ours)
    there = run_reference(
        {
            "op": "sm2_verify",
            "items": [
                {
                    "public_key": registered.raw.hex(),
                    "message": signed_message(d).hex(),
                    "signature": s.value.hex(),
                    "user_id": "88.118.8/GW-METER-01",
                }
                for d, s in zip(digests, ours, strict=True)
            ],
        }
    )
    assert there == [True] * len(digests)
    theirs = run_reference(
        {
            "op": "sm2_sign",
            "items": [
                {
                    "private_key": key.secret.hex(),
                    "message": signed_message(d).hex(),
                    "user_id": "88.118.8/GW-METER-01",
                }
                for d in digests
            ],
        }
    )
    for d, answer in zip(digests, theirs, strict=True):
        verify_signature(registered, d, bytes.fromhex(answer["signature"]))
        with pytest.raises(SignatureError):
            verify_signature(
                registered, hashlib.sha256(d).digest(), bytes.fromhex(answer["signature"])
            )


def test_negative_vectors_are_refused_there_too() -> None:
    items = [
        {
            "public_key": c["public_key"],
            "message": c["message"],
            "signature": c["signature"],
            "user_id": c["distinguishing_id"],
        }
        for c in NEGATIVE
    ]
    assert run_reference({"op": "sm2_verify", "items": items}) == [False] * len(NEGATIVE)
