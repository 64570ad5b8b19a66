"""Real servers for the exchange tests: uvicorn on a free port of 127.0.0.1, over TLS with a
throwaway certificate from ``trustme`` or over plain HTTP, in a thread of the test process.

``serve(app, tls=cert)`` yields the base URL and stops the server (by its exit flag, never
by a signal) when the block ends. ``BuyerSystem`` is a PACT data recipient's host: an
OAuth2 token endpoint and an events endpoint that records what it receives and can be
told to fail, so retries and at-least-once delivery are observed from the receiving end.
"""

from __future__ import annotations

import base64
import secrets
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import trustme
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

__all__ = ["BuyerSystem", "Received", "TlsAuthority", "serve"]


@dataclass
class TlsAuthority:
    """A throwaway CA and a server certificate for 127.0.0.1 and localhost."""

    directory: Path
    ca: trustme.CA = field(default_factory=trustme.CA)

    def __post_init__(self) -> None:
        self.cert = self.ca.issue_cert("127.0.0.1", "localhost")
        self.pem = self.directory / "server.pem"
        self.cert.private_key_and_cert_chain_pem.write_to_path(str(self.pem))
        self.ca_pem = self.directory / "ca.pem"
        self.ca.cert_pem.write_to_path(str(self.ca_pem))

    def client_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        self.ca.configure_trust(context)
        return context


@contextmanager
def serve(app: Any, *, tls: TlsAuthority | None) -> Iterator[str]:
    """Serves ``app`` on 127.0.0.1 (port chosen by the OS) until the block ends."""
    options: dict[str, Any] = {}
    if tls is not None:
        options = {"ssl_certfile": str(tls.pem), "ssl_keyfile": str(tls.pem)}
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        log_level="warning",
        lifespan="off",
        timeout_graceful_shutdown=1,
        **options,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    port = next(
        int(sock.getsockname()[1]) for listener in server.servers for sock in listener.sockets
    )
    try:
        yield f"{'https' if tls is not None else 'http'}://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


class BuyerSystem:
    """A buyer's PACT host: ``/auth/token`` for our deliverer, ``/3/events`` to receive."""

    def __init__(self, client_id: str = "carbonledger-owner") -> None:
        self.client_id = client_id
        self.client_secret = secrets.token_urlsafe(24)
        self.tokens: set[str] = set()
        self.received: list[Received] = []
        self.token_requests = 0
        #: Answer the next N event posts with this status instead of 200.
        self.fail_next = 0
        self.fail_status = 503
        self.lock = threading.Lock()
        self.app = Starlette(
            routes=[
                Route("/auth/token", self._token, methods=["POST"]),
                Route("/3/events", self._event, methods=["POST"]),
                Route("/hook", self._event, methods=["POST"]),
            ]
        )

    async def _token(self, request: Request) -> Response:
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        form = parse_qs((await request.body()).decode("ascii"))
        if request.headers.get("authorization") != f"Basic {expected}":
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        if form.get("grant_type") != ["client_credentials"]:
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        token = secrets.token_urlsafe(16)
        with self.lock:
            self.tokens.add(token)
            self.token_requests += 1
        return JSONResponse({"access_token": token, "token_type": "Bearer", "expires_in": 3600})

    async def _event(self, request: Request) -> Response:
        body = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items()}
        with self.lock:
            if request.url.path == "/3/events":
                bearer = headers.get("authorization", "").removeprefix("Bearer ")
                if bearer not in self.tokens:
                    return JSONResponse({"code": "BadRequest"}, status_code=401)
            self.received.append(Received(headers, body))
            if self.fail_next > 0:
                self.fail_next -= 1
                return Response(status_code=self.fail_status)
        return Response(status_code=200)
