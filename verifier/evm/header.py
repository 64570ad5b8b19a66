"""A block header from ``eth_getBlockByNumber``, and its hash recomputed here.

The hash of an Ethereum block is keccak-256 of the RLP list of its header fields
(Ethereum Yellow Paper §4.3, eq. 33). Each fork appended fields: London the base fee
(EIP-1559), Shanghai the withdrawals root (EIP-4895), Cancun the blob gas fields
(EIP-4844) and the parent beacon block root (EIP-4788), Prague the requests hash
(EIP-7685). A chain's header carries exactly the fields of the fork it is on, so the
field set is read off the answer: the optional fields present must be a prefix of that
order (a header with a withdrawals root but no base fee is no header of any fork).

Nothing the endpoint says about the header is believed except through this hash: the
state root the proofs fold to is the one inside the RLP whose keccak the verifier
computed, and that hash is compared with the bundle's and with the other endpoints'.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import rlp
from eth_utils import keccak

from ledger.core.errors import MalformedError
from verifier.evm import hexdata
from verifier.evm.errors import EndpointUnavailableError, HeaderHashError

__all__ = ["FORKS", "BlockHeader", "header_from_rpc"]

# (JSON-RPC member, kind, length in bytes for data); kind "q" is an RLP integer.
_BASE_FIELDS: tuple[tuple[str, str, int | None], ...] = (
    ("parentHash", "d", 32),
    ("sha3Uncles", "d", 32),
    ("miner", "d", 20),
    ("stateRoot", "d", 32),
    ("transactionsRoot", "d", 32),
    ("receiptsRoot", "d", 32),
    ("logsBloom", "d", 256),
    ("difficulty", "q", None),
    ("number", "q", None),
    ("gasLimit", "q", None),
    ("gasUsed", "q", None),
    ("timestamp", "q", None),
    ("extraData", "d", None),
    ("mixHash", "d", 32),
    ("nonce", "d", 8),
)
# Fields appended by later forks, in header order, with the fork that appended them.
_FORK_FIELDS: tuple[tuple[str, str, int | None, str], ...] = (
    ("baseFeePerGas", "q", None, "london"),
    ("withdrawalsRoot", "d", 32, "shanghai"),
    ("blobGasUsed", "q", None, "cancun"),
    ("excessBlobGas", "q", None, "cancun"),
    ("parentBeaconBlockRoot", "d", 32, "cancun"),
    ("requestsHash", "d", 32, "prague"),
)
#: Header field counts by fork (the fork a header is read as is the last one whose
#: fields it has; Paris changed no field, only their meaning).
FORKS = {"pre-london": 15, "london": 16, "shanghai": 17, "cancun": 20, "prague": 21}


@dataclass(frozen=True)
class BlockHeader:
    """A header whose hash was recomputed from its fields (``hash`` is that hash)."""

    number: int
    hash: bytes
    parent_hash: bytes
    state_root: bytes
    timestamp: int
    extra_data: bytes
    fork: str
    rlp: bytes

    @property
    def hash_hex(self) -> str:
        return "0x" + self.hash.hex()


def header_from_rpc(block: Any, *, url: str, number: int | None = None) -> BlockHeader:
    """The header in an ``eth_getBlockByNumber`` answer, with its hash recomputed.

    Raises ``EndpointUnavailableError`` when the answer is no block (null, a member
    missing or not hex: nothing can be concluded), and ``HeaderHashError`` when the
    fields do not hash to the ``hash`` the endpoint gave with them, or the block is not
    the one asked for: the endpoint's answer is then provably not a block of any chain.
    """
    where = f"block {number}" if number is not None else "the block"
    if block is None:
        raise EndpointUnavailableError(f"{url} has no {where}", url=url)
    if not isinstance(block, dict):
        raise EndpointUnavailableError(f"{where} from {url} is not a JSON object", url=url)
    try:
        fields, fork = _fields(block)
        claimed = hexdata.data(block.get("hash"), "hash", length=32)
    except MalformedError as exc:
        raise EndpointUnavailableError(
            f"malformed block header from {url}: {exc.message}", url=url
        ) from None
    encoded: bytes = rlp.encode(fields)
    computed = keccak(encoded)
    block_number = fields[8]
    if computed != claimed:
        raise HeaderHashError(
            f"the header of block {block_number} from {url} hashes to 0x{computed.hex()}, "
            f"not to the hash 0x{claimed.hex()} it came with: this endpoint serves a "
            "header that is not the block's",
            expected="0x" + claimed.hex(),
            computed="0x" + computed.hex(),
        )
    if number is not None and block_number != number:
        raise HeaderHashError(
            f"{url} answered with block {block_number} when asked for block {number}",
            expected=number,
            computed=block_number,
        )
    return BlockHeader(
        number=block_number,
        hash=computed,
        parent_hash=fields[0],
        state_root=fields[3],
        timestamp=fields[11],
        extra_data=fields[12],
        fork=fork,
        rlp=encoded,
    )


def _fields(block: dict[str, Any]) -> tuple[list[Any], str]:
    fields: list[Any] = [_decode(block, name, kind, size) for name, kind, size in _BASE_FIELDS]
    fork = "pre-london"
    missing: str | None = None
    for name, kind, size, appended_by in _FORK_FIELDS:
        if block.get(name) is None:
            missing = missing or name
            continue
        if missing is not None:
            raise MalformedError(f"has {name} but not {missing}, which comes before it")
        fields.append(_decode(block, name, kind, size))
        fork = appended_by
    return fields, fork


def _decode(block: dict[str, Any], name: str, kind: str, size: int | None) -> Any:
    value = block.get(name)
    if value is None:
        raise MalformedError("missing", path=name)
    if kind == "q":
        return hexdata.quantity(value, name)
    return hexdata.data(value, name, length=size)
