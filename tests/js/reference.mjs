// Independent JavaScript computations the Python core is cross-checked against.
//
// Reads one JSON request on stdin, writes one JSON answer on stdout. Uses only the
// reference libraries: @openzeppelin/merkle-tree (StandardMerkleTree), canonicalize
// (RFC 8785 by the RFC's author), multiformats (CID), node:crypto (SHA-256, Ed25519) and
// sm-crypto (SM2 with SM3, SM3).
// Nothing here imports or reuses the Python code's logic: the record flattening below is
// written from docs/FORMAT.md §2.2 on its own.
//
// Usage: node tests/js/reference.mjs < request.json
//   {"op": "merkle", "trees": [{"digests": [hex...], "prove": [hex...],
//                                "check": [{"digest": hex, "proof": [hex...], "root": hex}]}]}
//   {"op": "jcs", "texts": [json text...]}
//   {"op": "commitment", "records": [{"record": {...}, "salts": [[path, salt]...]}]}
//   {"op": "cid", "hex": [bytes as hex...]}
//   {"op": "ed25519", "items": [{"seed": hex, "message": hex}]}
//   {"op": "sm3", "hex": [bytes as hex...]}
//   {"op": "sm2_sign", "items": [{"private_key": hex, "message": hex, "user_id": str?}]}
//   {"op": "sm2_verify", "items": [{"public_key": hex, "message": hex, "signature": hex,
//                                   "user_id": str?}]}
//   {"op": "reading_sign", "items": [{"content": {...}, "private_key": hex, "user_id": str}
//                                    | {"content": {...}, "seed": hex}]}
//   {"op": "reading_verify", "items": [{"content": {...}, "public_key": hex,
//                                      "signature": hex, "user_id": str?}]}

import { createHash, createPrivateKey, createPublicKey, sign, verify } from "node:crypto";
import { createRequire } from "node:module";
import canonicalize from "canonicalize";
import { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import { sha256 } from "multiformats/hashes/sha2";

const require = createRequire(import.meta.url);
const { StandardMerkleTree } = require("@openzeppelin/merkle-tree");
const smCrypto = require("sm-crypto");

const strip = (h) => (h.startsWith("0x") ? h.slice(2) : h);
const sha256hex = (bytes) => createHash("sha256").update(bytes).digest("hex");

function merkle(req) {
  return req.trees.map((t) => {
    const values = t.digests.map((d) => ["0x" + d]);
    const tree = StandardMerkleTree.of(values, ["bytes32"]);
    const proofs = {};
    for (const d of t.prove || []) {
      proofs[d] = tree.getProof(["0x" + d]).map(strip);
    }
    const checks = (t.check || []).map((c) =>
      StandardMerkleTree.verify(
        "0x" + c.root,
        ["bytes32"],
        ["0x" + c.digest],
        c.proof.map((p) => "0x" + p),
      ),
    );
    return { root: strip(tree.root), proofs, checks };
  });
}

function jcs(req) {
  return req.texts.map((text) => {
    const out = canonicalize(JSON.parse(text));
    return { canonical: out, sha256: sha256hex(Buffer.from(out, "utf8")) };
  });
}

// docs/FORMAT.md §2.2, written independently: every scalar with its path (keys as strings,
// indices as numbers); an empty object or array is a pair whose value is {} or [].
function flatten(value, path, out) {
  if (Array.isArray(value)) {
    if (value.length === 0) out.push([path, []]);
    value.forEach((v, i) => flatten(v, [...path, i], out));
  } else if (value !== null && typeof value === "object") {
    const keys = Object.keys(value);
    if (keys.length === 0) out.push([path, {}]);
    for (const k of keys) flatten(value[k], [...path, k], out);
  } else {
    out.push([path, value]);
  }
  return out;
}

function commitment(req) {
  return req.records.map(({ record, salts }) => {
    const saltOf = new Map(salts.map(([p, s]) => [JSON.stringify(p), s]));
    const fieldHashes = flatten(record, [], []).map(([path, value]) => {
      const salt = saltOf.get(JSON.stringify(path));
      if (salt === undefined) throw new Error("no salt for " + JSON.stringify(path));
      const disclosure = canonicalize([salt, path, value]);
      return { path, disclosure, field_hash: sha256hex(Buffer.from(disclosure, "utf8")) };
    });
    const sorted = fieldHashes.map((f) => f.field_hash).sort();
    const body = Buffer.concat([
      Buffer.from("carbonledger.record.v1\u0000", "utf8"),
      Buffer.from(canonicalize(sorted), "utf8"),
    ]);
    return { field_hashes: fieldHashes, digest: sha256hex(body) };
  });
}

async function cid(req) {
  const out = [];
  for (const h of req.hex) {
    const digest = await sha256.digest(Buffer.from(h, "hex"));
    out.push(CID.create(1, raw.code, digest).toString());
  }
  return out;
}

// RFC 8410 §7 PKCS#8 prefix for an Ed25519 seed, so node:crypto takes a raw 32-byte seed.
const PKCS8_ED25519 = Buffer.from("302e020100300506032b657004220420", "hex");

function ed25519(req) {
  return req.items.map(({ seed, message }) => {
    const key = createPrivateKey({
      key: Buffer.concat([PKCS8_ED25519, Buffer.from(seed, "hex")]),
      format: "der",
      type: "pkcs8",
    });
    const pub = createPublicKey(key).export({ format: "der", type: "spki" }).subarray(-32);
    const msg = Buffer.from(message, "hex");
    const signature = sign(null, msg, key);
    return {
      public_key: pub.toString("hex"),
      signature: signature.toString("hex"),
      verifies: verify(null, msg, createPublicKey(key), signature),
    };
  });
}

const bytesOf = (h) => Array.from(Buffer.from(h, "hex"));

function sm3(req) {
  return req.hex.map((h) => smCrypto.sm3(bytesOf(h)));
}

// sm-crypto hashes Z_A || M itself ({hash: true}) with the user id given (its default is
// "1234567812345678") and writes the signature as r || s in hex ({der: false}).
function sm2Sign(req) {
  return req.items.map(({ private_key, message, user_id }) => {
    const publicKey = smCrypto.sm2.getPublicKeyFromPrivateKey(private_key);
    const options = { hash: true, der: false, publicKey };
    if (user_id !== undefined) options.userId = user_id;
    return {
      public_key: publicKey,
      compressed_public_key: smCrypto.sm2.compressPublicKeyHex(publicKey),
      signature: smCrypto.sm2.doSignature(bytesOf(message), private_key, options),
    };
  });
}

function sm2Verify(req) {
  return req.items.map(({ public_key, message, signature, user_id }) => {
    const options = { hash: true, der: false };
    if (user_id !== undefined) options.userId = user_id;
    return smCrypto.sm2.doVerifySignature(bytesOf(message), signature, public_key, options);
  });
}

// A terminal's reading signature (docs/FORMAT.md §3.3): the message is the tag
// "carbonledger.reading.v1", a zero byte and the RFC 8785 form of the reading's content,
// built here from the content object alone. An SM2 key (private_key, user_id) signs with
// sm-crypto, an Ed25519 seed with node:crypto.
const READING_TAG = Buffer.from("carbonledger.reading.v1\u0000", "utf8");
const readingMessage = (content) =>
  Buffer.concat([READING_TAG, Buffer.from(canonicalize(content), "utf8")]).toString("hex");

function readingSign(req) {
  return req.items.map((item) => {
    const message = readingMessage(item.content);
    if (item.seed !== undefined) {
      const [signed] = ed25519({ items: [{ seed: item.seed, message }] });
      return { message, alg: "ed25519", ...signed };
    }
    const [signed] = sm2Sign({ items: [{ ...item, message }] });
    return { message, alg: "sm2-sm3", ...signed };
  });
}

function readingVerify(req) {
  return sm2Verify({
    items: req.items.map((item) => ({ ...item, message: readingMessage(item.content) })),
  });
}

const ops = {
  merkle,
  jcs,
  commitment,
  cid,
  ed25519,
  sm3,
  sm2_sign: sm2Sign,
  sm2_verify: sm2Verify,
  reading_sign: readingSign,
  reading_verify: readingVerify,
};

let input = "";
process.stdin.setEncoding("utf8");
for await (const chunk of process.stdin) input += chunk;
const req = JSON.parse(input);
const result = await ops[req.op](req);
process.stdout.write(JSON.stringify(result));
