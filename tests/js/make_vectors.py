"""Regenerate tests/vectors/{jcs,commitment,merkle,signature,receipt} from the JS references.

Inputs are fixed below; every expected value is computed by tests/js/reference.mjs
(npm canonicalize, @openzeppelin/merkle-tree, multiformats, node:crypto), never by the
Python code under test. Run from the repository root:

    .venv/bin/python -m tests.js.make_vectors
"""

from __future__ import annotations

import hashlib
import json
import sys
from typing import Any

from tests.js.reference import REPO_ROOT, run_reference

VECTORS = REPO_ROOT / "tests" / "vectors"
SIG_TAG = b"carbonledger.sig.v1\x00"
RECEIPT_TAG = b"carbonledger.receipt.v1\x00"


def _write(rel: str, doc: dict[str, Any]) -> None:
    path = VECTORS / rel
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _salt(record_index: int, pair_index: int) -> str:
    import base64

    raw = hashlib.sha256(f"carbonledger-vector-salt/{record_index}/{pair_index}".encode()).digest()
    return base64.urlsafe_b64encode(raw[:16]).rstrip(b"=").decode()


def _paths(value: Any, path: list[Any], out: list[list[Any]]) -> list[list[Any]]:
    # Only to attach a salt to each path; the JS side flattens on its own and fails on a miss.
    if isinstance(value, dict):
        if not value:
            out.append(path)
        for k in value:
            _paths(value[k], [*path, k], out)
    elif isinstance(value, list):
        if not value:
            out.append(path)
        for i, v in enumerate(value):
            _paths(v, [*path, i], out)
    else:
        out.append(path)
    return out


GENERIC_RECORDS: list[tuple[str, dict[str, Any]]] = [
    ("object_key_zero", {"a": {"0": 1}}),
    ("array_index_zero", {"a": [1]}),
    ("empty_containers", {"empty_object": {}, "empty_array": [], "nested": {"x": [{}]}}),
    (
        "unicode",
        {
            "name": "Ti-HX “42” 😂",
            "ключ": "значение",
            "\u00e9": "NFC e-acute",
            "e\u0301": "NFD e-acute (a different key: JCS does not normalize)",
            "ctl": "tab\tnewline\n\u007f",
        },
    ),
    (
        "carbon_like",
        {
            "type": "carbon-record",
            "schema_version": 1,
            "id": "rec-2026-0001",
            "subject": "88.118.8/TI-HX-0042",
            "issued_at": "2026-01-31T12:00:00Z",
            "producer": "plant-a.example",
            "refs": [{"rel": "factor-set", "id": "fs-cn-2025", "digest": "00" * 32}],
            "body": {
                "lines": [
                    {"activity": "electricity", "amount": "1234.5600", "unit": "kWh"},
                    {"activity": "titanium-sponge", "amount": "0.8500", "unit": "t"},
                ],
                "flags": [True, False, None],
                "count": -9007199254740991,
            },
        },
    ),
]


def make_commitment() -> None:
    records = []
    for r_index, (_, record) in enumerate(GENERIC_RECORDS):
        paths = _paths(record, [], [])
        records.append(
            {"record": record, "salts": [[p, _salt(r_index, i)] for i, p in enumerate(paths)]}
        )
    answers = run_reference({"op": "commitment", "records": records})
    cases = []
    for (name, _), req, ans in zip(GENERIC_RECORDS, records, answers, strict=True):
        cases.append(
            {
                "name": name,
                "record": req["record"],
                "salts": req["salts"],
                "field_hashes": [[f["path"], f["field_hash"]] for f in ans["field_hashes"]],
                "digest": ans["digest"],
            }
        )
    _write(
        "commitment/generic.json",
        {
            "description": "Digest v1 (docs/FORMAT.md §2.2) of generic records under fixed salts: "
            "field hash per path and record digest",
            "source": "computed by tests/js/reference.mjs op=commitment: its own flattening, "
            "npm canonicalize 5.1.0 (RFC 8785 by the RFC's author) and node:crypto SHA-256",
            "cases": cases,
        },
    )


def make_record_types() -> None:
    """One record of each of the seven types (ledger.examples) in schema version 1, and
    one of each type that has a schema version 2, frozen into the vector: the records of an
    earlier generation are read back from it, so a regeneration never drops an older
    schema version (every version ever issued keeps verifying, docs/RECORDS.md §1)."""
    from ledger import examples as ex

    target = VECTORS / "commitment" / "record_types.json"
    frozen: dict[str, dict[str, Any]] = {}
    if target.is_file():
        frozen = {c["name"]: c for c in json.loads(target.read_text())["cases"]}
    records_now = ex.example_records()
    current = {
        **{t: r for t, r in ex.example_of_each_type().items() if r["schema_version"] == "1"},
        "carbon-record/2": records_now[ex.CR_TANK],
        "factor-substitution/2": records_now[ex.SUB_HX_SEA],
        "credit-change/2": records_now[ex.CC_ENTERPRISE_2025],
    }
    examples = sorted({**current, **{n: c["record"] for n, c in frozen.items()}}.items())
    records = []
    for r_index, (name, record) in enumerate(examples, start=100):
        if name in frozen:  # its record and salts as first generated
            records.append({"record": record, "salts": frozen[name]["salts"]})
            continue
        paths = _paths(record, [], [])
        r_index += 100  # salts of their own, apart from the first generation's
        records.append(
            {"record": record, "salts": [[p, _salt(r_index, i)] for i, p in enumerate(paths)]}
        )
    answers = run_reference({"op": "commitment", "records": records})
    cases = [
        {
            "name": rtype,
            "record": req["record"],
            "salts": req["salts"],
            "digest": ans["digest"],
            "field_hash_count": len(ans["field_hashes"]),
        }
        for (rtype, _), req, ans in zip(examples, records, answers, strict=True)
    ]
    _write(
        "commitment/record_types.json",
        {
            "description": "Digest v1 of one example record of each type in schema version 1 "
            "(name: the type) and of each type with a schema version 2 (name: type/2), "
            "frozen copies of ledger.examples at their first generation, under fixed "
            "salts",
            "source": "computed by tests/js/reference.mjs op=commitment: its own flattening, "
            "npm canonicalize 5.1.0 and node:crypto SHA-256",
            "cases": cases,
        },
    )


def _digest(i: int) -> str:
    return hashlib.sha256(f"carbonledger-vector-leaf/{i}".encode()).hexdigest()


def make_merkle() -> None:
    sizes = [1, 2, 3, 4, 5, 7, 8, 9, 16, 33]
    trees = [{"digests": [_digest(i) for i in range(n)]} for n in sizes]
    for t in trees:
        t["prove"] = t["digests"]
    answers = run_reference({"op": "merkle", "trees": trees})
    cases = [
        {"digests": t["digests"], "root": a["root"], "proofs": a["proofs"]}
        for t, a in zip(trees, answers, strict=True)
    ]
    _write(
        "merkle/oz_standard_tree.json",
        {
            "description": 'StandardMerkleTree with leaf encoding ["bytes32"] over record '
            "digests sha256('carbonledger-vector-leaf/<i>'): root and every proof",
            "source": "@openzeppelin/merkle-tree 1.0.8 StandardMerkleTree.of / getProof "
            "via tests/js/reference.mjs op=merkle",
            "cases": cases,
        },
    )
    make_merkle_negative(cases[8])
    manifest = {
        "format": "carbonledger-manifest/1",
        "seq": 1,
        "prev_manifest_digest": "0" * 64,
        "created_at": "2026-01-31T12:05:00Z",
        "leaf_count": 3,
        "leaves": sorted(_digest(i) for i in range(3)),
    }
    (jcs,) = run_reference({"op": "jcs", "texts": [json.dumps(manifest)]})
    (cid,) = run_reference({"op": "cid", "hex": [jcs["canonical"].encode().hex()]})
    _write(
        "merkle/manifest.json",
        {
            "description": "Batch manifest (docs/FORMAT.md §4): JCS bytes, SHA-256 manifest "
            "digest and CIDv1 (raw, sha2-256) of the same bytes",
            "source": "npm canonicalize 5.1.0 + node:crypto for the digest, npm multiformats "
            "14.0.5 CID.create(1, raw.code, sha256.digest(bytes)) for the CID, via "
            "tests/js/reference.mjs",
            "manifest": manifest,
            "canonical": jcs["canonical"],
            "manifest_digest": jcs["sha256"],
            "cid": cid,
        },
    )


def make_merkle_negative(case: dict[str, Any]) -> None:
    """Corruption probes on the 16-leaf reference tree; OZ must refuse every one."""
    digests, root, proofs = case["digests"], case["root"], case["proofs"]
    assert len(digests) == 16
    a, b = digests[0], digests[1]
    pa, pb = proofs[a], proofs[b]
    # The inner node above a's leaf (keccak of the sorted pair, via eth-hash, not our code),
    # presented as if it were a record digest with the rest of a's proof.
    from eth_hash.auto import keccak

    leaf_a = keccak(keccak(bytes.fromhex(a)))
    sibling = bytes.fromhex(pa[0])
    inner = keccak(min(leaf_a, sibling) + max(leaf_a, sibling)).hex()
    probes = [
        ("leaf_presented_as_node", inner, pa[1:]),
        ("proof_for_other_record", a, pb),
        ("swapped_siblings", a, [pa[1], pa[0], *pa[2:]]),
        ("truncated_proof", a, pa[:-1]),
        ("extended_proof", a, [*pa, pa[-1]]),
        ("proof_with_root_appended", a, [*pa, root]),
        ("first_sibling_dropped", a, pa[1:]),
        ("flipped_bit_in_sibling", a, [f"{int(pa[0][:2], 16) ^ 1:02x}" + pa[0][2:], *pa[1:]]),
        ("flipped_bit_in_digest", f"{int(a[:2], 16) ^ 1:02x}" + a[2:], pa),
        ("wrong_root", a, pa, hashlib.sha256(b"other root").hexdigest()),
    ]
    checks = [
        {"digest": d, "proof": p, "root": rest[0] if rest else root} for _, d, p, *rest in probes
    ]
    (answer,) = run_reference({"op": "merkle", "trees": [{"digests": digests, "check": checks}]})
    if any(answer["checks"]):
        sys.exit("OpenZeppelin accepted a corrupted proof")
    _write(
        "merkle/negative.json",
        {
            "description": "Inclusion-proof corruption probes on the 16-leaf tree of "
            "oz_standard_tree.json; every one must be refused (InclusionProofError)",
            "source": "probes hand-derived from the @openzeppelin/merkle-tree 1.0.8 proofs; "
            "StandardMerkleTree.verify returned false for each when generated "
            "(tests/js/make_vectors.py)",
            "cases": [
                {"name": name, **check, "reference_verifies": False}
                for (name, *_), check in zip(probes, checks, strict=True)
            ],
        },
    )


RFC8032 = [
    {
        "name": "RFC 8032 §7.1 TEST 1",
        "seed": "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "public_key": "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "message": "",
        "signature": "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
        "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    },
    {
        "name": "RFC 8032 §7.1 TEST 2",
        "seed": "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "public_key": "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "message": "72",
        "signature": "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
        "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    },
    {
        "name": "RFC 8032 §7.1 TEST 3",
        "seed": "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
        "public_key": "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        "message": "af82",
        "signature": "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
        "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
    },
]


def make_signature() -> None:
    check = run_reference({"op": "ed25519", "items": RFC8032})
    for vec, ans in zip(RFC8032, check, strict=True):
        if (ans["public_key"], ans["signature"]) != (vec["public_key"], vec["signature"]):
            sys.exit(f"node:crypto disagrees with {vec['name']}")
    seed = hashlib.sha256(b"carbonledger-vector-producer-key").hexdigest()
    digests = [_digest(0), _digest(1)]
    items = [{"seed": seed, "message": (SIG_TAG + bytes.fromhex(d)).hex()} for d in digests]
    answers = run_reference({"op": "ed25519", "items": items})
    producer = [
        {
            "seed": seed,
            "public_key": a["public_key"],
            "key_id": hashlib.sha256(bytes.fromhex(a["public_key"])).hexdigest(),
            "digest": d,
            "signed_message": it["message"],
            "signature": a["signature"],
        }
        for d, it, a in zip(digests, items, answers, strict=True)
    ]
    _write(
        "signature/ed25519.json",
        {
            "description": "Ed25519 known answers: RFC 8032 test vectors for the primitive; "
            "producer signatures over 'carbonledger.sig.v1' || 0x00 || digest (docs/FORMAT.md §3)",
            "source": "rfc8032: RFC 8032 §7.1 (also reproduced by node:crypto when generated); "
            "producer: node:crypto sign(null, message, key) via tests/js/reference.mjs; "
            "key_id = SHA-256 of the node-derived public key (Python hashlib)",
            "rfc8032": RFC8032,
            "producer": producer,
        },
    )


def make_receipt() -> None:
    seed = hashlib.sha256(b"carbonledger-vector-service-key").hexdigest()
    (pub,) = run_reference({"op": "ed25519", "items": [{"seed": seed, "message": ""}]})
    body = {
        "format": "carbonledger-receipt/1",
        "record_id": "rec-2026-0001",
        "digest": _digest(0),
        "accepted_at": "2026-01-31T12:00:00Z",
        "anchor_by": "2026-01-31T12:10:00Z",
        "service_key_id": hashlib.sha256(bytes.fromhex(pub["public_key"])).hexdigest(),
    }
    (jcs,) = run_reference({"op": "jcs", "texts": [json.dumps(body)]})
    signed = RECEIPT_TAG + jcs["canonical"].encode()
    (sig,) = run_reference({"op": "ed25519", "items": [{"seed": seed, "message": signed.hex()}]})
    _write(
        "receipt/receipt.json",
        {
            "description": "A receipt (docs/FORMAT.md §5) with a 600 s merge delay: the exact "
            "signed bytes ('carbonledger.receipt.v1' || 0x00 || JCS(body)) and the signature",
            "source": "npm canonicalize 5.1.0 for JCS(body) and node:crypto Ed25519 for the "
            "key and signature, via tests/js/reference.mjs",
            "seed": seed,
            "public_key": pub["public_key"],
            "max_merge_delay_s": 600,
            "body": body,
            "signed_bytes_hex": signed.hex(),
            "signature": sig["signature"],
        },
    )


def make_bundle() -> None:
    """A small valid bundle whose every digest, root, proof and signature is JS-computed."""
    commitment = json.loads((VECTORS / "commitment" / "generic.json").read_text())["cases"]
    digests = [c["digest"] for c in commitment]
    (tree,) = run_reference({"op": "merkle", "trees": [{"digests": digests, "prove": digests}]})
    seed = hashlib.sha256(b"carbonledger-vector-producer-key").hexdigest()
    signs = run_reference(
        {
            "op": "ed25519",
            "items": [
                {"seed": seed, "message": (SIG_TAG + bytes.fromhex(d)).hex()} for d in digests
            ],
        }
    )
    kid = hashlib.sha256(bytes.fromhex(signs[0]["public_key"])).hexdigest()

    def item(i: int, view: dict[str, Any]) -> dict[str, Any]:
        return {
            "view": view,
            "digest": digests[i],
            "signature": {"key_id": kid, "alg": "ed25519", "value": signs[i]["signature"]},
            "batch_seq": 1,
            "proof": tree["proofs"][digests[i]],
        }

    def canonical_order(salts: list[list[Any]]) -> list[list[Any]]:
        # docs/FORMAT.md §2.3: a full view lists its salts in canonical pair order (member
        # names by UTF-16 code units, array indices by number).
        def key(entry: list[Any]) -> list[tuple[int, Any]]:
            return [(0, seg) if isinstance(seg, int) else (1, seg.encode("utf-16-be"))
                    for seg in entry[0]]  # fmt: skip

        return sorted(salts, key=key)

    carbon = commitment[4]
    full = {"kind": "full", "record": carbon["record"], "salts": canonical_order(carbon["salts"])}
    # Redacted view of the "unicode" record: reveal only "name"; the hidden field hashes
    # are the JS-computed ones from the commitment vector.
    uni = commitment[3]
    salt_of = {json.dumps(p): s for p, s in uni["salts"]}
    shown = [["name"]]
    redacted = {
        "kind": "redacted",
        "disclosures": [[salt_of[json.dumps(p)], p, uni["record"][p[0]]] for p in shown],
        "hidden": sorted(h for p, h in uni["field_hashes"] if p not in shown),
    }
    receipt_doc = json.loads((VECTORS / "receipt" / "receipt.json").read_text())
    bundle = {
        "format": "carbonledger-bundle/1",
        "chain": {
            "chain_id": 31337,
            "anchor_registry": "0x5FbDB2315678afecb367f032d93F642f64180aa3",
            "trust_registry": "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
        },
        "items": [item(4, full), item(3, redacted)],
        "batches": {
            "1": {
                "root": tree["root"],
                "manifest_digest": hashlib.sha256(b"manifest placeholder").hexdigest(),
                "leaf_count": len(digests),
                "tx_hash": "0x" + hashlib.sha256(b"tx").hexdigest(),
                "block_number": 7,
                "block_hash": "0x" + hashlib.sha256(b"block").hexdigest(),
            }
        },
        "closure": [
            item(
                0,
                {
                    "kind": "full",
                    "record": commitment[0]["record"],
                    "salts": canonical_order(commitment[0]["salts"]),
                },
            )
        ],
        "receipts": [{**receipt_doc["body"], "signature": receipt_doc["signature"]}],
        "service": {
            "key_id": receipt_doc["body"]["service_key_id"],
            "public_key": receipt_doc["public_key"],
        },
    }
    (jcs,) = run_reference({"op": "jcs", "texts": [json.dumps(bundle)]})
    _write(
        "bundle/valid_bundle.json",
        {
            "description": "A carbonledger-bundle/1 with a full item, a redacted item, a "
            "closure item and a receipt with the service key that signed it; 'canonical' is "
            "its only accepted byte encoding",
            "source": "assembled from the commitment, receipt vectors; Merkle root and proofs "
            "by @openzeppelin/merkle-tree 1.0.8, signatures by node:crypto Ed25519, canonical "
            "bytes by npm canonicalize 5.1.0 (tests/js/make_vectors.py); manifest digest, tx "
            "and block hashes are placeholders (a format vector: nothing here is on a chain)",
            "bundle": bundle,
            "canonical": jcs["canonical"],
        },
    )


def main() -> int:
    make_commitment()
    make_record_types()
    make_merkle()
    make_signature()
    make_receipt()
    make_bundle()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
