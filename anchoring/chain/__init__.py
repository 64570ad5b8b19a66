"""Chain backends behind one interface: ``memory``, ``dev`` and ``rpc`` (docs/OPERATIONS.md §1)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from anchoring.chain.base import (
    ArtifactLike,
    Chain,
    ChainIdMismatchError,
    ChainSetupError,
)
from anchoring.chain.dev import DEV_CHAIN_ID, DevChain, PortInUseError, default_anvil_path
from anchoring.chain.memory import MemoryChain
from anchoring.chain.rpc import RpcChain

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

CHAIN_KINDS = ("memory", "dev", "rpc")

__all__ = [
    "CHAIN_KINDS",
    "DEV_CHAIN_ID",
    "ArtifactLike",
    "Chain",
    "ChainIdMismatchError",
    "ChainSetupError",
    "DevChain",
    "MemoryChain",
    "PortInUseError",
    "RpcChain",
    "default_anvil_path",
    "open_chain",
]


def open_chain(
    kind: str,
    *,
    data_dir: Path | None = None,
    anvil_path: Path | None = None,
    port: int | None = None,
    rpc_url: str | None = None,
    expected_chain_id: int | None = None,
    signer: LocalAccount | None = None,
    confirmations: int = 1,
) -> Chain:
    """Open the chain of ``kind``; the caller closes it (a dev chain stops its anvil).

    memory: nothing else needed. dev: ``data_dir`` and ``anvil_path``; ``port``
    optional. rpc: ``rpc_url``, ``expected_chain_id`` and ``signer``.
    ``confirmations`` applies to rpc only: memory and dev mine each transaction
    into its own block at once and nothing else ever mines there, so waiting for
    a second block would only time out.
    """
    if kind == "memory":
        return MemoryChain(signer=signer)
    if kind == "dev":
        if data_dir is None or anvil_path is None:
            raise ChainSetupError("the dev chain needs a data directory and the anvil path")
        return DevChain.start(
            data_dir=data_dir,
            anvil_path=anvil_path,
            port=port,
            signer=signer,
        )
    if kind == "rpc":
        if not rpc_url:
            raise ChainSetupError(
                "the rpc chain needs a URL: pass --rpc URL or set CARBONLEDGER_RPC_URL"
            )
        if expected_chain_id is None:
            raise ChainSetupError(
                f"the rpc chain at {rpc_url} needs the expected chain id: pass --chain-id "
                "or set CARBONLEDGER_EXPECTED_CHAIN_ID"
            )
        if signer is None:
            raise ChainSetupError(
                "the rpc chain needs a signer key: set CARBONLEDGER_SIGNER_KEYSTORE (with "
                "CARBONLEDGER_SIGNER_PASSWORD or CARBONLEDGER_SIGNER_PASSWORD_FILE) or "
                "CARBONLEDGER_SIGNER_KEY"
            )
        return RpcChain(
            rpc_url, expected_chain_id=expected_chain_id, signer=signer, confirmations=confirmations
        )
    raise ChainSetupError(f"unknown chain kind {kind!r}: use one of {', '.join(CHAIN_KINDS)}")
