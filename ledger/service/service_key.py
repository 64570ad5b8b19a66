"""The service's own Ed25519 key, which signs receipts (docs/FORMAT.md §5).

It lives in the data directory as ``service-key.pem`` (PKCS #8, unencrypted, mode 0600),
created on the first start and never replaced: every receipt ever issued names its key id,
so a new key would orphan them. Its public half is published next to it in
``service.json`` (format ``carbonledger-service/1``), the file a verifier or the read API
hands out to check receipts::

    {"format": "carbonledger-service/1", "alg": "ed25519",
     "public_key": "<64 hex>", "service_key_id": "<sha256(public key), 64 hex>"}

A key file readable by group or others is refused rather than used, as ssh refuses a
private key with loose permissions: a leaked service key lets anyone forge receipts.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

from ledger.core.canonical import canonicalize
from ledger.core.errors import StorageError
from ledger.core.signature import ALG_ED25519, key_id, public_key_bytes

__all__ = [
    "SERVICE_INFO_FILE",
    "SERVICE_INFO_FORMAT",
    "SERVICE_KEY_FILE",
    "ServiceKey",
    "ServiceKeyError",
    "load_or_create",
    "load_service_key",
    "read_key_file",
    "service_info",
    "write_key_file",
]

SERVICE_KEY_FILE = "service-key.pem"
SERVICE_INFO_FILE = "service.json"
SERVICE_INFO_FORMAT = "carbonledger-service/1"
_PRIVATE_MODE = 0o600


class ServiceKeyError(StorageError):
    """The key file cannot be read, is not an Ed25519 key, or is exposed to other users."""


@dataclass(frozen=True)
class ServiceKey:
    """The signing key and the facts a verifier needs about it."""

    private_key: Ed25519PrivateKey
    path: Path

    @property
    def public_key(self) -> bytes:
        return public_key_bytes(self.private_key)

    @property
    def key_id(self) -> str:
        return key_id(self.private_key)


def service_info(private_key: Ed25519PrivateKey) -> dict[str, Any]:
    """The public description of the service key (``service.json``)."""
    return {
        "format": SERVICE_INFO_FORMAT,
        "alg": ALG_ED25519,
        "public_key": public_key_bytes(private_key).hex(),
        "service_key_id": key_id(private_key),
    }


def write_key_file(path: Path, private_key: Ed25519PrivateKey) -> None:
    """Write ``private_key`` as PKCS #8 PEM to a new file of mode 0600, atomically.

    The bytes go to a private temporary file first, which is then hard-linked to ``path``:
    ``link`` fails when ``path`` exists, so a key file is never overwritten, and a crash
    leaves either no key file or a complete one.
    """
    pem = private_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _PRIVATE_MODE)
        try:
            # The umask may have narrowed the mode further; never widened it.
            os.fchmod(fd, _PRIVATE_MODE)
            os.write(fd, pem)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.link(tmp, path)
    except FileExistsError:
        raise ServiceKeyError(f"{path} already exists: a key file is never overwritten") from None
    except OSError as exc:
        raise ServiceKeyError(f"cannot create the key file {path}: {exc.strerror}") from exc
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    _fsync_dir(path.parent)


def read_key_file(path: Path) -> Ed25519PrivateKey:
    """Read an Ed25519 private key written by ``write_key_file``; refuse loose permissions."""
    try:
        mode = path.stat().st_mode
        data = path.read_bytes()
    except FileNotFoundError:
        raise ServiceKeyError(f"no key file at {path}") from None
    except OSError as exc:
        raise ServiceKeyError(f"cannot read the key file {path}: {exc.strerror}") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ServiceKeyError(
            f"{path} is accessible to other users (mode {stat.S_IMODE(mode):04o}): "
            f"run `chmod 600 {path.name}` in its directory"
        )
    try:
        key = load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise ServiceKeyError(f"{path} is not an unencrypted PEM private key ({exc})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ServiceKeyError(f"{path} holds a {type(key).__name__}, not an Ed25519 key")
    return key


def load_service_key(data_dir: Path) -> ServiceKey:
    """The existing service key of ``data_dir`` (``ServiceKeyError`` when there is none)."""
    path = Path(data_dir) / SERVICE_KEY_FILE
    return ServiceKey(read_key_file(path), path)


def load_or_create(data_dir: Path) -> ServiceKey:
    """The service key of ``data_dir``, created (with ``service.json``) on the first start."""
    directory = Path(data_dir)
    path = directory / SERVICE_KEY_FILE
    if not path.exists():
        try:
            write_key_file(path, Ed25519PrivateKey.generate())
        except ServiceKeyError:
            # Another process created it between our check and our create: use theirs.
            if not path.exists():
                raise
    key = ServiceKey(read_key_file(path), path)
    _write_info(directory / SERVICE_INFO_FILE, key.private_key)
    return key


def _write_info(path: Path, private_key: Ed25519PrivateKey) -> None:
    info = service_info(private_key)
    try:
        if path.exists() and json.loads(path.read_bytes()) == info:
            return
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(canonicalize(info) + b"\n")
        os.replace(tmp, path)
    except (OSError, ValueError) as exc:
        raise ServiceKeyError(f"cannot write {path}: {exc}") from exc


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
