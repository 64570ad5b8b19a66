"""Account and storage proofs (``eth_getProof``, EIP-1186), folded here.

Ethereum's state is a Merkle-Patricia trie (Yellow Paper §4.1, Appendix D): the header's
state root commits to every account at key ``keccak256(address)`` with value
``RLP([nonce, balance, storageRoot, codeHash])``; an account's storage root commits to
its storage words at key ``keccak256(pad32(slot))`` with value ``RLP(word)`` (absent means
zero). ``eth_getProof`` returns the trie nodes on the path to each key; the proofs are
walked here with py-trie's ``HexaryTrie`` over the proof's nodes from the root the verifier
trusts (a header it hashed itself), so a node the endpoint invented never hashes into it.
The storage proofs of one answer share one table of nodes keyed by their keccak, so a
node repeated in every slot's proof (the upper levels) is hashed and decoded once.

The endpoint's own statements (balance, nonce, storageHash, codeHash, each slot's value)
are compared with what its proofs show: a difference is proof that it lies.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import rlp
from trie import HexaryTrie
from trie.exceptions import BadTrieProof, MissingTrieNode, ValidationError

from ledger.core.errors import MalformedError
from ledger.core.merkle import keccak256 as keccak
from verifier.evm import hexdata
from verifier.evm.errors import EndpointUnavailableError, ProofError

__all__ = ["EMPTY_CODE_HASH", "EMPTY_TRIE_ROOT", "Account", "ProvenStorage", "verify_proof"]

EMPTY_TRIE_ROOT = keccak(rlp.encode(b""))
EMPTY_CODE_HASH = keccak(b"")
#: A trie node is at most a branch of 16 hashes and a value (~600 bytes for an account
#: leaf or branch); anything much larger is refused before decoding (RLP decoding is
#: recursive, and untrusted nesting must stay shallow).
MAX_NODE_BYTES = 1024
#: The path to a 32-byte key has at most 64 nibbles, so at most 65 nodes.
MAX_PROOF_NODES = 65


class _ProofTrie(HexaryTrie):
    """py-trie's walk over proof nodes, each node decoded once however many walks pass
    through it (the storage proofs of one answer share their upper levels). Read only:
    the decoded nodes are shared between walks, and a walk never changes them."""

    def __init__(self, db: dict[bytes, bytes], root_hash: bytes) -> None:
        super().__init__(db, root_hash=root_hash)
        self._decoded: dict[bytes, Any] = {}

    def get_node(self, node_hash: bytes) -> Any:
        node = self._decoded.get(node_hash)
        if node is None:
            node = self._decoded[node_hash] = super().get_node(node_hash)  # type: ignore[no-untyped-call]
        return node


@dataclass(frozen=True)
class Account:
    nonce: int
    balance: int
    storage_root: bytes
    code_hash: bytes


@dataclass(frozen=True)
class ProvenStorage:
    """What one ``eth_getProof`` answer proves at one state root."""

    address: str
    account: Account
    #: slot -> the 32-byte word, as an int (0 when the slot is empty)
    words: dict[int, int]


def verify_proof(
    answer: Any, *, state_root: bytes, address: str, slots: Sequence[int], url: str, block: int
) -> ProvenStorage:
    """Fold an ``eth_getProof(address, slots, block)`` answer to ``state_root``.

    Raises ``EndpointUnavailableError`` when the answer cannot be decoded at all, and
    ``ProofError`` (with the expected and computed values) when a proof does not fold,
    proves an absent account, or the endpoint states a value its proof does not show.
    """
    where = f"eth_getProof answer from {url} for block {block}"
    try:
        if not isinstance(answer, dict):
            raise MalformedError("not a JSON object")
        account_nodes = _nodes(answer.get("accountProof"), "accountProof")
        storage = answer.get("storageProof")
        if not isinstance(storage, list) or len(storage) != len(slots):
            raise MalformedError(f"expected {len(slots)} storage proofs", path="storageProof")
        stated: dict[str, int | bytes] = {
            "nonce": hexdata.quantity(answer.get("nonce"), "nonce"),
            "balance": hexdata.quantity(answer.get("balance"), "balance"),
            "storageHash": hexdata.data(answer.get("storageHash"), "storageHash", length=32),
            "codeHash": hexdata.data(answer.get("codeHash"), "codeHash", length=32),
        }
        storage_nodes = []
        for i, (entry, slot) in enumerate(zip(storage, slots, strict=True)):
            path = f"storageProof[{i}]"
            if not isinstance(entry, dict):
                raise MalformedError("not a JSON object", path=path)
            key = hexdata.quantity(entry.get("key"), f"{path}.key")
            if key != slot:
                raise MalformedError(f"is for slot {key:#x}, not {slot:#x}", path=path)
            value = hexdata.quantity(entry.get("value"), f"{path}.value")
            storage_nodes.append((slot, value, _nodes(entry.get("proof"), f"{path}.proof")))
    except MalformedError as exc:
        raise EndpointUnavailableError(f"malformed {where}: {exc.message}", url=url) from None

    raw = _fold(state_root, keccak(_address_bytes(address)), account_nodes, f"{where}, account")
    if raw == b"":
        raise ProofError(
            f"{where} proves that no account exists at {address}",
            expected="an account with code",
            computed="no account",
        )
    account = _account(raw, where)
    for name, proven in (
        ("nonce", account.nonce),
        ("balance", account.balance),
        ("storageHash", account.storage_root),
        ("codeHash", account.code_hash),
    ):
        if stated[name] != proven:
            raise ProofError(
                f"{where} states {name} {_show(stated[name])} but its account proof "
                f"shows {_show(proven)}",
                expected=_show(proven),
                computed=_show(stated[name]),
            )
    # Every storage proof leads from the same storage root, and their upper nodes repeat:
    # one table of all their nodes, each hashed once, serves every slot's walk.
    table = _node_table(node for _, _, nodes in storage_nodes for node in nodes)
    trie = _ProofTrie(table, root_hash=account.storage_root)
    words: dict[int, int] = {}
    for slot, stated_value, _ in storage_nodes:
        raw = _walk(trie, keccak(slot.to_bytes(32, "big")), f"{where}, slot {slot:#x}")
        word = _word(raw, where, slot)
        if word != stated_value:
            raise ProofError(
                f"{where} states {stated_value:#x} at slot {slot:#x} but its proof shows {word:#x}",
                expected=hex(word),
                computed=hex(stated_value),
            )
        words[slot] = word
    return ProvenStorage(address, account, words)


def _nodes(value: object, path: str) -> list[bytes]:
    if not isinstance(value, list) or len(value) > MAX_PROOF_NODES:
        raise MalformedError(f"expected a list of at most {MAX_PROOF_NODES} nodes", path=path)
    nodes = [hexdata.data(v, f"{path}[{i}]") for i, v in enumerate(value)]
    for i, node in enumerate(nodes):
        if len(node) > MAX_NODE_BYTES:
            raise MalformedError(f"a trie node of {len(node)} bytes", path=f"{path}[{i}]")
    return nodes


def _node_table(nodes: Iterable[bytes]) -> dict[bytes, bytes]:
    """Proof nodes by their keccak, the database a trie walk reads (an invented node is
    never found: it is looked up by the hash its parent names)."""
    return {keccak(node): node for node in set(nodes)}


def _walk(trie: HexaryTrie, key: bytes, what: str) -> bytes:
    """The value the proof nodes show at ``key`` under ``trie``'s root (b"" when absent)."""
    root = trie.root_hash
    try:
        value: bytes = trie.get(key)
    except (
        MissingTrieNode,
        BadTrieProof,
        ValidationError,
        rlp.exceptions.DecodingError,
        RecursionError,
    ) as exc:
        raise ProofError(
            f"the proof in the {what} does not fold to the root 0x{root.hex()[:16]}… "
            f"({'a node is missing' if isinstance(exc, MissingTrieNode) else type(exc).__name__})",
            expected="0x" + root.hex(),
            computed="a proof that does not lead to it",
        ) from None
    return value


def _fold(root: bytes, key: bytes, nodes: list[bytes], what: str) -> bytes:
    """The value one proof shows at ``key`` under ``root`` (b"" when absent)."""
    return _walk(_ProofTrie(_node_table(nodes), root_hash=root), key, what)


def _account(raw: bytes, where: str) -> Account:
    try:
        fields = rlp.decode(raw)
        if not isinstance(fields, list) or len(fields) != 4:
            raise ValueError("not four fields")
        nonce, balance = (int.from_bytes(f, "big") for f in fields[:2])
        storage_root, code_hash = fields[2], fields[3]
        if len(storage_root) != 32 or len(code_hash) != 32:
            raise ValueError("roots are not 32 bytes")
    except (rlp.exceptions.DecodingError, ValueError, TypeError) as exc:
        raise ProofError(
            f"{where}: the proven account is not RLP([nonce, balance, storageRoot, "
            f"codeHash]) ({exc})",
            expected="an account",
            computed=raw.hex(),
        ) from None
    return Account(nonce, balance, bytes(storage_root), bytes(code_hash))


def _word(raw: bytes, where: str, slot: int) -> int:
    if raw == b"":
        return 0
    try:
        value = rlp.decode(raw)
        if not isinstance(value, bytes) or len(value) > 32:
            raise ValueError("not a word")
    except (rlp.exceptions.DecodingError, ValueError) as exc:
        raise ProofError(
            f"{where}: slot {slot:#x} holds no storage word ({exc})",
            expected="RLP of at most 32 bytes",
            computed=raw.hex(),
        ) from None
    return int.from_bytes(value, "big")


def _address_bytes(address: str) -> bytes:
    return bytes.fromhex(address[2:])


def _show(value: int | bytes) -> str:
    return "0x" + value.hex() if isinstance(value, bytes) else hex(value)
