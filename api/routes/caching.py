"""HTTP caching of what cannot change (docs/API.md §3.6; RFC 9110 §8.8.3, §13.1.2;
RFC 9111 §5.2.2; RFC 8246 ``immutable``).

Every record, batch and bundle answer carries an ``ETag`` (a strong validator: the SHA-256
of the body), and a request whose ``If-None-Match`` names it gets ``304 Not Modified``
without the body. What is anchored is final (K confirmations, docs/OPERATIONS.md §1): an
anchored record in a given view, an anchored batch, a record's bundle are sent with
``Cache-Control: max-age=31536000, immutable``. What may still change (a record not yet
anchored, a trail or query bundle, which grows as more records are anchored) is
``no-cache``: a cache may keep it but must revalidate. Answers to a caller with a key are
``private`` (they hold full views), to the public ``public``; ``Vary: Authorization``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from fastapi import Request
from starlette.responses import Response

from api.auth import Caller

__all__ = ["IMMUTABLE_MAX_AGE_S", "cached_json", "cached_response"]

IMMUTABLE_MAX_AGE_S = 31_536_000  # one year, RFC 8246 §2


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest() + '"'


def _matches(header: str | None, etag: str) -> bool:
    """``If-None-Match`` names ``etag`` (weak comparison, RFC 9110 §13.1.2)."""
    if header is None:
        return False
    if header.strip() == "*":
        return True
    for candidate in header.split(","):
        tag = candidate.strip()
        if tag.startswith("W/"):
            tag = tag[2:]
        if tag == etag:
            return True
    return False


def cached_response(
    request: Request,
    caller: Caller,
    body: bytes,
    *,
    immutable: bool,
    media_type: str = "application/json",
    headers: Mapping[str, str] | None = None,
) -> Response:
    etag = _etag(body)
    scope = "public" if caller.is_anonymous else "private"
    policy = f"max-age={IMMUTABLE_MAX_AGE_S}, immutable" if immutable else "no-cache"
    out = {
        **(headers or {}),
        "ETag": etag,
        "Cache-Control": f"{scope}, {policy}",
        "Vary": "Authorization",
    }
    if _matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=out)
    return Response(body, media_type=media_type, headers=out)


def cached_json(request: Request, caller: Caller, content: Any, *, immutable: bool) -> Response:
    body = json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return cached_response(request, caller, body, immutable=immutable)
