"""The chain as several untrusted endpoints see it: headers with recomputed hashes that every
endpoint must agree on, and the facts no proof covers compared across all of them.

The first endpoint answers everything (proofs, receipts); every other endpoint is asked,
in one JSON-RPC batch request each, for the same headers, and for the chain id, the head
and the anchoring receipts, which no state proof can establish. Endpoints that give
different answers are not on one chain, so none of them can be believed: that is an
``EndpointDisagreementError`` naming them, a failure of the check that read the fact.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ledger.core.errors import MalformedError
from verifier.evm import hexdata
from verifier.evm.errors import EndpointDisagreementError, EndpointUnavailableError
from verifier.evm.header import BlockHeader, header_from_rpc
from verifier.evm.rpc import Call, RpcEndpoint

__all__ = ["Network", "TransactionReceipt"]


@dataclass(frozen=True)
class TransactionReceipt:
    """What an ``eth_getTransactionReceipt`` answer says: where the transaction landed, its
    status, and its logs as (address, topics)."""

    tx_hash: bytes
    status: int
    to: str | None
    block_number: int
    block_hash: bytes
    logs: tuple[tuple[str, tuple[bytes, ...]], ...]


class Network:
    """Headers, head, chain id and receipts through ``endpoints`` (at least one)."""

    def __init__(self, endpoints: Sequence[RpcEndpoint]) -> None:
        if not endpoints:
            raise ValueError("at least one endpoint")
        self.endpoints = list(endpoints)
        self._headers: dict[int, BlockHeader] = {}

    @property
    def primary(self) -> RpcEndpoint:
        return self.endpoints[0]

    @property
    def requests(self) -> int:
        """HTTP requests sent to every endpoint so far."""
        return sum(e.requests for e in self.endpoints)

    # -- facts no proof covers: every endpoint must say the same ----------------------

    def chain_id(self) -> int:
        """``eth_chainId``, the same from every endpoint."""
        chain_id: int = self._agreed("eth_chainId", (), "the chain id", _quantity)
        return chain_id

    def head(self) -> BlockHeader:
        """The header of the head block every later read is made at: the highest
        ``eth_blockNumber`` any endpoint answers, whose header every endpoint must serve
        alike. An endpoint claiming an earlier head than the others cannot hide the blocks
        after it. When one has no block there yet, the endpoints are compared at the
        lowest head instead: different headers there are a disagreement (not one chain),
        the same ones mean it lags (no usable answer yet: re-run)."""
        heights = {e.url: _quantity(e.call("eth_blockNumber"), e.url) for e in self.endpoints}
        top = max(heights.values())
        try:
            return self.header(top)
        except EndpointUnavailableError as exc:
            lowest = min(heights.values())
            if lowest == top or (exc.url == self.primary.url and heights[exc.url] >= top):
                raise
            self.header(lowest)  # raises when they disagree there
            behind = min(heights, key=heights.__getitem__)
            raise EndpointUnavailableError(
                f"{behind} is at block {heights[behind]}, behind the head {top} another "
                "endpoint reports: re-run when it has caught up",
                url=behind,
            ) from None

    def receipts(self, tx_hashes: Sequence[bytes]) -> dict[bytes, TransactionReceipt | None]:
        """Each transaction's receipt (None: no such transaction), the same from every
        endpoint: one batch request each."""
        calls = [Call("eth_getTransactionReceipt", ("0x" + h.hex(),)) for h in tx_hashes]
        first: dict[bytes, TransactionReceipt | None] = {}
        for endpoint in self.endpoints:
            answers = endpoint.batch(calls)
            for tx_hash, answer in zip(tx_hashes, answers, strict=True):
                receipt = _receipt(tx_hash, answer, endpoint.url)
                if endpoint is self.primary:
                    first[tx_hash] = receipt
                elif receipt != first[tx_hash]:
                    ours, theirs = _show(first[tx_hash]), _show(receipt)
                    raise EndpointDisagreementError(
                        f"the endpoints disagree on transaction 0x{tx_hash.hex()}: "
                        f"{self.primary.url} gives {ours}, {endpoint.url} gives {theirs}: they "
                        "are not on one chain, so none of them can be believed",
                        height=-1,
                        hashes={self.primary.url: ours, endpoint.url: theirs},
                        expected=ours,
                        computed=theirs,
                    )
        return first

    def _agreed(
        self, method: str, params: tuple[Any, ...], what: str, read: Callable[[Any, str], Any]
    ) -> Any:
        values = {e.url: read(e.call(method, *params), e.url) for e in self.endpoints}
        if len(set(values.values())) > 1:
            shown = ", ".join(f"{url} says {v}" for url, v in values.items())
            raise EndpointDisagreementError(
                f"the endpoints disagree on {what}: {shown}",
                height=-1,
                hashes={url: str(v) for url, v in values.items()},
                expected=values[self.primary.url],
                computed=sorted({str(v) for v in values.values()}),
            )
        return values[self.primary.url]

    # -- headers ---------------------------------------------------------------------------

    def header(self, block: int) -> BlockHeader:
        """The header at ``block``, its hash recomputed and compared across the endpoints."""
        return self.headers([block])[block]

    def headers(self, blocks: Iterable[int]) -> dict[int, BlockHeader]:
        """The headers at ``blocks``: those not read yet in one batch request to each
        endpoint, hashes recomputed and compared."""
        wanted = sorted(set(blocks))
        missing = [b for b in wanted if b not in self._headers]
        if missing:
            calls = [Call("eth_getBlockByNumber", (hex(b), False)) for b in missing]
            read = {
                b: header_from_rpc(a, url=self.primary.url, number=b)
                for b, a in zip(missing, self.primary.batch(calls), strict=True)
            }
            self._compare(read)
            self._headers.update(read)
        return {b: self._headers[b] for b in wanted}

    def _compare(self, ours_by_block: dict[int, BlockHeader]) -> None:
        """Every other endpoint's header at each block must hash to the first endpoint's:
        one batch request per endpoint."""
        heights = sorted(ours_by_block)
        for other in self.endpoints[1:]:
            answers = other.batch([Call("eth_getBlockByNumber", (hex(b), False)) for b in heights])
            for block, answer in zip(heights, answers, strict=True):
                theirs = header_from_rpc(answer, url=other.url, number=block)
                ours = ours_by_block[block]
                if theirs.hash != ours.hash:
                    raise EndpointDisagreementError(
                        f"the endpoints disagree on block {block}: {self.primary.url} gives "
                        f"{ours.hash_hex}, {other.url} gives {theirs.hash_hex}: they are not "
                        "on one chain, so none of them can be believed",
                        height=block,
                        hashes={self.primary.url: ours.hash_hex, other.url: theirs.hash_hex},
                        expected=ours.hash_hex,
                        computed=theirs.hash_hex,
                    )


def _quantity(value: object, url: str) -> int:
    try:
        return hexdata.quantity(value, "result")
    except MalformedError as exc:
        raise EndpointUnavailableError(
            f"the answer from {url} is not a JSON-RPC result: {exc.message}", url=url
        ) from None


def _receipt(tx_hash: bytes, answer: Any, url: str) -> TransactionReceipt | None:
    if answer is None:
        return None
    try:
        if not isinstance(answer, dict):
            raise MalformedError("not a JSON object")
        logs = []
        for i, log in enumerate(answer.get("logs") or []):
            if not isinstance(log, dict) or not isinstance(log.get("topics"), list):
                raise MalformedError("not a log", path=f"logs[{i}]")
            topics = tuple(
                hexdata.data(t, f"logs[{i}].topics[{j}]", length=32)
                for j, t in enumerate(log["topics"])
            )
            address = hexdata.data(log.get("address"), f"logs[{i}].address", length=20)
            logs.append(("0x" + address.hex(), topics))
        to = answer.get("to")
        return TransactionReceipt(
            tx_hash=tx_hash,
            status=hexdata.quantity(answer.get("status"), "status"),
            to="0x" + hexdata.data(to, "to", length=20).hex() if to is not None else None,
            block_number=hexdata.quantity(answer.get("blockNumber"), "blockNumber"),
            block_hash=hexdata.data(answer.get("blockHash"), "blockHash", length=32),
            logs=tuple(logs),
        )
    except MalformedError as exc:
        raise EndpointUnavailableError(
            f"malformed receipt of 0x{tx_hash.hex()} from {url}: {exc.message}", url=url
        ) from None


def _show(receipt: TransactionReceipt | None) -> str:
    if receipt is None:
        return "no such transaction"
    return (
        f"status {receipt.status} in block {receipt.block_number} "
        f"(0x{receipt.block_hash.hex()[:16]}…), {len(receipt.logs)} logs"
    )
