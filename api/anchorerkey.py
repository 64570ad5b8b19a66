"""Which key the anchorer signs with: ``<data_dir>/anchorer-key.json`` (docs/OPERATIONS.md
§10), written by ``carbonledger anchorer-key rotate`` and read by the service at start and
on SIGHUP.

Without the file the anchorer signs with the operator's signer (the settings' keystore or
key; the dev chain's first account). The file names a Web3 Secret Storage keystore and the
file holding its password, and the address they must give: a key that decrypts to another
address is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from anchoring.keystore import load_keystore, read_password_file
from api.datadir import write_private_json
from ledger.core.canonical import parse_json
from ledger.core.errors import MalformedError

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

__all__ = [
    "ANCHORER_KEY_FILE",
    "AnchorerKeyRef",
    "load_anchorer_signer",
    "read_anchorer_key",
    "write_anchorer_key",
]

ANCHORER_KEY_FILE = "anchorer-key.json"
FORMAT = "carbonledger-anchorer-key/1"


@dataclass(frozen=True)
class AnchorerKeyRef:
    address: str
    keystore: Path
    password_file: Path

    def to_json(self) -> dict[str, str]:
        return {
            "format": FORMAT,
            "address": self.address,
            "keystore": str(self.keystore),
            "password_file": str(self.password_file),
        }


def read_anchorer_key(data_dir: Path) -> AnchorerKeyRef | None:
    path = data_dir / ANCHORER_KEY_FILE
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise MalformedError(f"cannot read {path}: {exc.strerror}", path=str(path)) from None
    value = parse_json(raw, max_bytes=64 * 1024, root=ANCHORER_KEY_FILE)
    if not isinstance(value, dict) or value.get("format") != FORMAT:
        raise MalformedError(f"expected {FORMAT}", path=f"{ANCHORER_KEY_FILE}.format")
    for name in ("address", "keystore", "password_file"):
        if not isinstance(value.get(name), str) or not value[name]:
            raise MalformedError("expected a string", path=f"{ANCHORER_KEY_FILE}.{name}")
    return AnchorerKeyRef(value["address"], Path(value["keystore"]), Path(value["password_file"]))


def write_anchorer_key(data_dir: Path, ref: AnchorerKeyRef) -> Path:
    path = data_dir / ANCHORER_KEY_FILE
    write_private_json(path, ref.to_json())
    return path


def load_anchorer_signer(data_dir: Path) -> LocalAccount | None:
    """The anchorer's signer named by the data directory, or None (use the operator's)."""
    ref = read_anchorer_key(data_dir)
    if ref is None:
        return None
    signer = load_keystore(ref.keystore, read_password_file(ref.password_file))
    if signer.address.lower() != ref.address.lower():
        raise MalformedError(
            f"{ref.keystore} holds the key of {signer.address}, not {ref.address}",
            path=f"{ANCHORER_KEY_FILE}.address",
        )
    return signer
