"""The TrustRegistry's state proven against a block header (docs/CONTRACTS.md §4): producer
keys with their windows and revocations, the record types granted to each key, the
attestations filed about a digest, the accredited bodies that filed them, and (interface
version 3) collection terminals' keys and the metering points granted to them.

Each read proves every key, grant, digest or body the bundle needs at once, through
``ProvenContract.words`` (one batch request per round): attestations take two rounds
(their count, then the entries), bodies and terminal keys two (their fields, then the
words of ``string`` and ``bytes`` values longer than 31 bytes).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TypeVar

from eth_utils import keccak, to_checksum_address

from verifier.evm.contract import ProvenContract
from verifier.evm.layout import (
    Location,
    StorageLayout,
    bytes_length,
    long_bytes_slots,
    short_bytes,
)
from verifier.evm.network import Network
from verifier.facts import Attestation, Body, ProducerKey, TerminalKey, TypeGrant

__all__ = ["MAX_ATTESTATIONS", "TrustProver"]

_KEY_FIELDS = ("publicKey", "producerId", "validFrom", "validUntil", "revokedAt")
_ATTESTATION_FIELDS = ("body", "reportDigest", "verdict", "blockNumber", "timestamp")
_BODY_NUMBERS = ("validFrom", "validUntil", "withdrawn")
_BODY_TEXTS = ("name", "scope", "regions")
_TERMINAL_NUMBERS = ("scheme", "terminalId", "validFrom", "validUntil", "revokedAt")
_TERMINAL_BYTES = ("publicKey", "distinguishingId")
#: Attestations read per digest (the most recent filings beyond it are counted, not read).
MAX_ATTESTATIONS = 100

K = TypeVar("K")


class TrustProver:
    """Proofs about the TrustRegistry at ``registry`` through ``network``."""

    def __init__(
        self,
        network: Network,
        *,
        registry: str,
        code_hash: str | None = None,
        layout: StorageLayout | None = None,
    ) -> None:
        self.contract = ProvenContract(
            network,
            name="TrustRegistry",
            address=registry,
            layout=layout or StorageLayout.packaged("TrustRegistry"),
            code_hash=code_hash,
        )
        self.layout = self.contract.layout

    def prove_keys(self, key_ids: Iterable[bytes], block: int) -> dict[bytes, ProducerKey | None]:
        """Each key as registered (None: never registered, its public key slot is zero)."""
        plan = {k: self._fields("_keys", k, _KEY_FIELDS) for k in set(key_ids)}
        words = self.contract.words(_flat(plan.values()), block)
        out: dict[bytes, ProducerKey | None] = {}
        for key_id, at in plan.items():
            v = {name: loc.extract(words[loc.slot]) for name, loc in at.items()}
            out[key_id] = (
                ProducerKey(
                    v["publicKey"].to_bytes(32, "big"),
                    v["producerId"].to_bytes(32, "big"),
                    v["validFrom"],
                    v["validUntil"],
                    v["revokedAt"],
                )
                if v["publicKey"]
                else None
            )
        return out

    def prove_grants(
        self, pairs: Iterable[tuple[bytes, str]], block: int
    ) -> dict[tuple[bytes, str], TypeGrant]:
        """When each key was granted (and withdrawn) each record type; both zero when never."""
        return self._prove_grants("_grants", pairs, block)

    def prove_point_grants(
        self, pairs: Iterable[tuple[bytes, str]], block: int
    ) -> dict[tuple[bytes, str], TypeGrant]:
        """When each terminal key was granted (and withdrawn) each metering point; both zero
        when never (``getMeteringPointGrant``)."""
        return self._prove_grants("_points", pairs, block)

    def _prove_grants(
        self, variable: str, pairs: Iterable[tuple[bytes, str]], block: int
    ) -> dict[tuple[bytes, str], TypeGrant]:
        """``variable[keyId][keccak256(name)]`` of each pair: (grantedAt, withdrawnAt)."""
        plan = {
            (key_id, name): self._fields(
                variable, key_id, ("grantedAt", "withdrawnAt"), under=keccak(name.encode())
            )
            for key_id, name in set(pairs)
        }
        words = self.contract.words(_flat(plan.values()), block)
        return {
            pair: TypeGrant(
                at["grantedAt"].extract(words[at["grantedAt"].slot]),
                at["withdrawnAt"].extract(words[at["withdrawnAt"].slot]),
            )
            for pair, at in plan.items()
        }

    def prove_terminal_keys(
        self, key_ids: Iterable[bytes], block: int
    ) -> dict[bytes, TerminalKey | None]:
        """Each terminal key as registered, its public key and distinguishing identifier
        read from their ``bytes`` slots (None: never registered, its scheme is zero)."""
        plan = {
            k: self._fields("_terminalKeys", k, (*_TERMINAL_NUMBERS, *_TERMINAL_BYTES))
            for k in set(key_ids)
        }
        words = self.contract.words(_flat(plan.values()), block)
        raw = self._bytes_values(
            {(k, name): at[name] for k, at in plan.items() for name in _TERMINAL_BYTES},
            words,
            block,
        )
        out: dict[bytes, TerminalKey | None] = {}
        for k, at in plan.items():
            v = {name: at[name].extract(words[at[name].slot]) for name in _TERMINAL_NUMBERS}
            out[k] = (
                TerminalKey(
                    v["scheme"],
                    raw[(k, "publicKey")],
                    raw[(k, "distinguishingId")],
                    v["terminalId"].to_bytes(32, "big"),
                    v["validFrom"],
                    v["validUntil"],
                    v["revokedAt"],
                )
                if v["scheme"]  # registerTerminalKey refuses scheme 0
                else None
            )
        return out

    def prove_attestations(
        self, digests: Iterable[bytes], block: int, *, limit: int = MAX_ATTESTATIONS
    ) -> dict[bytes, list[Attestation]]:
        """The attestations filed about each digest, oldest first (at most ``limit``)."""
        lengths = {d: self.layout.locate("_attestations", d) for d in set(digests)}
        words = self.contract.words(lengths.values(), block)
        counts = {d: min(words[at.slot], limit) for d, at in lengths.items()}
        plan = {
            (d, i): self._fields("_attestations", d, _ATTESTATION_FIELDS, index=i)
            for d, n in counts.items()
            for i in range(n)
        }
        entries = self.contract.words(_flat(plan.values()), block) if plan else {}
        out: dict[bytes, list[Attestation]] = {d: [] for d in counts}
        for (d, _), at in sorted(plan.items(), key=lambda kv: kv[0][1]):
            v = {name: loc.extract(entries[loc.slot]) for name, loc in at.items()}
            out[d].append(
                Attestation(
                    _address(v["body"]),
                    v["reportDigest"].to_bytes(32, "big"),
                    v["verdict"],
                    v["blockNumber"],
                    v["timestamp"],
                )
            )
        return out

    def prove_bodies(self, addresses: Iterable[str], block: int) -> dict[str, Body | None]:
        """Each accredited body (None: never accredited, its window is empty)."""
        plan = {
            a: self._fields("_bodies", int(a, 16), (*_BODY_TEXTS, *_BODY_NUMBERS))
            for a in set(addresses)
        }
        words = self.contract.words(_flat(plan.values()), block)
        raw = self._bytes_values(
            {(a, name): at[name] for a, at in plan.items() for name in _BODY_TEXTS}, words, block
        )
        out: dict[str, Body | None] = {}
        for a, at in plan.items():
            v = {name: at[name].extract(words[at[name].slot]) for name in _BODY_NUMBERS}
            if v["validUntil"] == 0:  # accreditBody refuses an empty window
                out[a] = None
                continue
            texts = {name: raw[(a, name)].decode("utf-8", "replace") for name in _BODY_TEXTS}
            out[a] = Body(
                a,
                texts["name"],
                texts["scope"],
                texts["regions"],
                v["validFrom"],
                v["validUntil"],
                bool(v["withdrawn"]),
            )
        return out

    def _bytes_values(
        self, at: Mapping[K, Location], words: Mapping[int, int], block: int
    ) -> dict[K, bytes]:
        """The data of the ``string``/``bytes`` values whose slots ``at`` names, given the
        proven ``words`` of those slots: one more round for the values of 32 bytes or more,
        which keep their length in their slot and their data from ``keccak256(slot)`` on."""
        long_values = {
            name: long_bytes_slots(loc.slot, bytes_length(words[loc.slot]))
            for name, loc in at.items()
            if words[loc.slot] & 1
        }
        data = (
            self.contract.words(
                [Location(s, 0, 32, "t_bytes32") for slots in long_values.values() for s in slots],
                block,
            )
            if long_values
            else {}
        )
        out: dict[K, bytes] = {}
        for name, loc in at.items():
            word = words[loc.slot]
            if name in long_values:
                joined = b"".join(data[s].to_bytes(32, "big") for s in long_values[name])
                out[name] = joined[: bytes_length(word)]
            else:
                out[name] = short_bytes(word)
        return out

    def _fields(
        self,
        variable: str,
        key: int | bytes,
        fields: Iterable[str],
        *,
        index: int | None = None,
        under: bytes | None = None,
    ) -> dict[str, Location]:
        """The locations of ``fields`` of ``variable[key]`` (``[index]`` of an array, or
        ``[under]`` of a nested mapping)."""
        path: tuple[int | bytes, ...] = (key,)
        if index is not None:
            path += (index,)
        if under is not None:
            path += (under,)
        return {name: self.layout.locate(variable, *path, name) for name in fields}


def _flat(groups: Iterable[Mapping[str, Location]]) -> list[Location]:
    return [loc for group in groups for loc in group.values()]


def _address(value: int) -> str:
    return str(to_checksum_address(value.to_bytes(20, "big")))
