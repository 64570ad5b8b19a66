"""ASGI middleware of the app, outermost first (``api.app.create_app`` installs them).

- ``ClientAddressMiddleware``: who the client is. The peer of the connection, unless that
  peer is one of the operator's ``trusted_proxies``; only then does ``X-Forwarded-For``
  (and ``X-Forwarded-Proto``) count, read from the right, skipping trusted hops. Without
  trusted proxies the header is ignored, whoever sends it: the login throttle counts real
  peers (docs/PAGES.md §2.1).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["ClientAddressMiddleware", "parse_trusted_proxies"]

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
