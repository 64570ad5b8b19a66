"""The data directory is private: 0700, and every file in it 0600 (docs/OPERATIONS.md §7).

It holds the store (every full view and every salt), the service's receipt key, the pages'
session secret, the dev chain's state and keys, the demo's API tokens and the logs: none
of it is for other users of the machine. Two measures:

- every ``carbonledger`` command runs with the file-mode creation mask 077
  (``private_umask``), so whatever it or its children (anvil, SQLite's ``-wal`` and
  ``-shm``) create is private from the first byte;
- at start-up ``secure_data_dir`` narrows what is wider (a directory restored from a backup
  by another tool, a store made by an older version) and says so; what it cannot narrow (a
  file of another user) makes the command refuse to start, naming the file.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from anchoring.chain import ChainSetupError

__all__ = [
    "PRIVATE_DIR_MODE",
    "PRIVATE_FILE_MODE",
    "DataDirError",
    "private_umask",
    "secure_data_dir",
    "write_private_json",
]

log = logging.getLogger("carbonledger")

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
_OTHERS = stat.S_IRWXG | stat.S_IRWXO
#: Entries walked at most (the data directory holds tens of files; this bounds a mistake
#: such as a data directory pointed at a home directory).
MAX_ENTRIES = 100_000


class DataDirError(ChainSetupError):
    """The data directory cannot be made private (a file of another user, a symlink)."""


@contextlib.contextmanager
def private_umask() -> Iterator[None]:
    """Create files 0600 and directories 0700 while the block runs (process-wide)."""
    previous = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(previous)


def secure_data_dir(data_dir: Path) -> list[str]:
    """Narrow ``data_dir`` to 0700 and everything in it to 0600/0700; returns what changed.

    Symbolic links are not followed (their targets are not ours to change); a file or
    directory owned by another user raises ``DataDirError``.
    """
    if not data_dir.is_dir():
        return []
    fixed: list[str] = []
    uid = os.geteuid()
    seen = 0
    for root, _dirs, files in os.walk(data_dir):
        for path in (root, *(os.path.join(root, f) for f in files)):
            seen += 1
            if seen > MAX_ENTRIES:
                raise DataDirError(
                    f"{data_dir} holds more than {MAX_ENTRIES} entries: is it really the data "
                    "directory? (--data-dir / CARBONLEDGER_DATA_DIR)"
                )
            info = os.lstat(path)
            if stat.S_ISLNK(info.st_mode):
                continue
            if info.st_uid != uid:
                raise DataDirError(
                    f"{path} belongs to user id {info.st_uid}, not to this process ({uid}): "
                    "the data directory must be private to the service's user (chown it, or "
                    "choose another --data-dir)"
                )
            mode = stat.S_IMODE(info.st_mode)
            if mode & _OTHERS:
                os.chmod(path, mode & ~_OTHERS)
                change = f"{path}: {mode:04o} -> {mode & ~_OTHERS:04o}"
                fixed.append(change)
                # A directory made by mkdir (0755) is common and shows names only: quietly.
                level = logging.INFO if stat.S_ISDIR(info.st_mode) else logging.WARNING
                log.log(level, "data directory was readable by others, narrowed: %s", change)
    return fixed


def write_private_json(path: Path, value: Any) -> None:
    """Write ``value`` as JSON to ``path``, mode 0600, atomically (a temporary file of the
    same directory renamed over it), so a reader never sees half a file."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE_MODE)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(json.dumps(value, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)
