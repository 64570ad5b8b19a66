"""The JSON-RPC batch client: one HTTP request for many calls, answers checked like any
untrusted input, and every failure one sentence naming the endpoint. Real sockets on
127.0.0.1 for refusal and silence; an injected transport for malformed answers. Pure:
runs in the verifier's wheel-only venv too."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from verifier.evm.errors import EndpointUnavailableError
from verifier.evm.rpc import Call, RpcEndpoint

pytestmark = pytest.mark.verifier_dist

URL = "http://node.example:8545"


def answering(make: Any) -> Any:
    """A transport whose answer is ``make(request list)``, serialised."""
    sent: list[list[dict[str, Any]]] = []

    def transport(url: str, body: bytes, timeout_s: float, max_bytes: int) -> bytes:
        request = json.loads(body)
        sent.append(request)
        answer = make(request)
        return answer if isinstance(answer, bytes) else json.dumps(answer).encode()

    transport.sent = sent  # type: ignore[attr-defined]
    return transport


def echo(request: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"jsonrpc": "2.0", "id": c["id"], "result": c["method"]} for c in reversed(request)]


def test_many_calls_one_request_results_in_order() -> None:
    transport = answering(echo)
    endpoint = RpcEndpoint(URL, transport=transport)
    calls = [Call(f"m{i}", (i,)) for i in range(5)]
    assert endpoint.batch(calls) == [f"m{i}" for i in range(5)]  # answers came reversed
    assert endpoint.requests == 1 and len(transport.sent[0]) == 5


def test_batches_split_at_max_batch() -> None:
    endpoint = RpcEndpoint(URL, transport=answering(echo), max_batch=2)
    assert len(endpoint.batch([Call("m")] * 5)) == 5
    assert endpoint.requests == 3


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        (b"<html>", "not JSON"),
        (b'{"a":1,"a":2}', "not JSON"),  # duplicate keys: the strict parser
        ({"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "too big"}},
         "the batch was refused (too big (code -32600))"),
        ([], "1 answers expected, got 0"),
        ([{"jsonrpc": "2.0", "id": 7, "result": 1}], "answer[0] is not a JSON-RPC 2.0 response"),
        ([{"jsonrpc": "2.0", "id": 0, "result": 1, "error": {}}], "answer[0] is not"),
        ([{"jsonrpc": "1.0", "id": 0, "result": 1}], "answer[0] is not"),
    ],
)  # fmt: skip
def test_malformed_answers_are_one_sentence(answer: Any, why: str) -> None:
    endpoint = RpcEndpoint(URL, transport=answering(lambda _r: answer))
    with pytest.raises(EndpointUnavailableError) as caught:
        endpoint.call("eth_chainId")
    assert caught.value.message == f"the answer from {URL} is not a JSON-RPC result: {why}" or (
        caught.value.message.startswith(f"the answer from {URL} is not a JSON-RPC result: {why}")
    )
    assert caught.value.url == URL and "\n" not in caught.value.message


def test_error_object_names_the_method() -> None:
    endpoint = RpcEndpoint(
        URL,
        transport=answering(
            lambda r: [{"jsonrpc": "2.0", "id": 0, "error": {"code": -32000, "message": "no"}}]
        ),
    )
    with pytest.raises(EndpointUnavailableError, match=r"^eth_getProof failed at .*: no \(code"):
        endpoint.call("eth_getProof")


def test_not_http_is_refused_before_any_request() -> None:
    from ledger.core.errors import MalformedError

    with pytest.raises(MalformedError, match="not an http"):
        RpcEndpoint("ws://node.example")


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_connection_refused_at_url(closed_port: int) -> None:
    url = f"http://127.0.0.1:{closed_port}"
    with pytest.raises(EndpointUnavailableError) as caught:
        RpcEndpoint(url).call("eth_chainId")
    assert caught.value.message == f"connection refused at {url}"


@pytest.fixture
def silent_server() -> Iterator[str]:
    """Listens and never answers: a connect succeeds, the read waits for ever."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(4)
        yield f"http://127.0.0.1:{s.getsockname()[1]}"


def test_timed_out_after_at_url(silent_server: str) -> None:
    with pytest.raises(EndpointUnavailableError) as caught:
        RpcEndpoint(silent_server, timeout_s=0.2).call("eth_chainId")
    assert caught.value.message == f"timed out after 0.2 s at {silent_server}"
