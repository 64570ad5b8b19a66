"""The operator's signer key: an encrypted keystore file or a raw key (docs/OPERATIONS.md §6).

A keystore is the Web3 Secret Storage format (what ``eth_account.Account.encrypt``,
geth and Besu write). Nothing here reads the environment: the CLI entry loads the
settings and passes the path, password or key in. Signing uses eth-account with
the coincurve backend of eth-keys when it is installed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from eth_account import Account
from eth_keys.exceptions import ValidationError as KeyValidationError

from anchoring.chain.base import ChainSetupError

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount


class SignerError(ChainSetupError):
    """The signer key is missing, unreadable or cannot be decrypted."""


def load_keystore(path: Path, password: str) -> LocalAccount:
    """Decrypt the keystore at ``path``; a wrong password raises SignerError."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SignerError(
            f"signer keystore {path} does not exist: fix CARBONLEDGER_SIGNER_KEYSTORE / --keystore"
        ) from None
    except OSError as exc:
        raise SignerError(f"signer keystore {path} cannot be read: {exc.strerror}") from exc
    try:
        keyfile = json.loads(raw)
    except ValueError as exc:
        raise SignerError(f"signer keystore {path} is not JSON ({exc})") from exc
    if not isinstance(keyfile, dict) or "crypto" not in {k.lower() for k in keyfile}:
        raise SignerError(f"signer keystore {path} is not a Web3 Secret Storage key file")
    try:
        key = Account.decrypt(keyfile, password)
    except ValueError as exc:
        if "MAC mismatch" in str(exc):
            raise SignerError(
                f"signer keystore {path}: wrong password (MAC mismatch); check "
                "CARBONLEDGER_SIGNER_PASSWORD or the file in CARBONLEDGER_SIGNER_PASSWORD_FILE"
            ) from exc
        raise SignerError(f"signer keystore {path} cannot be decrypted: {exc}") from exc
    except (KeyError, TypeError) as exc:
        raise SignerError(f"signer keystore {path} is incomplete: missing {exc}") from exc
    account: LocalAccount = Account.from_key(key)
    return account


def signer_from_key(key_hex: str, *, source: str = "CARBONLEDGER_SIGNER_KEY") -> LocalAccount:
    """An account from a raw 32-byte private key in hex (with or without ``0x``)."""
    text = key_hex.strip().removeprefix("0x").removeprefix("0X")
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise SignerError(f"{source} is not hex: expected a 32-byte private key") from None
    if len(key) != 32:
        raise SignerError(f"{source} holds {len(key)} bytes: expected a 32-byte private key")
    try:
        account: LocalAccount = Account.from_key(key)
    except (ValueError, KeyValidationError) as exc:  # a key of 0 or >= the curve order
        raise SignerError(f"{source} is not a valid secp256k1 private key") from exc
    return account


def read_password_file(path: Path) -> str:
    """The password in ``path`` without its trailing newline."""
    try:
        return path.read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as exc:
        raise SignerError(
            f"signer password file {path} cannot be read ({exc.strerror}): fix "
            "CARBONLEDGER_SIGNER_PASSWORD_FILE / --password-file"
        ) from exc


def resolve_signer(
    *,
    keystore_path: Path | None,
    password: str | None,
    password_file: Path | None,
    key_hex: str | None,
) -> LocalAccount | None:
    """The configured signer: a keystore (with a password or password file) wins over a
    raw key; None when neither is configured."""
    if keystore_path is not None:
        if password is not None:
            return load_keystore(keystore_path, password)
        if password_file is not None:
            return load_keystore(keystore_path, read_password_file(password_file))
        raise SignerError(
            f"signer keystore {keystore_path} needs its password: set "
            "CARBONLEDGER_SIGNER_PASSWORD or CARBONLEDGER_SIGNER_PASSWORD_FILE"
        )
    if key_hex:
        return signer_from_key(key_hex)
    return None
