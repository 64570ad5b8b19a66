"""The register part of ``carbonledger up --demo`` (docs/DEMO.md): the regulator registers
the demo's enterprises, the rating desk files a C-grade rating so the warning list has an
entry, and the authorised readers ask for the maker's data (``api.demo.register``)."""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from typing import Any

import httpx

from api.demo.register import ACCESS_REQUESTS, CC_WARNED, DEMO_ENTERPRISES, warned_rating
from ledger.client import LedgerClient
from ledger.core.errors import NotFoundError, UnavailableError
from ledger.core.receipt import Receipt

__all__ = ["register_step"]


def register_step(
    api_url: str,
    tokens: Mapping[str, str],
    rating: LedgerClient,
    receipts: Mapping[str, Receipt],
    *,
    regulator: str,
    verify: ssl.SSLContext | None = None,
) -> None:
    """What a regulator and the readers do on the register (docs/DEMO.md): every demo
    enterprise registered with its names and Handle prefixes (``PUT /v1/enterprise``), the
    C-grade rating of the second one (outside the audited bundle), and the readers' access
    requests, one approved by the regulator and one left pending. Each step is skipped
    when an earlier run did it. ``verify``: the TLS trust of the demo's other clients
    (a served self-signed certificate), when the API is served over TLS."""
    digests = {rid: r.digest_hex for rid, r in receipts.items()}
    try:
        rating.get_receipt(CC_WARNED)
    except NotFoundError:
        rating.submit(warned_rating(digests))

    trust: ssl.SSLContext | bool = True if verify is None else verify
    with httpx.Client(base_url=api_url, timeout=30, verify=trust) as http:

        def call(token: str, method: str, path: str, **kwargs: Any) -> Any:
            headers = {"Authorization": f"Bearer {token}"}
            reply = http.request(method, path, headers=headers, **kwargs)
            if reply.status_code not in (200, 201):
                raise UnavailableError(
                    f"{method} {path} answered HTTP {reply.status_code}: {reply.text[:300]}"
                )
            return reply.json()

        for enterprise in DEMO_ENTERPRISES:
            call(
                tokens[regulator], "PUT", "/v1/enterprise",
                params={"id": enterprise.enterprise_id}, json=enterprise.body(),
            )  # fmt: skip
        for wanted in ACCESS_REQUESTS:
            token = tokens[wanted.principal]
            mine = call(token, "GET", "/v1/access-requests")["items"]
            if mine:
                continue
            made = call(token, "POST", "/v1/access-requests", json=wanted.body())
            if wanted.approve:
                call(
                    tokens[regulator], "POST", f"/v1/access-requests/{made['request_id']}/decision",
                    json={"approve": True, "note": "Demo: approved for the stated purpose"},
                )  # fmt: skip
