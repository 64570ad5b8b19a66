"""The service key: created once in the data directory with mode 0600, published in
service.json, reused on every later start, refused when other users can read it."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.core.signature import key_id, public_key_bytes
from ledger.service import ServiceKeyError, load_or_create
from ledger.service.service_key import (
    SERVICE_INFO_FILE,
    SERVICE_INFO_FORMAT,
    SERVICE_KEY_FILE,
    load_service_key,
    read_key_file,
    write_key_file,
)


def test_created_on_first_start_then_reused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = load_or_create(data)
    path = data / SERVICE_KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    info = json.loads((data / SERVICE_INFO_FILE).read_text())
    assert info == {
        "format": SERVICE_INFO_FORMAT,
        "alg": "ed25519",
        "public_key": first.public_key.hex(),
        "service_key_id": key_id(first.public_key),
    }
    again = load_or_create(data)
    assert again.public_key == first.public_key and again.key_id == first.key_id
    assert load_service_key(data).key_id == first.key_id
    assert [p.name for p in sorted(data.iterdir())] == [SERVICE_KEY_FILE, SERVICE_INFO_FILE]


def test_a_key_file_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "k.pem"
    key = Ed25519PrivateKey.generate()
    write_key_file(path, key)
    with pytest.raises(ServiceKeyError, match="never overwritten"):
        write_key_file(path, Ed25519PrivateKey.generate())
    assert public_key_bytes(read_key_file(path)) == public_key_bytes(key)


def test_loose_permissions_are_refused(tmp_path: Path) -> None:
    load_or_create(tmp_path)
    (tmp_path / SERVICE_KEY_FILE).chmod(0o644)
    with pytest.raises(ServiceKeyError, match="chmod 600"):
        load_or_create(tmp_path)


def test_not_a_key(tmp_path: Path) -> None:
    path = tmp_path / SERVICE_KEY_FILE
    path.write_bytes(b"not a key")
    path.chmod(0o600)
    with pytest.raises(ServiceKeyError, match="not an unencrypted PEM private key"):
        load_or_create(tmp_path)
    with pytest.raises(ServiceKeyError, match="no key file"):
        load_service_key(tmp_path / "elsewhere")
