"""A pinned contract's storage, proven word by word against a header's state root.

``ProvenContract.words(locations, block)`` asks the first endpoint for ``eth_getProof`` of
every slot the locations need (a few hundred slots per call, every call in one JSON-RPC
batch request), folds each answer to the state root of ``block``'s header (recomputed and
compared across the endpoints, verifier.evm.network), and returns the proven words. The
proven code hash must be the auditor's pin, when given, and always the build whose
storage layout the verifier carries: which slot holds what is the compiler's decision,
valid for that build only.
"""

from __future__ import annotations

from collections.abc import Iterable

from verifier.evm.errors import CodeHashError
from verifier.evm.header import BlockHeader
from verifier.evm.layout import Location, StorageLayout
from verifier.evm.network import Network
from verifier.evm.rpc import Call
from verifier.evm.state import Account, ProvenStorage, verify_proof

__all__ = ["SLOTS_PER_CALL", "ProvenContract"]

#: Slots one eth_getProof call proves (the answer repeats the upper trie nodes per slot,
#: so a call of 256 slots of a large registry is a few hundred KiB).
SLOTS_PER_CALL = 256


class ProvenContract:
    """``name`` at ``address``, read through ``network`` with ``layout``; ``code_hash`` is
    the auditor's pin (``0x`` hex) or None."""

    def __init__(
        self,
        network: Network,
        *,
        name: str,
        address: str,
        layout: StorageLayout,
        code_hash: str | None = None,
    ) -> None:
        self.network = network
        self.name = name
        self.address = address
        self.layout = layout
        self.code_hash = code_hash.lower() if code_hash else None
        self._accounts: dict[int, Account] = {}

    def account(self, block: int) -> Account:
        """The contract's account proven at ``block`` (its code hash checked)."""
        if block not in self._accounts:
            self.words([], block)
        return self._accounts[block]

    def words(self, locations: Iterable[Location], block: int) -> dict[int, int]:
        """The proven word of every slot ``locations`` name, at ``block``."""
        header = self.network.header(block)
        slots = sorted({loc.slot for loc in locations})
        chunks = [slots[i : i + SLOTS_PER_CALL] for i in range(0, len(slots), SLOTS_PER_CALL)]
        calls = [Call("eth_getProof", self._params(chunk, block)) for chunk in chunks or [[]]]
        answers = self.network.primary.batch(calls)
        words: dict[int, int] = {}
        for chunk, answer in zip(chunks or [[]], answers, strict=True):
            words.update(self._verify(answer, header, chunk).words)
        return words

    def _params(self, slots: list[int], block: int) -> tuple[object, ...]:
        return (self.address, ["0x" + s.to_bytes(32, "big").hex() for s in slots], hex(block))

    def _verify(self, answer: object, header: BlockHeader, slots: list[int]) -> ProvenStorage:
        storage = verify_proof(
            answer,
            state_root=header.state_root,
            address=self.address,
            slots=slots,
            url=self.network.primary.url,
            block=header.number,
        )
        proven = "0x" + storage.account.code_hash.hex()
        if self.code_hash is not None and proven != self.code_hash:
            raise CodeHashError(
                f"the {self.name} at {self.address} runs code {proven} at block "
                f"{header.number} (proven against the block's state root), not the "
                f"pinned {self.code_hash}",
                expected=self.code_hash,
                computed=proven,
            )
        # Slots mean what the layout says only in the build it came from.
        if proven != self.layout.runtime_code_hash:
            raise CodeHashError(
                f"the {self.name} at {self.address} runs code {proven} at block "
                f"{header.number}, not the build {self.layout.runtime_code_hash} whose "
                "storage layout this verifier reads: its stored records cannot be proven "
                "by this verifier (use the verifier released with that build)",
                expected=self.layout.runtime_code_hash,
                computed=proven,
            )
        self._accounts[header.number] = storage.account
        return storage
