"""A small HTTP fault proxy on 127.0.0.1 between a JSON-RPC client and a node (toxiproxy is
not packaged here, so we keep our own).

Modes (switch at any time with ``proxy.mode = ...``):

- ``pass``: forward each request to the upstream node and its answer back;
- ``refuse``: the listening socket is closed, so connections are refused (ECONNREFUSED)
  until another mode is set, which listens again on the same port;
- ``delay``: forward after ``delay_s`` seconds;
- ``http502``: answer ``502 Bad Gateway`` without asking the node;
- ``truncate``: forward, then return only the first half of the node's JSON body;
- ``stale_block``: forward everything except ``eth_blockNumber``, which keeps answering the
  height the node had when the mode was set.

Each connection carries one request (HTTP/1.0 semantics), so a mode change applies to the
very next request. The proxy is bounded: it stops by itself after ``lifetime_s`` (a test
that forgets to stop it cannot leave it running), and ``stop()`` ends it at once.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

MODES = ("pass", "refuse", "delay", "http502", "truncate", "stale_block")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    proxy: FaultProxy


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        proxy = self.server.proxy
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        proxy.requests += 1
        mode = proxy.mode
        if mode == "http502":
            self._answer(502, b"<html>bad gateway</html>", "text/html")
            return
        if mode == "delay":
            time.sleep(proxy.delay_s)
        if mode == "stale_block" and proxy.stale_height is not None:
            try:
                request = json.loads(body)
            except ValueError:
                request = None
            if isinstance(request, dict) and request.get("method") == "eth_blockNumber":
                answer = {"jsonrpc": "2.0", "id": request.get("id"),
                          "result": hex(proxy.stale_height)}  # fmt: skip
                self._answer(200, json.dumps(answer).encode())
                return
        try:
            status, payload = proxy.forward(body)
        except OSError:
            self._answer(502, b"upstream unreachable", "text/plain")
            return
        if mode == "truncate":
            payload = payload[: max(1, len(payload) // 2)]
        self._answer(status, payload)

    def _answer(self, status: int, payload: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Connection", "close")
        self.end_headers()
        with contextlib.suppress(OSError):
            self.wfile.write(payload)


class FaultProxy:
    """``with FaultProxy(upstream_url) as proxy:`` then point the client at ``proxy.url``."""

    def __init__(self, upstream_url: str, *, port: int = 0, lifetime_s: float = 600.0) -> None:
        parts = urlsplit(upstream_url)
        self._upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._mode = "pass"
        self.delay_s = 30.0
        self.stale_height: int | None = None
        self.requests = 0
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.port = port
        self._listen()
        self._timer = threading.Timer(lifetime_s, self.stop)
        self._timer.daemon = True
        self._timer.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def mode(self) -> str:
        return self._mode

    @mode.setter
    def mode(self, value: str) -> None:
        if value not in MODES:
            raise ValueError(f"unknown mode {value!r}; one of {', '.join(MODES)}")
        with self._lock:
            if value == "stale_block":
                self.stale_height = int(self._rpc("eth_blockNumber"), 16)
            if value == "refuse":
                self._close()
            elif self._server is None:
                self._listen()
            self._mode = value

    def forward(self, body: bytes) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection(*self._upstream, timeout=30)
        try:
            conn.request("POST", "/", body=body, headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def _rpc(self, method: str) -> Any:
        request = {"jsonrpc": "2.0", "id": 1, "method": method, "params": []}
        _, payload = self.forward(json.dumps(request).encode())
        return json.loads(payload)["result"]

    def _listen(self) -> None:
        server = _Server(("127.0.0.1", self.port), _Handler)
        server.proxy = self
        self.port = int(server.server_address[1])
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()

    def _close(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()

    def stop(self) -> None:
        with self._lock:
            self._close()
        self._timer.cancel()

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
