"""ASGI middleware of the app, outermost first (``api.app.create_app`` installs them).

- ``ClientAddressMiddleware``: who the client is. The peer of the connection, unless that
  peer is one of the operator's ``trusted_proxies``; only then does ``X-Forwarded-For``
  (and ``X-Forwarded-Proto``) count, read from the right, skipping trusted hops. Without
  trusted proxies the header is ignored, whoever sends it: the login throttle counts real
  peers (docs/PAGES.md §2.1).
- ``ObservabilityMiddleware``: the request id, the access log and the request metrics.
- ``api.app.BodyLimitMiddleware``: the body limit (413) and the last-resort 500.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import secrets
import time
from collections.abc import Callable, Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.logs import ACCESS_LOGGER, REQUEST_ID
from api.metrics import ServiceMetrics

__all__ = ["ClientAddressMiddleware", "ObservabilityMiddleware", "parse_trusted_proxies"]

_access = logging.getLogger(ACCESS_LOGGER)
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_trusted_proxies(text: str) -> tuple[IPNetwork, ...]:
    """``"10.0.0.1, 10.1.0.0/16"`` → networks; ``ValueError`` naming a bad entry."""
    networks: list[IPNetwork] = []
    for part in text.split(","):
        entry = part.strip()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(f"{entry!r} is not an IP address or network") from None
    return tuple(networks)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


class ClientAddressMiddleware:
    """Sets ``scope["client"]`` (and ``scheme``) from a trusted proxy's headers only."""

    def __init__(self, app: ASGIApp, *, trusted: Sequence[IPNetwork]) -> None:
        self.app = app
        self.trusted = tuple(trusted)

    def _is_trusted(self, text: str) -> bool:
        address = _address(text)
        return address is not None and any(address in net for net in self.trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        if scope["type"] != "http" or not self.trusted or not client:
            await self.app(scope, receive, send)
            return
        if not self._is_trusted(str(client[0])):
            await self.app(scope, receive, send)
            return
        forwarded: list[str] = []
        proto: str | None = None
        for name, value in scope.get("headers", ()):
            if name == b"x-forwarded-for":
                forwarded += [p.strip() for p in value.decode("latin-1").split(",") if p.strip()]
            elif name == b"x-forwarded-proto":
                proto = value.decode("latin-1").split(",")[-1].strip().lower()
        real = str(client[0])
        # From the right: each hop was appended by the one before it; the first address a
        # trusted proxy did not add itself is the client's. A malformed entry stops the walk.
        for hop in reversed(forwarded):
            if _address(hop) is None:
                break
            real = hop.strip().strip("[]")
            if not self._is_trusted(real):
                break
        scope = dict(scope, client=(real, 0))
        if proto in ("http", "https"):
            scope["scheme"] = proto
        await self.app(scope, receive, send)


class ObservabilityMiddleware:
    """Per request: a request id, the access log line, and the request metrics.

    The request id is the client's ``X-Request-Id`` when it is a short token of letters,
    digits, ``.``, ``_`` and ``-`` (a proxy's id, so its logs and ours line up), else 16
    random hex characters. It is returned as ``X-Request-Id``, set for every log record
    of the request (``api.logs.REQUEST_ID``) and is the ``correlation_id`` of a 500. The
    access log line is logged at INFO by ``carbonledger.access`` after the response is
    sent: method, path (without the query string, which may name records), route
    template, status, duration, size and client address.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: ServiceMetrics,
        route_of: Callable[[Scope], str] = lambda scope: "unmatched",
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.route_of = route_of

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope) or secrets.token_hex(8)
        token = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        status, size = 500, 0

        async def send_observed(message: Message) -> None:
            nonlocal status, size
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = [*message.get("headers", ()), (b"x-request-id", request_id.encode())]
                message = {**message, "headers": headers}
            elif message["type"] == "http.response.body":
                size += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, send_observed)
        finally:
            seconds = time.perf_counter() - started
            route = self.route_of(scope)
            method = str(scope.get("method", ""))
            self.metrics.observe_request(method, route, status, seconds)
            client = scope.get("client")
            _access.info(
                "%s %s %d",
                method,
                scope.get("path", ""),
                status,
                extra={
                    "method": method,
                    "path": scope.get("path", ""),
                    "route": route,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 3),
                    "bytes": size,
                    "client": client[0] if client else None,
                    "request_id": request_id,
                },
            )
            REQUEST_ID.reset(token)


def _request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            text = bytes(value).decode("latin-1")
            return text if _REQUEST_ID.fullmatch(text) else None
    return None
