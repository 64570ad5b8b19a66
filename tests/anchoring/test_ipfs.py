"""Publishing manifests to Kubo's RPC, against the stand-in node of tests/support/kubo.py
(its docstring says why a stand-in: Kubo cannot be installed here)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from anchoring.ipfs import MAX_BLOCK_BYTES, KuboPublisher
from ledger.core.cid import cid_v1_raw_sha256
from ledger.core.errors import AnchoringError, UnavailableError
from tests.support.kubo import StandInKubo, running_kubo


@pytest.fixture
def kubo() -> Iterator[tuple[str, StandInKubo]]:
    with running_kubo() as node:
        yield node.url, node


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
