"""The ``memory`` chain: py-evm in-process through eth-tester (docs/OPERATIONS.md §6).

For tests and throwaway runs: nothing is written to disk, and the chain is
gone when the process ends. Its genesis carries 32 random bytes of extra data,
so two memory chains never share a genesis hash (the timestamp alone would
collide within a second) and a deployment record of one can never pass the
check on another.
"""

from __future__ import annotations

import ast
import contextlib
import os
from typing import TYPE_CHECKING, ClassVar

from eth.exceptions import Revert
from eth_account import Account
from eth_tester import EthereumTester, PyEVMBackend
from eth_tester import exceptions as tester_errors
from eth_utils.exceptions import ValidationError as EthUtilsValidationError
from web3 import Web3
from web3.providers.eth_tester import EthereumTesterProvider

from anchoring.chain.base import Chain
from ledger.core.errors import AnchoringError

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount


class MemoryChain(Chain):
    """An in-process py-evm chain with ten prefunded accounts; account 0 signs by default."""

    kind: ClassVar[str] = "memory"
    backend_errors: ClassVar[tuple[type[BaseException], ...]] = (
        tester_errors.ValidationError,
        tester_errors.BlockNotFound,
        tester_errors.TransactionNotFound,
        tester_errors.SnapshotNotFound,
        tester_errors.AccountLocked,
        tester_errors.TransactionFailed,
        Revert,
        EthUtilsValidationError,  # py-evm's refusal of a bad nonce or balance
    )

    def __init__(self, *, signer: LocalAccount | None = None) -> None:
        genesis = PyEVMBackend.generate_genesis_params(overrides={"extra_data": os.urandom(32)})
        self.backend = PyEVMBackend(genesis_parameters=genesis)
        self.tester = EthereumTester(self.backend)
        self._accounts: list[LocalAccount] = [
            Account.from_key(key.to_bytes()) for key in self.backend.account_keys
        ]
        super().__init__(
            w3=Web3(EthereumTesterProvider(self.tester)),
            signer=signer or self._accounts[0],
            rpc_url=None,
            poll_interval_s=0.01,
        )

    def backend_revert_data(self, exc: BaseException) -> bytes | None:
        """web3's tester provider re-raises a revert as a message string; the raw
        revert bytes sit in the exception it was raised from (py-evm's Revert)."""
        seen: set[int] = set()
        current: BaseException | None = exc
        while current is not None and id(current) not in seen:
            seen.add(id(current))
            if isinstance(current, tester_errors.TransactionFailed | Revert):
                first = current.args[0] if current.args else b""
                # eth-tester sometimes wraps the Revert in a TransactionFailed.
                if isinstance(first, BaseException) and first.args:
                    first = first.args[0]
                if isinstance(first, bytes):
                    return first
                # On eth_call it only keeps the repr of the bytes: b'\x69...'.
                if isinstance(first, str) and first.startswith(("b'", 'b"')):
                    with contextlib.suppress(ValueError, SyntaxError):
                        value = ast.literal_eval(first)
                        if isinstance(value, bytes):
                            return value
            current = current.__cause__ or current.__context__
        return None

    def dev_accounts(self) -> list[LocalAccount]:
        return list(self._accounts)

    def snapshot(self) -> str:
        with self.boundary("taking a snapshot"):
            return str(self.tester.take_snapshot())

    def revert(self, snapshot_id: str) -> None:
        try:
            numeric_id = int(snapshot_id)
        except ValueError:
            raise AnchoringError(f"no snapshot {snapshot_id!r} on the memory chain") from None
        with self.boundary(f"reverting to snapshot {snapshot_id}"):
            self.tester.revert_to_snapshot(numeric_id)

    def advance_time(self, seconds: int) -> None:
        if seconds < 0:
            raise AnchoringError(f"time only moves forward, got {seconds} s")
        with self.boundary(f"advancing time by {seconds} s"):
            latest = int(self.w3.eth.get_block("latest")["timestamp"])
            # eth-tester mines the block one second before the timestamp it is given.
            self.tester.time_travel(latest + max(seconds, 1) + 1)
