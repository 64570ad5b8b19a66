"""A lying JSON-RPC proxy on 127.0.0.1 in front of a real node, for the verifier's
"no single RPC is trusted" tests.

It forwards every request (single or batch) to the upstream node and rewrites, by
configuration, the results of chosen methods before answering: ``proxy.lie(method, fn)``
makes every later ``method`` result pass through ``fn(params, result) -> result``.
Nothing else is changed, so whatever the verifier catches, it catches from the lie alone.
``proxy.calls`` counts the calls per method, ``proxy.requests`` the HTTP requests.

Bounded like tests/support/faultproxy.py: it stops by itself after ``lifetime_s``.
"""

from __future__ import annotations

import contextlib
import json
import threading
import urllib.request
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Lie = Callable[[list[Any], Any], Any]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    proxy: LyingProxy


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        proxy = self.server.proxy
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        proxy.requests += 1
        request = urllib.request.Request(
            proxy.upstream, data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            answer = json.loads(response.read())
        sent = json.loads(body)
        if isinstance(sent, list) and isinstance(answer, list):
            by_id = {call.get("id"): call for call in sent}
            answer = [proxy.rewrite(by_id.get(entry.get("id"), {}), entry) for entry in answer]
        elif isinstance(sent, dict) and isinstance(answer, dict):
            answer = proxy.rewrite(sent, answer)
        payload = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(payload)


class LyingProxy:
    def __init__(self, upstream: str, *, lifetime_s: float = 300.0) -> None:
        self.upstream = upstream
        self.lies: dict[str, Lie] = {}
        self.calls: Counter[str] = Counter()
        self.requests = 0
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.proxy = self
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._timer = threading.Timer(lifetime_s, self.stop)
        self._timer.daemon = True

    def __enter__(self) -> LyingProxy:
        self._thread.start()
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._timer.cancel()
        with contextlib.suppress(Exception):
            self._server.shutdown()
            self._server.server_close()

    def lie(self, method: str, fn: Lie) -> None:
        self.lies[method] = fn

    def truth(self) -> None:
        self.lies.clear()

    def rewrite(self, call: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any]:
        method = call.get("method", "")
        self.calls[method] += 1
        fn = self.lies.get(method)
        if fn is None or "result" not in entry:
            return entry
        return {**entry, "result": fn(call.get("params") or [], entry["result"])}
