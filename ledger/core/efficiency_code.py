"""The carbon-efficiency code's payload (docs/RECORDS.md §3.17).

A customer scans the code and lands on the public page of the evaluation; the payload is
that page's URL, and the URL carries the evaluation's record id and digest, so a scan can be
checked offline against an evidence bundle without trusting the page:

    <page base>/efficiency?id=<record id, percent-encoded>&digest=<64 lowercase hex>

:func:`efficiency_code_payload` writes it, :func:`parse_efficiency_code` reads it back
strictly, and :func:`verify_efficiency_code` compares it with a digest the bundle proved.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, urlsplit

from ledger.core.errors import DigestMismatchError, MalformedError
from ledger.core.types.fields import SHA256_HEX_RE, URN_RE

__all__ = [
    "EfficiencyCode",
    "efficiency_code_payload",
    "parse_efficiency_code",
    "verify_efficiency_code",
]

# A QR code of error-correction level M holds 2,331 bytes; a payload stays well under it so
# that the code stays easy to scan.
MAX_PAYLOAD_CHARS = 512
_PAGE_PATH = "/efficiency"
_BASE_RE = re.compile(r"^https?://[A-Za-z0-9.:\[\]-]+(/[A-Za-z0-9._~/-]*)?$")


@dataclass(frozen=True)
class EfficiencyCode:
    """What a scanned code says: the page it opens, the evaluation and its digest."""

    page_url: str
    record_id: str
    digest_hex: str


def efficiency_code_payload(page_base: str, record_id: str, digest_hex: str) -> str:
    """The payload of the code of evaluation ``record_id`` whose digest is ``digest_hex``;
    ``page_base`` is the public pages' base URL (``https://ledger.example.com``)."""
    if not _BASE_RE.fullmatch(page_base) or page_base.endswith("/"):
        raise MalformedError(
            f"expected an http(s) base URL without a trailing '/', got {page_base!r}",
            path="page_base",
        )
    if not URN_RE.fullmatch(record_id):
        raise MalformedError(f"expected a record id (URN), got {record_id!r}", path="record_id")
    if not SHA256_HEX_RE.fullmatch(digest_hex):
        raise MalformedError("expected 64 lowercase hex digits", path="digest")
    payload = f"{page_base}{_PAGE_PATH}?id={quote(record_id, safe=':')}&digest={digest_hex}"
    if len(payload) > MAX_PAYLOAD_CHARS:
        raise MalformedError(
            f"the payload would have {len(payload)} characters, at most "
            f"{MAX_PAYLOAD_CHARS} fit a code that scans well"
        )
    return payload


def parse_efficiency_code(payload: str) -> EfficiencyCode:
    """Read a scanned payload; refuse anything but the one form
    :func:`efficiency_code_payload` writes."""
    if not isinstance(payload, str) or len(payload) > MAX_PAYLOAD_CHARS:
        raise MalformedError(f"expected a code payload of at most {MAX_PAYLOAD_CHARS} characters")
    parts = urlsplit(payload)
    base = f"{parts.scheme}://{parts.netloc}{parts.path[: -len(_PAGE_PATH)]}"
    if not parts.path.endswith(_PAGE_PATH) or parts.fragment or not _BASE_RE.fullmatch(base):
        raise MalformedError(f"not a carbon-efficiency code: {payload!r}")
    try:
        pairs = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise MalformedError(f"not a carbon-efficiency code: {payload!r}") from None
    if [k for k, _ in pairs] != ["id", "digest"]:
        raise MalformedError("expected exactly the query 'id=…&digest=…'", path="query")
    record_id, digest_hex = pairs[0][1], pairs[1][1]
    code = EfficiencyCode(f"{base}{_PAGE_PATH}?{parts.query}", record_id, digest_hex)
    if efficiency_code_payload(base, record_id, digest_hex) != payload:
        raise MalformedError(f"not the canonical form of a carbon-efficiency code: {payload!r}")
    return code


def verify_efficiency_code(code: EfficiencyCode, record_id: str, digest_hex: str) -> None:
    """The code names this evaluation with this digest (the one a bundle proved), else
    ``DigestMismatchError``."""
    if code.record_id != record_id:
        raise MalformedError(f"the code names {code.record_id}, not {record_id}", path="id")
    if code.digest_hex != digest_hex:
        raise DigestMismatchError(
            f"the code's digest differs from the digest of {record_id}",
            expected=code.digest_hex,
            computed=digest_hex,
        )
