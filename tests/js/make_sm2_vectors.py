"""Regenerate tests/vectors/signature/{sm2,sm3}.json.

The standards' examples are written out below as the standards print them. Every other
expected value is computed by npm ``sm-crypto`` through tests/js/reference.mjs, never by the
Python code under test; the script also makes sm-crypto reproduce the standards' values
first and stops if it cannot. Run from the repository root:

    .venv/bin/python -m tests.js.make_sm2_vectors

sm-crypto signs with a random k, so each run writes new (equally valid) signatures.
"""

from __future__ import annotations

import hashlib
import json
import sys
from typing import Any

from tests.js.reference import REPO_ROOT, run_reference

VECTORS = REPO_ROOT / "tests" / "vectors" / "signature"
SIG_TAG = b"carbonledger.sig.v1\x00"
SM_CRYPTO = "npm sm-crypto 0.5.8 (tests/js/reference.mjs)"
N = int("fffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54123", 16)

# GB/T 32918.5-2017 (= GM/T 0003.5-2012): the recommended 256-bit prime-field curve.
CURVE = {
    "p": "fffffffeffffffffffffffffffffffffffffffff00000000ffffffffffffffff",
    "a": "fffffffeffffffffffffffffffffffffffffffff00000000fffffffffffffffc",
    "b": "28e9fa9e9d9f5e344d5a9e4bcf6509a7f39789f515ab8f92ddbcbd414d940e93",
    "gx": "32c4ae2c1f1981195f9904466a39c9948fe30bbff2660be1715a4589334c74c7",
    "gy": "bc3736a2f4f6779c59bdcee36b692153d0a9877cc62a474002df32e52139f0a0",
    "n": "fffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54123",
}

# GB/T 32918.5-2017 Annex A (= GM/T 0003.5-2012 Annex A): the digital-signature example on
# the recommended curve, with the default distinguishing identifier of GM/T 0009-2012 §10.
# (GB/T 32918.2-2016 Annex A signs on another, non-recommended curve, so it is not used.)
STANDARD = {
    "name": "GB/T 32918.5-2017 Annex A signature example",
    "private_key": "3945208f7b2144b13f36e38ac6d39f95889393692860b51a42fb81ef4df7c5b8",
    "public_key": "04"
    "09f9df311e5421a150dd7d161e4bc5c672179fad1833fc076bb08ff356f35020"
    "ccea490ce26775a52dc6ea718cc1aa600aed05fbf35e084a6632f6072da9ad13",
    "distinguishing_id": "1234567812345678",
    "message": b"message digest".hex(),
    "z_a": "b2e14c5c79c6df5b85f4fe7ed8db7a262b9da7e07ccb0ea9f4747b8ccda8a4f3",
    "e": "f0b43e94ba45accaace692ed534382eb17e6ab5a19ce7b31f4486fdfc0d28640",
    "k": "59276e27d506861a16680f3ad9c02dccef3cc1fa3cdbe4ce6d54b80deac1bc21",
    "signature": "f5a03b0648d2c4630eeac513e1bb81a15944da3827d5b74143ac7eaceee720b3"
    "b1b6aa29df212fd8763182bc0d421ca1bb9038fd1f7f42d4840b69c485bbc1aa",
}

# GB/T 32905-2016 Annex A: example 1 ("abc") and example 2 (512 bits, "abcd" x 16).
SM3_STANDARD = [
    {
        "name": "GB/T 32905-2016 Annex A.1 (abc)",
        "message": b"abc".hex(),
        "digest": "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0",
    },
    {
        "name": "GB/T 32905-2016 Annex A.2 (512-bit message)",
        "message": (b"abcd" * 16).hex(),
        "digest": "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732",
    },
]

TERMINAL_IDS = [None, "88.118.8/GW-METER-01", "电表-0042"]


def _write(name: str, doc: dict[str, Any]) -> None:
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    (VECTORS / name).write_text(text, encoding="utf-8")


def _private_key(label: str) -> str:
    value = int.from_bytes(hashlib.sha256(label.encode()).digest(), "big")
    if not 1 <= value <= N - 2:
        sys.exit(f"{label}: not a valid SM2 private key, pick another label")
    return f"{value:064x}"


def _digest(i: int) -> str:
    return hashlib.sha256(f"carbonledger-vector-record/{i}".encode()).hexdigest()


def _sign(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    req = [{k: v for k, v in it.items() if v is not None} for it in items]
    answers: list[dict[str, Any]] = run_reference({"op": "sm2_sign", "items": req})
    checks = run_reference(
        {
            "op": "sm2_verify",
            "items": [
                {**r, "public_key": a["public_key"], "signature": a["signature"]}
                for r, a in zip(req, answers, strict=True)
            ],
        }
    )
    if not all(checks):
        sys.exit("sm-crypto does not verify its own signature")
    return answers


def make_sm3() -> None:
    empty = {"name": "empty message", "message": ""}
    got = run_reference({"op": "sm3", "hex": [v["message"] for v in [*SM3_STANDARD, empty]]})
    for vec, digest in zip(SM3_STANDARD, got, strict=False):
        if digest != vec["digest"]:
            sys.exit(f"sm-crypto disagrees with {vec['name']}")
    _write(
        "sm3.json",
        {
            "description": "SM3 known answers (GB/T 32905-2016)",
            "source": "standard: GB/T 32905-2016 Annex A, examples 1 and 2 (also reproduced by "
            f"{SM_CRYPTO} when generated); extra: {SM_CRYPTO}",
            "standard": SM3_STANDARD,
            "extra": [{**empty, "digest": got[-1]}],
        },
    )


def make_sm2() -> None:
    (ok,) = run_reference(
        {
            "op": "sm2_verify",
            "items": [{k: STANDARD[k] for k in ("public_key", "message", "signature")}],
        }
    )
    (derived,) = run_reference(
        {"op": "sm2_sign", "items": [{"private_key": STANDARD["private_key"], "message": ""}]}
    )
    if not ok or derived["public_key"] != STANDARD["public_key"]:
        sys.exit("sm-crypto disagrees with the GB/T 32918.5 example")

    plain = [
        {
            "private_key": _private_key(f"carbonledger-vector-terminal-key/{i}"),
            "message": f"meter reading {i}".encode().hex(),
            "user_id": uid,
        }
        for i, uid in enumerate(TERMINAL_IDS)
    ]
    signed = _sign(plain)
    sm_crypto = [
        {
            "name": f"sm-crypto signature, {'default' if p['user_id'] is None else 'custom'} id",
            "private_key": p["private_key"],
            "public_key": a["public_key"],
            "compressed_public_key": a["compressed_public_key"],
            "distinguishing_id": p["user_id"] or STANDARD["distinguishing_id"],
            "message": p["message"],
            "signature": a["signature"],
        }
        for p, a in zip(plain, signed, strict=True)
    ]

    key = _private_key("carbonledger-vector-terminal-key/gateway")
    tagged = [
        {"private_key": key, "message": (SIG_TAG + bytes.fromhex(_digest(i))).hex(), "user_id": u}
        for i, u in enumerate([None, "88.118.8/GW-METER-01"])
    ]
    producer = [
        {
            "private_key": key,
            "public_key": a["public_key"],
            "key_id": hashlib.sha256(bytes.fromhex(a["public_key"])).hexdigest(),
            "distinguishing_id": t["user_id"] or STANDARD["distinguishing_id"],
            "digest": _digest(i),
            "signed_message": t["message"],
            "signature": a["signature"],
        }
        for i, (t, a) in enumerate(zip(tagged, _sign(tagged), strict=True))
    ]
    _write(
        "sm2.json",
        {
            "description": "SM2 with SM3 known answers (GB/T 32918.2-2016 on the curve of "
            "GB/T 32918.5-2017): the standard's example, signatures made by sm-crypto, "
            "terminal signatures over 'carbonledger.sig.v1' || 0x00 || digest "
            "(docs/FORMAT.md §3.2), and negative cases named for the attack",
            "source": "curve and standard: GB/T 32918.5-2017, its parameters and Annex A "
            "(verified by "
            f"{SM_CRYPTO} when generated); sm_crypto and producer: signed by {SM_CRYPTO} with "
            "the distinguishing identifier shown, key_id = SHA-256 of sm-crypto's uncompressed "
            "public key (Python hashlib); negative: hand-made from the positive cases as each "
            "case's 'how' says",
            "curve": CURVE,
            "standard": STANDARD,
            "sm_crypto": sm_crypto,
            "producer": producer,
            "negative": _negative(sm_crypto),
        },
    )


def _negative(signed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    std = STANDARD
    sig = std["signature"]
    r, s = int(sig[:64], 16), int(sig[64:], 16)
    other = signed[1]
    parity = "03" if other["compressed_public_key"][:2] == "02" else "02"

    def case(name: str, how: str, **changes: str) -> dict[str, Any]:
        base = {k: std[k] for k in ("public_key", "distinguishing_id", "message", "signature")}
        return {"name": name, "how": how, **base, **changes}

    return [
        case(
            "message_altered",
            "last byte of the message changed",
            message=b"message digesT".hex(),
        ),
        case(
            "signature_under_other_distinguishing_id",
            "the standard's signature presented with another signer identifier",
            distinguishing_id="ALICE123@YAHOO.COM",
        ),
        case(
            "signature_by_other_terminal",
            "the standard's signature presented with another terminal's public key",
            public_key=other["public_key"],
        ),
        case(
            "compressed_key_wrong_parity",
            "another terminal's compressed key with the parity byte flipped (the point -P)",
            public_key=parity + other["compressed_public_key"][2:],
            message=other["message"],
            signature=other["signature"],
            distinguishing_id=other["distinguishing_id"],
        ),
        case(
            "s_negated_like_ecdsa_malleability",
            "s replaced by n - s (a second valid ECDSA signature, never one in SM2)",
            signature=f"{r:064x}{N - s:064x}",
        ),
        case("r_zero", "r = 0, outside [1, n-1]", signature=f"{0:064x}{s:064x}"),
        case("s_equal_n", "s = n, outside [1, n-1]", signature=f"{r:064x}{N:064x}"),
        case(
            "der_encoded_signature",
            "the standard's r and s as a DER SEQUENCE of two INTEGERs (GM/T 0009): 72 bytes",
            signature=_der(r, s),
        ),
    ]


def _der(r: int, s: int) -> str:
    def integer(v: int) -> bytes:
        body = v.to_bytes(32, "big").lstrip(b"\0")
        body = b"\0" + body if body[0] & 0x80 else body
        return b"\x02" + bytes([len(body)]) + body

    seq = integer(r) + integer(s)
    return (b"\x30" + bytes([len(seq)]) + seq).hex()


def main() -> None:
    make_sm3()
    make_sm2()


if __name__ == "__main__":
    main()
