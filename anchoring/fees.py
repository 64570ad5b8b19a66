"""The settings and the report of anchoring steps, and the small helpers they share.

Fees of anchor transactions follow the replacement rules of the common EVM nodes: a
replacement for a pending transaction (same sender, same nonce) is accepted only when it
raises both fee fields by the node's price bump (geth and anvil: 10 %; Besu
``--tx-pool-price-bump``). We bump by 12.5 %, rounding up.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import rlp
from eth_account.typed_transactions import TypedTransaction
from hexbytes import HexBytes


@dataclass(frozen=True)
class FeePolicy:
    """Fees of anchor transactions. Bumps are ≥ 12.5 % (anvil and geth want ≥ 10 %);
    ``max_fee_per_gas_cap_wei`` bounds what a fee spike can cost."""

    max_fee_per_gas_cap_wei: int = 500 * 10**9
    bump_numerator: int = 9
    bump_denominator: int = 8
    stall_timeout_s: float = 60.0
    gas_headroom_percent: int = 20


@dataclass
class StepReport:
    """What one ``Anchorer.run_once`` did; lists of batch seqs and transaction hashes."""

    leader: bool = True
    sealed: list[int] = field(default_factory=list)
    signed: list[str] = field(default_factory=list)
    broadcast: list[str] = field(default_factory=list)
    rebroadcast: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    mined: list[str] = field(default_factory=list)
    waiting: list[int | str] = field(default_factory=list)
    anchored: list[int] = field(default_factory=list)
    reorged: list[int | str] = field(default_factory=list)
    reverted: list[int] = field(default_factory=list)
    reopened: list[int] = field(default_factory=list)
    disputed: list[int] = field(default_factory=list)
    published: list[int] = field(default_factory=list)
    #: Statuses recorded on-chain this step (``revoke:7``, ``supersede:2``), and those the
    #: chain refused (kept, retried after a back-off).
    written: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    #: Registry events the chain follower read this step.
    followed: int = 0
    alerts: list[str] = field(default_factory=list)

    def is_idle(self) -> bool:
        return not any(
            getattr(self, name) for name in self.__dataclass_fields__ if name != "leader"
        )

    def did_work(self) -> bool:
        """Whether more work may be queued right behind this step (no need to wait)."""
        return bool(self.sealed or self.anchored or self.published or self.written)


def bumped(old: int, policy: FeePolicy) -> int:
    return -(-old * policy.bump_numerator // policy.bump_denominator)


def gas_limit_of(raw_tx: bytes) -> int:
    """The gas limit inside a signed transaction (EIP-2718 typed or legacy RLP)."""
    if raw_tx and raw_tx[0] <= 0x7F:
        return int(TypedTransaction.from_bytes(HexBytes(raw_tx)).as_dict()["gas"])
    return int.from_bytes(rlp.decode(raw_tx)[2], "big")
