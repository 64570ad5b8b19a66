"""A JSON-RPC 2.0 client that sends many calls in one HTTP request.

The verifier reads, per anchor, a header, a proof and a few calls: one HTTP request
carries them all (a JSON-RPC batch, JSON-RPC 2.0 §6), and several anchors share one
request, so a bundle of a few batches costs a few round trips, not one per call as
web3's one-call-at-a-time reads do. Answers are untrusted input: parsed with the strict
parser (bounded size and depth, no duplicate keys), every member checked, every id
matched exactly once.

Every failure is one sentence naming the endpoint, raised as
``EndpointUnavailableError``: "connection refused at URL", "timed out after 10 s at
URL", "HTTP 502 from URL", "eth_getProof failed at URL: <the node's message>".
"""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ledger.core.canonical import parse_json
from ledger.core.errors import MalformedError
from verifier.evm.errors import EndpointUnavailableError

__all__ = ["Call", "RpcEndpoint", "Transport", "http_transport"]

#: A transport posts one JSON body to a URL and returns the answer's bytes.
Transport = Callable[[str, bytes, float, int], bytes]

#: An answer larger than this is refused unread (a batch of 100 storage proofs is < 2 MiB).
DEFAULT_MAX_ANSWER_BYTES = 64 * 1024 * 1024
#: Calls per HTTP request; nodes cap batches (geth: 1,000 calls, 25 MB of answer).
DEFAULT_MAX_BATCH = 100


@dataclass(frozen=True)
class Call:
    """One JSON-RPC call: ``method`` with positional ``params``."""

    method: str
    params: tuple[Any, ...] = ()


def http_transport(url: str, body: bytes, timeout_s: float, max_bytes: int) -> bytes:
    """POST ``body`` to ``url``; the answer's bytes, or one sentence why there is none."""
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "Accept": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            data: bytes = response.read(max_bytes + 1)
    except urllib.error.HTTPError as exc:
        raise EndpointUnavailableError(f"HTTP {exc.code} from {url}", url=url) from None
    except urllib.error.URLError as exc:
        raise _transport_error(exc.reason, url, timeout_s) from None
    except (TimeoutError, OSError) as exc:
        raise _transport_error(exc, url, timeout_s) from None
    if len(data) > max_bytes:
        raise EndpointUnavailableError(
            f"the answer from {url} is larger than {max_bytes:,} bytes", url=url
        )
    return data


def _transport_error(reason: object, url: str, timeout_s: float) -> EndpointUnavailableError:
    if isinstance(reason, ConnectionRefusedError):
        return EndpointUnavailableError(f"connection refused at {url}", url=url)
    if isinstance(reason, TimeoutError | socket.timeout):
        return EndpointUnavailableError(f"timed out after {timeout_s:g} s at {url}", url=url)
    if isinstance(reason, socket.gaierror):
        return EndpointUnavailableError(f"cannot resolve the host of {url}", url=url)
    text = getattr(reason, "strerror", None) or str(reason) or type(reason).__name__
    return EndpointUnavailableError(f"cannot reach {url}: {text}", url=url)


class RpcEndpoint:
    """One JSON-RPC endpoint, read only. ``url`` names it in every message."""

    def __init__(
        self,
        url: str,
        *,
        timeout_s: float = 10.0,
        max_batch: int = DEFAULT_MAX_BATCH,
        max_answer_bytes: int = DEFAULT_MAX_ANSWER_BYTES,
        transport: Transport = http_transport,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise MalformedError(f"{url!r} is not an http(s) URL")
        if max_batch < 1:
            raise MalformedError(f"max_batch must be at least 1, got {max_batch}")
        self.url = url
        self.timeout_s = timeout_s
        self.max_batch = max_batch
        self.max_answer_bytes = max_answer_bytes
        self.transport = transport
        #: HTTP requests sent so far (what the batching saves is counted in these)
        self.requests = 0

    def __repr__(self) -> str:
        return f"RpcEndpoint({self.url!r})"

    def call(self, method: str, *params: Any) -> Any:
        """One call, alone in its request."""
        return self.batch([Call(method, params)])[0]

    def batch(self, calls: Sequence[Call]) -> list[Any]:
        """The results of ``calls``, in order, in as few HTTP requests as ``max_batch``
        allows. A JSON-RPC error object for any call raises (naming the method)."""
        results: list[Any] = []
        for start in range(0, len(calls), self.max_batch):
            results.extend(self._one_request(calls[start : start + self.max_batch]))
        return results

    def _one_request(self, calls: Sequence[Call]) -> list[Any]:
        if not calls:
            return []
        body = json.dumps(
            [
                {"jsonrpc": "2.0", "id": i, "method": c.method, "params": list(c.params)}
                for i, c in enumerate(calls)
            ],
            separators=(",", ":"),
        ).encode("ascii")
        self.requests += 1
        raw = self.transport(self.url, body, self.timeout_s, self.max_answer_bytes)
        try:
            answer = parse_json(raw, max_bytes=self.max_answer_bytes, root="answer")
        except MalformedError as exc:
            raise self._unusable(f"not JSON ({exc.message})") from None
        if isinstance(answer, dict):
            # A node that refuses the whole batch answers with one error object.
            raise self._unusable(f"the batch was refused ({_error_text(answer.get('error'))})")
        if not isinstance(answer, list) or len(answer) != len(calls):
            got = len(answer) if isinstance(answer, list) else type(answer).__name__
            raise self._unusable(f"{len(calls)} answers expected, got {got}")
        by_id: dict[int, dict[str, Any]] = {}
        for i, entry in enumerate(answer):
            entry_id = entry.get("id") if isinstance(entry, dict) else None
            if (
                not isinstance(entry, dict)
                or entry.get("jsonrpc") != "2.0"
                or type(entry_id) is not int
                or not 0 <= entry_id < len(calls)
                or entry_id in by_id
                or ("result" in entry) == ("error" in entry)
            ):
                raise self._unusable(f"answer[{i}] is not a JSON-RPC 2.0 response to this batch")
            by_id[entry_id] = entry
        results = []
        for i, c in enumerate(calls):
            entry = by_id[i]
            if "error" in entry:
                raise EndpointUnavailableError(
                    f"{c.method} failed at {self.url}: {_error_text(entry['error'])}",
                    url=self.url,
                )
            results.append(entry["result"])
        return results

    def _unusable(self, why: str) -> EndpointUnavailableError:
        return EndpointUnavailableError(
            f"the answer from {self.url} is not a JSON-RPC result: {why}", url=self.url
        )


def _error_text(error: object) -> str:
    if isinstance(error, dict):
        message = error.get("message")
        code = error.get("code")
        text = message if isinstance(message, str) and message else "no message"
        return f"{text[:200]} (code {code})" if isinstance(code, int) else text[:200]
    return "no error object"
