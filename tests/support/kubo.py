"""A stand-in for a Kubo (go-ipfs) node's HTTP RPC: the one call we make.

Why a stand-in and not Kubo: Kubo cannot be installed here (its npm and PyPI packages
fetch a binary at install time, and there is no network for that). The stand-in answers
``/api/v0/block/put`` as Kubo documents it (multipart ``file`` part, ``cid-codec``,
``mhtype`` and ``pin`` query parameters, a ``{"Key", "Size"}`` JSON answer) and computes the
CID it answers with the project's CIDv1 code, so it checks our request and the bytes we
send, not Kubo's hashing. It can be stopped and started again on the same port (the node
is down, then back) and told to answer a wrong CID or an HTTP error.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from ledger.core.cid import cid_v1_raw_sha256


def parse_multipart(body: bytes, content_type: str) -> bytes:
    """The content of the ``file`` part of a multipart/form-data body."""
    boundary = content_type.split("boundary=", 1)[1].strip('"').encode()
    for part in body.split(b"--" + boundary):
        if b'name="file"' in part:
            return part.split(b"\r\n\r\n", 1)[1].rsplit(b"\r\n", 1)[0]
    raise AssertionError("no file part")


class StandInKubo:
    """The node's state: the blocks stored, every ``block/put`` received, what to answer."""

    def __init__(self) -> None:
        self.blocks: dict[str, bytes] = {}
        #: (cid answered, bytes received) of every successful put, in order.
        self.puts: list[tuple[str, bytes]] = []
        #: ``status``: answer this HTTP status; ``cid``: answer this CID instead of the right one.
        self.answer: dict[str, Any] = {}
        self.port = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Listen (again) on the same port once one was chosen."""
        node = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                node._handle(self)

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """The node goes down: connections to its port are refused."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        url = urlparse(request.path)
        body = request.rfile.read(int(request.headers["Content-Length"]))
        if self.answer.get("status"):
            request.send_response(self.answer["status"])
            request.end_headers()
            request.wfile.write(b"boom")
            return
        assert url.path == "/api/v0/block/put"
        query = parse_qs(url.query)
        assert query["cid-codec"] == ["raw"] and query["mhtype"] == ["sha2-256"]
        assert query["pin"] == ["true"]
        data = parse_multipart(body, request.headers["Content-Type"])
        cid = self.answer.get("cid") or cid_v1_raw_sha256(data)
        with self._lock:
            self.blocks[cid] = data
            self.puts.append((cid, data))
        payload = json.dumps({"Key": cid, "Size": len(data)}).encode()
        request.send_response(200)
        request.send_header("Content-Type", "application/json")
        request.end_headers()
        request.wfile.write(payload)


@contextmanager
def running_kubo() -> Iterator[StandInKubo]:
    node = StandInKubo()
    node.start()
    try:
        yield node
    finally:
        node.stop()
