"""Verify from the page (docs/PAGES.md §1.3): the pins an auditor checks a bundle with,
the file name of a bundle download, and the exact ``carbon-verify`` command.

The pins come from the deployment record and the service key the app was built with:
chain id, the AnchorRegistry and TrustRegistry addresses, the chain's genesis hash and the
registries' runtime code hashes, and the key id the bundle's receipts are signed with. The
RPC endpoint is the auditor's own choice (a node they trust), so the command names it as a
placeholder.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from api.service import ApiService

__all__ = ["RPC_PLACEHOLDER", "Pins", "bundle_filename", "pins_of"]

RPC_PLACEHOLDER = "RPC_URL"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Pins:
    chain_id: int
    anchor_registry: str
    trust_registry: str
    genesis_hash: str
    anchor_code_hash: str | None
    trust_code_hash: str | None
    service_key_id: str | None

    def argv(self, bundle_file: str) -> list[str]:
        argv = [
            "carbon-verify", "bundle", bundle_file, "--rpc", RPC_PLACEHOLDER,
            "--chain-id", str(self.chain_id), "--registry", self.anchor_registry,
            "--genesis", self.genesis_hash,
        ]  # fmt: skip
        if self.anchor_code_hash:
            argv += ["--code-hash", self.anchor_code_hash]
        if self.trust_code_hash:
            argv += ["--trust-code-hash", self.trust_code_hash]
        if self.service_key_id:
            argv += ["--service-key-id", self.service_key_id]
        return argv

    def command(self, bundle_file: str) -> str:
        return shlex.join(self.argv(bundle_file))


def _hex0x(value: str) -> str:
    return value if value.startswith("0x") else "0x" + value


def pins_of(api: ApiService) -> Pins | None:
    """The pins of this deployment; None when the app has no deployment record (then it
    cannot export bundles either)."""
    deployment = api.deployment
    if deployment is None:
        return None
    contracts = deployment.contracts
    anchor, trust = contracts.get("AnchorRegistry"), contracts.get("TrustRegistry")
    if anchor is None or trust is None:
        return None
    service_key_id = api.service_info().get("service_key_id")
    return Pins(
        chain_id=deployment.chain_id,
        anchor_registry=anchor.address,
        trust_registry=trust.address,
        genesis_hash=_hex0x(deployment.genesis_hash_hex),
        anchor_code_hash=_hex0x(anchor.runtime_code_hash_hex),
        trust_code_hash=_hex0x(trust.runtime_code_hash_hex),
        service_key_id=str(service_key_id) if service_key_id else None,
    )


def bundle_filename(kind: str, key: str) -> str:
    """A file name for a bundle download: ASCII, no path, no quotes."""
    tail = key.rsplit(":", 1)[-1]
    safe = _UNSAFE.sub("-", tail).strip("-.")[:80] or "bundle"
    return f"bundle-{kind}-{safe}.json"
