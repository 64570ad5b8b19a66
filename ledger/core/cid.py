"""CIDv1 for raw bytes hashed with sha2-256, as IPFS names them.

Layout (multiformats CID spec, "CIDv1"): varint(version=1) || varint(codec=raw 0x55) ||
multihash, where multihash = varint(sha2-256 0x12) || varint(32) || digest. All three
codes are below 0x80, so each varint is one byte. The string form is multibase base32
(RFC 4648 §6, lowercase, no padding) with the prefix ``b``.
"""

from __future__ import annotations

import base64
import hashlib

from ledger.core.errors import MalformedError

__all__ = ["cid_v1_raw_sha256", "digest_from_cid"]

_PREFIX = bytes([0x01, 0x55, 0x12, 0x20])


def cid_v1_raw_sha256(data: bytes) -> str:
    """The CIDv1 string (``bafkrei...``) of ``data`` under the raw codec and sha2-256."""
    raw = _PREFIX + hashlib.sha256(data).digest()
    return "b" + base64.b32encode(raw).decode("ascii").rstrip("=").lower()


def digest_from_cid(cid: str) -> bytes:
    """The sha2-256 digest inside a CIDv1 raw string; refuse anything else."""
    if not isinstance(cid, str) or not cid.startswith("b") or cid != cid.lower():
        raise MalformedError("expected a base32 CIDv1 string starting with 'b'")
    body = cid[1:].upper()
    try:
        raw = base64.b32decode(body + "=" * (-len(body) % 8))
    except (ValueError, TypeError):
        raise MalformedError("CID is not valid base32") from None
    if len(raw) != 36 or raw[:4] != _PREFIX:
        raise MalformedError("not a CIDv1 with the raw codec and a sha2-256 multihash")
    if "b" + base64.b32encode(raw).decode().rstrip("=").lower() != cid:
        raise MalformedError("CID is not in canonical base32 form")
    return raw[4:]
