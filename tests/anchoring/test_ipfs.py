"""Publishing manifests to Kubo's RPC.

Kubo cannot be installed here (its npm and PyPI packages fetch a binary at install
time), so these tests run our client against a small stand-in that implements the
one call we make, ``/api/v0/block/put`` as Kubo documents it (multipart ``file``,
``cid-codec``/``mhtype``/``pin`` query parameters, ``{"Key", "Size"}`` answer).
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from anchoring.ipfs import MAX_BLOCK_BYTES, KuboPublisher
from ledger.core.cid import cid_v1_raw_sha256
from ledger.core.errors import AnchoringError, UnavailableError


def _parse_multipart(body: bytes, content_type: str) -> bytes:
    boundary = content_type.split("boundary=", 1)[1].strip('"').encode()
    for part in body.split(b"--" + boundary):
        if b'name="file"' in part:
            return part.split(b"\r\n\r\n", 1)[1].rsplit(b"\r\n", 1)[0]
    raise AssertionError("no file part")


class _StandIn(BaseHTTPRequestHandler):
    blocks: dict[str, bytes]
    answer: dict[str, Any]

    def do_POST(self) -> None:
        url = urlparse(self.path)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.answer.get("status"):
            self.send_response(self.answer["status"])
            self.end_headers()
            self.wfile.write(b"boom")
            return
        assert url.path == "/api/v0/block/put"
        query = parse_qs(url.query)
        assert query["cid-codec"] == ["raw"] and query["mhtype"] == ["sha2-256"]
        assert query["pin"] == ["true"]
        data = _parse_multipart(body, self.headers["Content-Type"])
        cid = self.answer.get("cid") or cid_v1_raw_sha256(data)
        self.blocks[cid] = data
        payload = json.dumps({"Key": cid, "Size": len(data)}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def kubo() -> Iterator[tuple[str, type[_StandIn]]]:
    handler = type("Handler", (_StandIn,), {"blocks": {}, "answer": {}})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()


def test_publish_stores_the_exact_bytes_under_our_cid(kubo: tuple[str, Any]) -> None:
    url, handler = kubo
    manifest = b'{"format":"carbonledger-manifest/1","leaf_count":1}'
    cid = KuboPublisher(url).publish(manifest, expected_cid=cid_v1_raw_sha256(manifest))
    assert cid == cid_v1_raw_sha256(manifest)
    assert handler.blocks[cid] == manifest


def test_a_different_cid_from_the_node_is_refused(kubo: tuple[str, Any]) -> None:
    url, handler = kubo
    handler.answer["cid"] = cid_v1_raw_sha256(b"something else")
    with pytest.raises(AnchoringError, match="expected"):
        KuboPublisher(url).publish(b"{}", expected_cid=cid_v1_raw_sha256(b"{}"))


def test_server_error_is_unavailable(kubo: tuple[str, Any]) -> None:
    url, handler = kubo
    handler.answer["status"] = 503
    with pytest.raises(UnavailableError):
        KuboPublisher(url).publish(b"{}", expected_cid=cid_v1_raw_sha256(b"{}"))


def test_unreachable_node_is_unavailable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(UnavailableError, match="did not answer"):
        KuboPublisher(f"http://127.0.0.1:{port}", timeout_s=2).publish(
            b"{}", expected_cid=cid_v1_raw_sha256(b"{}")
        )


def test_oversized_manifest_is_refused_before_sending() -> None:
    big = b"x" * (MAX_BLOCK_BYTES + 1)
    with pytest.raises(AnchoringError, match="block limit"):
        KuboPublisher("http://127.0.0.1:9").publish(big, expected_cid=cid_v1_raw_sha256(big))
