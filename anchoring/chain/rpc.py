"""The ``rpc`` chain: any JSON-RPC endpoint (docs/OPERATIONS.md §6).

A Hardhat node, Besu/QBFT or GoQuorum: the node holds no key, we sign locally.
The chain id is read from the node and compared with the configured one before
anything else, so a tx can never be signed for the wrong chain (EIP-155 binds
each signature to its chain id).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import requests
from web3 import Web3
from web3.providers.rpc import HTTPProvider
from web3.providers.rpc.utils import ExceptionRetryConfiguration

from anchoring.chain.base import Chain, ChainIdMismatchError, ChainSetupError
from ledger.core.errors import UnavailableError

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount


class RpcChain(Chain):
    """A remote node at ``url``; refuses to run when its chain id is not ``expected_chain_id``."""

    kind: ClassVar[str] = "rpc"

    def __init__(
        self,
        url: str,
        *,
        expected_chain_id: int,
        signer: LocalAccount,
        confirmations: int = 1,
        timeout_s: float = 10.0,
        receipt_timeout_s: float = 120.0,
        poll_interval_s: float = 0.5,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ChainSetupError(
                f"RPC URL {url!r} is not an http(s) URL: give one like http://127.0.0.1:8545"
            )
        provider = HTTPProvider(
            url,
            request_kwargs={"timeout": timeout_s},
            # A node that is down should fail fast with one clear error, not after
            # web3's default five retries with backoff.
            exception_retry_configuration=ExceptionRetryConfiguration(
                errors=(ConnectionError, requests.HTTPError, requests.Timeout),
                retries=2,
                backoff_factor=0.1,
            ),
        )
        try:
            super().__init__(
                w3=Web3(provider),
                signer=signer,
                rpc_url=url,
                confirmations=confirmations,
                receipt_timeout_s=receipt_timeout_s,
                poll_interval_s=poll_interval_s,
            )
        except UnavailableError as exc:
            raise UnavailableError(
                f"cannot reach the RPC node at {url}: start it or fix the URL "
                "(--rpc / CARBONLEDGER_RPC_URL)",
                retry_after_s=exc.retry_after_s,
            ) from exc
        if self.chain_id != expected_chain_id:
            raise ChainIdMismatchError(
                f"the node at {url} serves chain id {self.chain_id}, not the expected "
                f"{expected_chain_id}: point --rpc at the right node or fix --chain-id / "
                "CARBONLEDGER_EXPECTED_CHAIN_ID",
                expected=expected_chain_id,
                actual=self.chain_id,
            )
