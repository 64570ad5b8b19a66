"""Reading and calling the AnchorRegistry the way the anchorer and the checker need it.

Everything here goes through ``Chain.boundary``: web3 exceptions leave as ours. A node
that answers with something that is not JSON-RPC (a proxy's truncated body, an HTML error
page) leaves as ``UnavailableError`` too: a response is untrusted input, and "the node
did not give a usable answer" is retryable.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from eth_utils import to_checksum_address
from hexbytes import HexBytes
from web3.exceptions import TransactionNotFound
from web3.types import TxParams

from anchoring.chain.base import Chain
from anchoring.revert import ContractRevertError
from ledger.core.errors import AnchoringError, UnavailableError


@dataclass(frozen=True)
class OnchainBatch:
    """``AnchorRegistry.getBatch(seq)`` (docs/CONTRACTS.md); digests as lowercase hex, no prefix."""

    seq: int
    root_hex: str
    leaf_count: int
    manifest_digest_hex: str
    block_number: int
    timestamp: int
    log_hash_hex: str


@dataclass(frozen=True)
class OnchainStatus:
    """A status ``AnchorRegistry`` holds for a record digest (``getRevocation`` or
    ``getSupersession``): ``value`` is the reason code or the successor digest (hex)."""

    value: int | str
    detail: str
    block_number: int
    timestamp: int


@dataclass(frozen=True)
class TxReceipt:
    """The parts of a transaction receipt the anchorer acts on."""

    tx_hash: str
    status: int
    block_number: int
    block_hash: str
    gas_used: int


@contextlib.contextmanager
def rpc(chain: Chain, action: str, *, tx_hash_hex: str | None = None) -> Iterator[None]:
    """``chain.boundary`` plus: an unparseable or ill-typed response is ``UnavailableError``."""
    try:
        with chain.boundary(action, tx_hash_hex=tx_hash_hex):
            yield
    except (ValueError, TypeError, KeyError) as exc:
        raise UnavailableError(
            f"{action}: the node's answer could not be used ({type(exc).__name__}: {exc})",
            retry_after_s=5.0,
        ) from exc


class Registry:
    """The AnchorRegistry at ``address`` on ``chain``."""

    def __init__(self, chain: Chain, abi: Sequence[Mapping[str, Any]], address: str) -> None:
        self.chain = chain
        self.address = to_checksum_address(address)
        self.contract = chain.contract(abi, self.address)

    def next_seq(self) -> int:
        with rpc(self.chain, "reading AnchorRegistry.nextSeq"):
            return int(self.contract.functions.nextSeq().call())

    def log_head_hex(self) -> str:
        with rpc(self.chain, "reading AnchorRegistry.logHead"):
            return bytes(self.contract.functions.logHead().call()).hex()

    def get_batch(self, seq: int) -> OnchainBatch | None:
        """Batch ``seq`` as the contract holds it, None when it was never anchored."""
        try:
            with rpc(self.chain, f"reading AnchorRegistry.getBatch({seq})"):
                raw = self.contract.functions.getBatch(seq).call()
        except ContractRevertError as exc:
            if exc.error_name == "AnchorRegistryUnknownBatch":
                return None
            raise
        root, leaf_count, manifest_digest, block, timestamp, log_hash = raw
        return OnchainBatch(
            seq=seq,
            root_hex=bytes(root).hex(),
            leaf_count=int(leaf_count),
            manifest_digest_hex=bytes(manifest_digest).hex(),
            block_number=int(block),
            timestamp=int(timestamp),
            log_hash_hex=bytes(log_hash).hex(),
        )

    def anchor_calldata(
        self, *, seq: int, root: bytes, leaf_count: int, manifest_digest: bytes, cid: str
    ) -> bytes:
        data = self.contract.encode_abi(
            "anchorBatch", args=[seq, root, leaf_count, manifest_digest, cid]
        )
        return bytes(HexBytes(data))

    def revoke_calldata(self, *, digest: bytes, reason_code: int, reason_digest: bytes) -> bytes:
        data = self.contract.encode_abi("revoke", args=[digest, reason_code, reason_digest])
        return bytes(HexBytes(data))

    def supersede_calldata(
        self, *, digest: bytes, successor: bytes, successor_seq: int, proof: list[bytes]
    ) -> bytes:
        data = self.contract.encode_abi(
            "markSuperseded", args=[digest, successor, successor_seq, proof]
        )
        return bytes(HexBytes(data))

    def get_revocation(self, digest: bytes) -> OnchainStatus | None:
        """``getRevocation``: reason code and reason digest (hex), None when not revoked."""
        with rpc(self.chain, f"reading AnchorRegistry.getRevocation(0x{digest.hex()})"):
            code, reason_digest, block, timestamp = self.contract.functions.getRevocation(
                digest
            ).call()
        if int(code) == 0:
            return None
        return OnchainStatus(int(code), bytes(reason_digest).hex(), int(block), int(timestamp))

    def get_supersession(self, digest: bytes) -> OnchainStatus | None:
        """``getSupersession``: successor digest (hex) and its batch, None when not
        superseded."""
        with rpc(self.chain, f"reading AnchorRegistry.getSupersession(0x{digest.hex()})"):
            successor, seq, block, timestamp = self.contract.functions.getSupersession(
                digest
            ).call()
        if bytes(successor) == bytes(32):
            return None
        return OnchainStatus(bytes(successor).hex(), str(int(seq)), int(block), int(timestamp))

    def replay_revert(self, sender: str, calldata: bytes, block_number: int) -> str:
        """Why a mined transaction failed: replay it as a call on the state after its
        block (a mined failure carries no reason) and decode the custom error by selector."""
        call: TxParams = {"from": to_checksum_address(sender), "to": self.address, "data": calldata}
        try:
            with rpc(self.chain, "replaying a failed transaction"):
                self.chain.w3.eth.call(call, block_identifier=block_number)
        except ContractRevertError as exc:
            return exc.message
        except AnchoringError as exc:
            return f"failed, and replaying it did not tell why: {exc.message}"
        return "failed (status 0), but replaying it as a call succeeds: most likely out of gas"


def estimate_gas(registry: Registry, sender: str, calldata: bytes, what: str) -> int:
    """Gas of a registry call; a revert here (no role, wrong seq, already revoked) raises
    ``ContractRevertError`` before anything is signed."""
    with rpc(registry.chain, f"estimating the gas of {what}"):
        return int(
            registry.chain.w3.eth.estimate_gas(
                {"from": to_checksum_address(sender), "to": registry.address, "data": calldata}
            )
        )


def get_receipt(chain: Chain, tx_hash: str) -> TxReceipt | None:
    """The receipt of ``tx_hash``, None while the node knows no mined transaction by it."""
    with rpc(chain, f"reading the receipt of {tx_hash}", tx_hash_hex=tx_hash):
        try:
            raw = chain.w3.eth.get_transaction_receipt(HexBytes(tx_hash))
        except TransactionNotFound:
            return None
        if raw is None or raw.get("blockNumber") is None:
            return None
        return TxReceipt(
            tx_hash=HexBytes(raw["transactionHash"]).to_0x_hex(),
            status=int(raw["status"]),
            block_number=int(raw["blockNumber"]),
            block_hash=HexBytes(raw["blockHash"]).to_0x_hex(),
            gas_used=int(raw["gasUsed"]),
        )


def canonical_block_hash(chain: Chain, number: int) -> str | None:
    """Hash of block ``number`` on the node's canonical chain, None when it has none yet.

    Asked by number, not derived from ``eth_blockNumber``, so a node serving a stale height
    cannot make a canonical block look orphaned.
    """
    with rpc(chain, f"reading block {number}"):
        try:
            block = chain.w3.eth.get_block(number)
        except Exception as exc:  # BlockNotFound and kin: the node is not that high
            if type(exc).__name__ in ("BlockNotFound", "BlockNumberOutOfRange"):
                return None
            raise
        return HexBytes(block["hash"]).to_0x_hex()


def fee_market(chain: Chain) -> tuple[int | None, int]:
    """(base fee of the latest block or None on a chain without EIP-1559, priority fee)."""
    with rpc(chain, "reading the fee market"):
        latest = chain.w3.eth.get_block("latest")
        base_fee = latest.get("baseFeePerGas")
        if base_fee is None:
            return None, int(chain.w3.eth.gas_price)
        try:
            tip = int(chain.w3.eth.max_priority_fee)
        except Exception:  # nodes without eth_maxPriorityFeePerGas
            tip = 10**9
        return int(base_fee), tip


def nonce_of(chain: Chain, address: str, block: Literal["latest", "pending"]) -> int:
    with rpc(chain, f"reading the nonce of {address}"):
        return int(chain.w3.eth.get_transaction_count(to_checksum_address(address), block))


def send_raw(chain: Chain, raw_tx: bytes, tx_hash: str) -> str | None:
    """Broadcast ``raw_tx``; returns None when the node took it, else the node's refusal.

    Refusals that only mean "the node has it, or has settled this nonce already" (already
    known, nonce too low, replacement underpriced) come back as text for the caller to
    resolve by reading the chain; anything unreachable raises ``UnavailableError``.
    """
    try:
        with rpc(chain, f"broadcasting {tx_hash}", tx_hash_hex=tx_hash):
            chain.w3.eth.send_raw_transaction(raw_tx)
    except UnavailableError:
        raise
    except AnchoringError as exc:
        return exc.message
    return None


def find_anchor_event(registry: Registry, seq: int, *, from_block: int) -> TxReceipt | None:
    """The ``BatchAnchored`` event of ``seq`` (transaction and block), None when absent."""
    with rpc(registry.chain, f"reading the BatchAnchored event of batch {seq}"):
        logs = registry.contract.events.BatchAnchored.get_logs(
            from_block=from_block, argument_filters={"seq": seq}
        )
        for entry in logs:
            if int(entry["args"]["seq"]) == seq:
                return TxReceipt(
                    tx_hash=HexBytes(entry["transactionHash"]).to_0x_hex(),
                    status=1,
                    block_number=int(entry["blockNumber"]),
                    block_hash=HexBytes(entry["blockHash"]).to_0x_hex(),
                    gas_used=0,
                )
    return None


def genesis_hash(chain: Chain) -> str:
    """``chain.genesis_hash_hex()`` with an unusable answer mapped to ``UnavailableError``
    (``Chain.boundary`` lets a JSON decoding error of a truncated body through)."""
    with rpc(chain, "reading the genesis block"):
        return chain.genesis_hash_hex()


def block_height(chain: Chain) -> int:
    with rpc(chain, "reading the block height"):
        return chain.block_number()
