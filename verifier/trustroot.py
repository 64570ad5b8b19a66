"""The trust root: an auditor's pins in one versioned file (docs/VERIFY.md §2).

``carbonledger-trust-root/1`` names the chain (chain id and the hash of its block 0), both
registries (address and runtime code hash), the service key the receipts are signed
with, the depth an anchor needs, and optionally the JSON-RPC endpoints to read the chain
through. The deployment writes it (``carbonledger trust-root``); the auditor checks it
once against the consortium's publication and keeps it, instead of five hex pins on one
command line. Every pin is required: a trust root that leaves one out is refused, so a
verification run with a trust root never skips check 3 for want of a code hash.

The file is read strictly (``ledger.core.canonical.parse_json``, then
``ledger.core.jsonshape``): a member too many or too few, a wrong version, hex in the
wrong case or an address not in checksum case is refused naming the JSON path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ledger.core import jsonshape
from ledger.core.canonical import parse_json
from ledger.core.errors import MalformedError

__all__ = ["MAX_TRUST_ROOT_BYTES", "TRUST_ROOT_FORMAT", "TrustRoot", "parse_trust_root"]

TRUST_ROOT_FORMAT = "carbonledger-trust-root/1"
MAX_TRUST_ROOT_BYTES = 64 << 10
MAX_ENDPOINTS = 16
_FORMAT = re.compile(r"carbonledger-trust-root/(\d+)\Z")
_MEMBERS = frozenset(
    {
        "format",
        "chain_id",
        "genesis_hash",
        "anchor_registry",
        "trust_registry",
        "service_key_id",
        "min_depth",
    }
)
_OPTIONAL = frozenset({"rpc"})
_REGISTRY = frozenset({"address", "code_hash"})


@dataclass(frozen=True)
class TrustRoot:
    """The pins of one deployment. Hashes are ``0x`` hex (EVM values), the service key id
    bare hex (docs/FORMAT.md conventions)."""

    chain_id: int
    genesis_hash: str
    anchor_registry: str
    anchor_code_hash: str
    trust_registry: str
    trust_code_hash: str
    service_key_id: str
    min_depth: int
    rpc: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "format": TRUST_ROOT_FORMAT,
            "chain_id": self.chain_id,
            "genesis_hash": self.genesis_hash,
            "anchor_registry": {
                "address": self.anchor_registry,
                "code_hash": self.anchor_code_hash,
            },
            "trust_registry": {"address": self.trust_registry, "code_hash": self.trust_code_hash},
            "service_key_id": self.service_key_id,
            "min_depth": self.min_depth,
        }
        if self.rpc:
            out["rpc"] = list(self.rpc)
        return out

    @classmethod
    def from_json(cls, obj: Any, *, root: str = "trust_root") -> TrustRoot:
        _check_format(jsonshape.obj(obj, root).get("format"), f"{root}.format")
        jsonshape.members(obj, root, _MEMBERS, _OPTIONAL)
        anchor = jsonshape.members(obj["anchor_registry"], f"{root}.anchor_registry", _REGISTRY)
        trust = jsonshape.members(obj["trust_registry"], f"{root}.trust_registry", _REGISTRY)
        rpc: tuple[str, ...] = ()
        if "rpc" in obj:
            urls = jsonshape.array(obj["rpc"], f"{root}.rpc", limit=MAX_ENDPOINTS)
            if not urls:
                raise MalformedError("expected at least one endpoint", path=f"{root}.rpc")
            for i, url in enumerate(urls):
                jsonshape.string(url, f"{root}.rpc[{i}]", min_chars=1, max_chars=2048)
                if not url.startswith(("http://", "https://")):
                    raise MalformedError("expected an http(s) URL", path=f"{root}.rpc[{i}]")
            if len(set(urls)) != len(urls):
                raise MalformedError("an endpoint is listed twice", path=f"{root}.rpc")
            rpc = tuple(urls)
        return cls(
            chain_id=jsonshape.integer(obj["chain_id"], f"{root}.chain_id", minimum=1),
            genesis_hash=_hash(obj["genesis_hash"], f"{root}.genesis_hash"),
            anchor_registry=jsonshape.address(anchor["address"], f"{root}.anchor_registry.address"),
            anchor_code_hash=_hash(anchor["code_hash"], f"{root}.anchor_registry.code_hash"),
            trust_registry=jsonshape.address(trust["address"], f"{root}.trust_registry.address"),
            trust_code_hash=_hash(trust["code_hash"], f"{root}.trust_registry.code_hash"),
            service_key_id=jsonshape.hex_text(
                obj["service_key_id"], f"{root}.service_key_id", size=32
            ),
            min_depth=jsonshape.integer(obj["min_depth"], f"{root}.min_depth", minimum=1),
            rpc=rpc,
        )


def _hash(value: Any, path: str) -> str:
    return jsonshape.hex_text(value, path, size=32, prefixed=True)


def _check_format(value: Any, path: str) -> None:
    if not isinstance(value, str):
        raise MalformedError("expected a format string", path=path)
    m = _FORMAT.match(value)
    if m is None:
        raise MalformedError(f"not a carbonledger trust root: {value[:80]!r}", path=path)
    if value != TRUST_ROOT_FORMAT:
        raise MalformedError(
            f"unsupported trust root version {m.group(1)} (this verifier reads "
            f"{TRUST_ROOT_FORMAT})",
            path=path,
        )


def parse_trust_root(data: bytes) -> TrustRoot:
    """Read trust root bytes strictly; ``MalformedError`` names the path of the fault."""
    return TrustRoot.from_json(
        parse_json(data, max_bytes=MAX_TRUST_ROOT_BYTES, root="trust_root"), root="trust_root"
    )
