"""One interface over every chain the service anchors on (docs/OPERATIONS.md §6).

Providers only move bytes (as in web3.py): a ``Chain`` builds each
transaction itself, signs it locally with the operator's key and sends the raw
bytes, so the same code path runs on py-evm, anvil and a consortium node that
holds no keys. Every web3 exception is caught here, at the chain boundary, and
re-raised as ours: ``UnavailableError`` when the node cannot be reached,
``ContractRevertError`` (decoded by selector) when a contract reverts,
``AnchoringError`` for anything else.
"""

from __future__ import annotations

import abc
import contextlib
import json
import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, cast

from eth_utils import to_checksum_address
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import (
    ContractLogicError,
    ProviderConnectionError,
    TimeExhausted,
    TransactionNotFound,
    Web3Exception,
    Web3RPCError,
)
from web3.types import TxParams

from anchoring.chain.types import (
    ABI,
    ArtifactLike,
    ChainIdMismatchError,
    ChainSetupError,
    SignedTx,
)
from anchoring.revert import ContractRevertError, decode_revert
from ledger.core.errors import AnchoringError, LedgerError, UnavailableError

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount
    from web3.contract import Contract
    from web3.types import TxReceipt

log = logging.getLogger(__name__)

__all__ = [
    "ABI",
    "ArtifactLike",
    "Chain",
    "ChainIdMismatchError",
    "ChainSetupError",
    "SignedTx",
    "revert_data_of",
]


def revert_data_of(exc: ContractLogicError) -> bytes:
    """The raw revert bytes web3 attached to a ContractLogicError (hex str or dict)."""
    data: Any = exc.data
    if isinstance(data, dict):
        data = data.get("data") or next(iter(data.values()), "")
    if isinstance(data, bytes | bytearray):
        return bytes(data)
    if isinstance(data, str):
        with contextlib.suppress(ValueError):
            return bytes(HexBytes(data))
    return b""


class Chain(abc.ABC):  # noqa: B024 - never instantiated itself; no hook is mandatory
    """A connection to one EVM chain with an operator signer.

    Subclasses set ``kind`` and call ``super().__init__`` with a connected Web3.
    """

    kind: ClassVar[str] = ""
    # Extra exception types a backend raises outside web3's hierarchy (eth-tester's).
    backend_errors: ClassVar[tuple[type[BaseException], ...]] = ()

    def __init__(
        self,
        *,
        w3: Web3,
        signer: LocalAccount,
        rpc_url: str | None,
        confirmations: int = 1,
        receipt_timeout_s: float = 120.0,
        poll_interval_s: float = 0.1,
    ) -> None:
        if confirmations < 1:
            raise AnchoringError(f"confirmations must be at least 1, got {confirmations}")
        self.w3 = w3
        self.signer = signer
        self.rpc_url = rpc_url
        self.confirmations = confirmations
        self.receipt_timeout_s = receipt_timeout_s
        self.poll_interval_s = poll_interval_s
        self._abis: list[ABI] = []
        with self.boundary("reading the chain id"):
            self.chain_id: int = int(self.w3.eth.chain_id)

    # -- error boundary -------------------------------------------------------

    def _where(self) -> str:
        return f"the {self.kind} chain" + (f" at {self.rpc_url}" if self.rpc_url else "")

    @contextlib.contextmanager
    def boundary(self, action: str, *, tx_hash_hex: str | None = None) -> Iterator[None]:
        """Re-raise anything web3 or the backend throws as one of our errors."""
        try:
            yield
        except LedgerError:
            raise
        except ContractLogicError as exc:
            raise decode_revert(revert_data_of(exc), self._abis, tx_hash_hex=tx_hash_hex) from exc
        except (ProviderConnectionError, TimeExhausted, OSError) as exc:
            raise UnavailableError(
                f"{action}: {self._where()} did not answer ({type(exc).__name__}: {exc}); "
                "check that the node is running and reachable",
                retry_after_s=5.0,
            ) from exc
        except json.JSONDecodeError as exc:
            # A truncated or garbled reply (a proxy cut it, the node crashed mid-answer):
            # the node is untrusted input, and a retry may well get a whole answer.
            raise UnavailableError(
                f"{action}: {self._where()} answered with malformed JSON ({exc})",
                retry_after_s=5.0,
            ) from exc
        except Web3RPCError as exc:
            raise AnchoringError(f"{action}: {self._where()} refused: {exc.message}") from exc
        except Web3Exception as exc:
            raise AnchoringError(f"{action} on {self._where()} failed: {exc}") from exc
        except self.backend_errors as exc:
            data = self.backend_revert_data(exc)
            if data is not None:
                raise decode_revert(data, self._abis, tx_hash_hex=tx_hash_hex) from exc
            raise AnchoringError(f"{action} on {self._where()} failed: {exc}") from exc

    def backend_revert_data(self, exc: BaseException) -> bytes | None:
        """Revert data inside a backend-specific exception, None when it is not a revert."""
        return None

    # -- reading --------------------------------------------------------------

    def genesis_hash_hex(self) -> str:
        """``0x`` hash of block 0: it changes when a dev chain is reset."""
        with self.boundary("reading the genesis block"):
            return self.w3.eth.get_block(0)["hash"].to_0x_hex()

    def block_number(self) -> int:
        with self.boundary("reading the block height"):
            return int(self.w3.eth.block_number)

    def block_hash_hex(self, number: int) -> str | None:
        """``0x`` hash of block ``number``, or None when the chain is not that high."""
        with self.boundary(f"reading block {number}"):
            if number > self.w3.eth.block_number:
                return None
            return self.w3.eth.get_block(number)["hash"].to_0x_hex()

    def get_code(self, address: str) -> bytes:
        with self.boundary(f"reading the code at {address}"):
            return bytes(self.w3.eth.get_code(to_checksum_address(address)))

    def balance_wei(self, address: str) -> int:
        with self.boundary(f"reading the balance of {address}"):
            return int(self.w3.eth.get_balance(to_checksum_address(address)))

    def contract(self, artifact_or_abi: ArtifactLike | ABI, address: str) -> Contract:
        """A web3 contract bound to ``address``; its errors become decodable."""
        abi = artifact_or_abi if isinstance(artifact_or_abi, Sequence) else artifact_or_abi.abi
        self.register_abi(abi)
        return self.w3.eth.contract(address=to_checksum_address(address), abi=list(abi))

    def register_abi(self, abi: ABI) -> None:
        if not any(abi is known for known in self._abis):
            self._abis.append(abi)

    def call(self, fn: Any, *, block_identifier: int | str = "latest") -> Any:
        """Call a view function; a revert raises ContractRevertError."""
        with self.boundary(f"calling {getattr(fn, 'fn_name', 'a function')}"):
            return fn.call(block_identifier=block_identifier)

    # -- writing --------------------------------------------------------------

    def _fee_fields(self) -> dict[str, int]:
        """EIP-1559 fees when the chain has a base fee, a legacy gas price otherwise
        (a Besu/QBFT network with free gas has neither a base fee nor a market)."""
        latest = self.w3.eth.get_block("latest")
        base_fee = latest.get("baseFeePerGas")
        if base_fee is None:
            return {"gasPrice": int(self.w3.eth.gas_price)}
        tolerated: tuple[type[BaseException], ...] = (Web3Exception, *self.backend_errors)
        try:
            tip = int(self.w3.eth.max_priority_fee)
        except tolerated:
            tip = 10**9
        return {"maxFeePerGas": 2 * int(base_fee) + tip, "maxPriorityFeePerGas": tip}

    def sign(
        self,
        fn: Any,
        *,
        sender: LocalAccount | None = None,
        gas: int | None = None,
        value_wei: int = 0,
        nonce: int | None = None,
    ) -> SignedTx:
        """Build and sign a contract call locally, sending nothing.

        ``fn`` is a web3 ContractFunction or ContractConstructor. Without ``gas``
        the gas is estimated (a revert during estimation raises ContractRevertError
        before anything is signed) plus 20 % headroom. The raw bytes can be stored
        and re-broadcast unchanged after a crash.
        """
        sender = sender or self.signer
        name = getattr(fn, "fn_name", None) or "a contract transaction"
        with self.boundary(f"preparing {name}"):
            tx = self._base_tx(sender, value_wei=value_wei, nonce=nonce)
            if gas is None:
                estimate = int(fn.estimate_gas({"from": sender.address, "value": value_wei}))
                gas = estimate + estimate // 5
            tx["gas"] = gas
            return self._sign(dict(fn.build_transaction(tx)), sender, name)

    def sign_value_transfer(
        self, to: str, value_wei: int, *, sender: LocalAccount | None = None
    ) -> SignedTx:
        sender = sender or self.signer
        with self.boundary(f"preparing a transfer to {to}"):
            tx = self._base_tx(sender, value_wei=value_wei, nonce=None)
            tx.update(to=to_checksum_address(to), gas=21_000)
            return self._sign(tx, sender, "a value transfer")

    def _base_tx(
        self, sender: LocalAccount, *, value_wei: int, nonce: int | None
    ) -> dict[str, Any]:
        if nonce is None:
            nonce = self.w3.eth.get_transaction_count(sender.address, "pending")
        return {
            "from": sender.address,
            "chainId": self.chain_id,
            "value": value_wei,
            "nonce": nonce,
            **self._fee_fields(),
        }

    @staticmethod
    def _sign(tx: dict[str, Any], sender: LocalAccount, what: str) -> SignedTx:
        signed = sender.sign_transaction(tx)
        return SignedTx(
            raw=bytes(signed.raw_transaction),
            tx_hash_hex=HexBytes(signed.hash).to_0x_hex(),
            sender=sender.address,
            nonce=int(tx["nonce"]),
            fields=tx,
            what=what,
        )

    def broadcast(self, signed: SignedTx) -> None:
        """Send the raw bytes; sending the same bytes again is harmless (idempotent)."""
        with self.boundary(f"sending {signed.what} ({signed.tx_hash_hex})"):
            refusals: tuple[type[BaseException], ...] = (Web3RPCError, *self.backend_errors)
            try:
                self.w3.eth.send_raw_transaction(signed.raw)
            except refusals as exc:
                # The node already holds (or has mined) these exact bytes.
                if "already known" not in str(exc).lower() and not self._is_mined(signed):
                    raise

    def _is_mined(self, signed: SignedTx) -> bool:
        return self.find_receipt(signed.tx_hash_hex) is not None

    def find_receipt(self, tx_hash_hex: str) -> TxReceipt | None:
        """The receipt of a mined tx, None while it is pending or unknown (no waiting)."""
        with self.boundary(f"looking up {tx_hash_hex}"):
            try:
                return self.w3.eth.get_transaction_receipt(HexBytes(tx_hash_hex))
            except TransactionNotFound:
                return None

    def wait_for_receipt(self, signed: SignedTx) -> TxReceipt:
        """Wait until the tx is mined (and confirmed); a failed tx raises ContractRevertError."""
        tx_hash_hex = signed.tx_hash_hex
        with self.boundary(f"waiting for {signed.what} ({tx_hash_hex})", tx_hash_hex=tx_hash_hex):
            receipt = self.w3.eth.wait_for_transaction_receipt(
                HexBytes(tx_hash_hex),
                timeout=self.receipt_timeout_s,
                poll_latency=self.poll_interval_s,
            )
            if receipt["status"] != 1:
                raise self._replay_failure(signed.fields, receipt, tx_hash_hex)
            if self.confirmations > 1:
                receipt = self._await_confirmations(receipt, tx_hash_hex)
        return receipt

    def _replay_failure(
        self, tx: Mapping[str, Any], receipt: TxReceipt, tx_hash_hex: str
    ) -> ContractRevertError:
        """A mined but failed tx carries no reason; replay it as a call to decode one."""
        # The fields of the transaction that was signed: a TxParams by construction.
        call_tx = cast(TxParams, {k: tx[k] for k in ("from", "to", "data", "value") if k in tx})
        block = max(int(receipt["blockNumber"]) - 1, 0)
        try:
            self.w3.eth.call(call_tx, block_identifier=block)
        except ContractLogicError as exc:
            return decode_revert(revert_data_of(exc), self._abis, tx_hash_hex=tx_hash_hex)
        except self.backend_errors as exc:
            data = self.backend_revert_data(exc)
            if data is not None:
                return decode_revert(data, self._abis, tx_hash_hex=tx_hash_hex)
        except (Web3Exception, OSError):
            pass
        return ContractRevertError(
            f"transaction {tx_hash_hex} failed (status 0) after using {receipt['gasUsed']} "
            f"of {tx.get('gas')} gas; replaying it as a call does not revert, so it most "
            "likely ran out of gas",
            tx_hash_hex=tx_hash_hex,
        )

    def _await_confirmations(self, receipt: TxReceipt, tx_hash_hex: str) -> TxReceipt:
        target = int(receipt["blockNumber"]) + self.confirmations - 1
        deadline = time.monotonic() + self.receipt_timeout_s
        while self.w3.eth.block_number < target:
            if time.monotonic() > deadline:
                raise UnavailableError(
                    f"transaction {tx_hash_hex}: {self.confirmations} confirmations not reached "
                    f"within {self.receipt_timeout_s} s on {self._where()}",
                    retry_after_s=self.receipt_timeout_s,
                )
            time.sleep(self.poll_interval_s)
        # A reorg while waiting may have moved or dropped the tx: read the receipt again.
        again = self.find_receipt(tx_hash_hex)
        if again is None:
            raise UnavailableError(
                f"transaction {tx_hash_hex} left the chain while waiting for confirmations "
                "(a reorg): re-broadcast the same signed bytes",
                retry_after_s=self.poll_interval_s,
            )
        return again

    def transact(
        self,
        fn: Any,
        *,
        sender: LocalAccount | None = None,
        gas: int | None = None,
        value_wei: int = 0,
    ) -> TxReceipt:
        """Sign a contract call locally, send the raw bytes and wait for the receipt."""
        signed = self.sign(fn, sender=sender, gas=gas, value_wei=value_wei)
        self.broadcast(signed)
        return self.wait_for_receipt(signed)

    def send_value(
        self, to: str, value_wei: int, *, sender: LocalAccount | None = None
    ) -> TxReceipt:
        """A plain value transfer (21000 gas): the baseline of the chain benchmark."""
        signed = self.sign_value_transfer(to, value_wei, sender=sender)
        self.broadcast(signed)
        return self.wait_for_receipt(signed)

    def deploy(
        self, artifact: ArtifactLike, *args: Any, sender: LocalAccount | None = None
    ) -> tuple[str, TxReceipt]:
        """Deploy ``artifact`` with constructor ``args``; returns (checksum address, receipt)."""
        self.register_abi(artifact.abi)
        factory = self.w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        receipt = self.transact(factory.constructor(*args), sender=sender)
        address = receipt.get("contractAddress")
        if not address or not self.get_code(address):
            raise AnchoringError(
                f"deploying {artifact.name}: transaction "
                f"{HexBytes(receipt['transactionHash']).to_0x_hex()} left no code on the chain"
            )
        return to_checksum_address(address), receipt

    # -- test and dev helpers (memory and dev chains only) -----------------------

    def dev_accounts(self) -> list[LocalAccount]:
        """Prefunded accounts with their private keys (memory and dev chains only)."""
        raise AnchoringError(
            f"{self._where()} has no dev accounts: only the memory and dev chains do"
        )

    def snapshot(self) -> str:
        """Save the chain state; ``revert(id)`` returns to it (memory and dev only)."""
        raise AnchoringError(f"{self._where()} cannot take snapshots")

    def revert(self, snapshot_id: str) -> None:
        raise AnchoringError(f"{self._where()} cannot revert to snapshot {snapshot_id}")

    def advance_time(self, seconds: int) -> None:
        """Mine one block at least ``seconds`` after the latest one (memory and dev only)."""
        raise AnchoringError(f"{self._where()} cannot advance time")

    def latest_timestamp(self) -> int:
        with self.boundary("reading the latest block"):
            return int(self.w3.eth.get_block("latest")["timestamp"])

    def close(self) -> None:  # noqa: B027 - optional hook, most chains hold nothing
        """Release what the chain holds (a dev chain stops its anvil process)."""

    def __enter__(self) -> Chain:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
