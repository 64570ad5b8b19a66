"""``carbonledger backup OUT`` and ``carbonledger restore BACKUP``: the service's state,
copied while it runs, and put back into a fresh data directory (docs/OPERATIONS.md §9).

  backup OUT          a consistent copy of the store (SQLite: VACUUM INTO; PostgreSQL:
                      pg_dump) and of the data directory's files (deployment record,
                      service key, pages secret, dev chain state, demo keys), with
                      backup.json listing every file and its SHA-256
  restore BACKUP      into an empty --data-dir (and, for PostgreSQL, the empty database of
                      --store-url): checks every file's SHA-256 first, migrates the store to
                      this version's schema and runs the store's integrity check

Neither stops the service. A backup is as private as the data directory (0700/0600).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from api.cli.common import EXIT_OK, SetupError, existing_store, print_rows
from api.servicestate import SERVICE_FILE, read_service_state
from api.settings import CarbonLedgerSettings
from ledger.core.canonical import format_timestamp, parse_json
from ledger.core.errors import LedgerError, MalformedError, StorageError
from ledger.store import Store, sqlite_url
from ledger.store.backup import restore_postgres, snapshot_store
from ledger.store.engine import DEFAULT_FILENAME

BACKUP_FORMAT = "carbonledger-backup/1"
MANIFEST = "backup.json"
PG_DUMP = "ledger.pgdump"
#: Files of a data directory a backup leaves out: the live database (copied consistently
#: instead), what only a running process means (its state, locks) and logs.
SKIPPED = {
    DEFAULT_FILENAME,
    f"{DEFAULT_FILENAME}-wal",
    f"{DEFAULT_FILENAME}-shm",
    f"{DEFAULT_FILENAME}-journal",
    SERVICE_FILE,
    "dev-chain.lock",
    "service.log",
    "anvil.log",
}
#: anvil rewrites its state file every second; a copy that is not whole JSON is read again.
STATE_READS = 10
MAX_MANIFEST_BYTES = 16 * 1024 * 1024


def register(subparsers: Any) -> None:
    backup = subparsers.add_parser(
        "backup",
        help="copy the store and the data directory's files while the service runs",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    backup.add_argument("out", type=Path, help="directory to write (new or empty)")
    backup.set_defaults(run=run_backup)
    restore = subparsers.add_parser(
        "restore",
        help="restore a backup into an empty data directory",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    restore.add_argument("backup", type=Path, help="directory `carbonledger backup` wrote")
    restore.set_defaults(run=run_restore)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _copy_whole(source: Path, target: Path) -> None:
    """Copy ``source``; a JSON file being rewritten (anvil's state) is read until whole."""
    for _ in range(STATE_READS):
        data = source.read_bytes()
        if source.suffix != ".json":
            break
        try:
            json.loads(data)  # anvil's own output; the recursion limit bounds it
            break
        except (ValueError, RecursionError):
            continue
    else:
        raise StorageError(f"{source} was never whole while being read: try the backup again")
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


def _data_files(data_dir: Path) -> list[Path]:
    files = []
    for path in sorted(data_dir.rglob("*")):
        relative = path.relative_to(data_dir)
        if path.is_symlink() or not path.is_file():
            continue
        if str(relative) in SKIPPED or path.name.endswith(".tmp"):
            continue
        files.append(relative)
    return files


def run_backup(args: argparse.Namespace, settings: CarbonLedgerSettings) -> int:
    out: Path = args.out
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise SetupError(f"{out} exists and is not an empty directory: a backup never overwrites")
    store = existing_store(settings)
    try:
        out.mkdir(mode=0o700, parents=True, exist_ok=True)
        target = out / (DEFAULT_FILENAME if store.dialect == "sqlite" else PG_DUMP)
        snapshot = snapshot_store(store, target)
    finally:
        store.close()
    files: dict[str, str] = {}
    for relative in _data_files(settings.data_dir):
        (out / relative).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        _copy_whole(settings.data_dir / relative, out / relative)
        files[str(relative)] = _sha256(out / relative)
    files[target.name] = _sha256(target)
    manifest = {
        "format": BACKUP_FORMAT,
        "created_at": format_timestamp(datetime.now(UTC).replace(microsecond=0)),
        "source": str(settings.data_dir.resolve()),
        "store": {
            "kind": snapshot.kind,
            "file": target.name,
            "schema_revision": snapshot.schema_revision,
            "records": snapshot.records,
            "batches": snapshot.batches,
        },
        "files": files,
    }
    fd = os.open(out / MANIFEST, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    if args.json:
        print(json.dumps(manifest, indent=2, sort_keys=True))
    else:
        print_rows(
            [
                ("backup", str(out)),
                ("store", f"{snapshot.kind}: {snapshot.records} records, "
                          f"{snapshot.batches} batches (schema {snapshot.schema_revision})"),
                ("files", len(files)),
            ]
        )  # fmt: skip
    return EXIT_OK


def _read_manifest(backup: Path) -> dict[str, Any]:
    path = backup / MANIFEST
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SetupError(
            f"{backup} is not a carbonledger backup (no {MANIFEST}): {exc.strerror}"
        ) from None
    manifest = parse_json(raw, max_bytes=MAX_MANIFEST_BYTES, root=MANIFEST)
    if not isinstance(manifest, dict) or manifest.get("format") != BACKUP_FORMAT:
        raise MalformedError(f"expected {BACKUP_FORMAT}", path=f"{MANIFEST}.format")
    files = manifest.get("files")
    store = manifest.get("store")
    if not isinstance(files, dict) or not isinstance(store, dict):
        raise MalformedError("expected files and store", path=MANIFEST)
    for name, digest in files.items():
        relative = Path(name)
        if relative.is_absolute() or ".." in relative.parts or not isinstance(digest, str):
            raise MalformedError(f"refused file entry {name!r}", path=f"{MANIFEST}.files")
        if not (backup / relative).is_file():
            raise SetupError(f"the backup is incomplete: {name} is missing")
        if _sha256(backup / relative) != digest:
            raise SetupError(f"the backup is damaged: {name} does not have its SHA-256")
    if store.get("file") not in files or store.get("kind") not in ("sqlite", "postgresql"):
        raise MalformedError("the store's file is not listed", path=f"{MANIFEST}.store")
    return manifest


def run_restore(args: argparse.Namespace, settings: CarbonLedgerSettings) -> int:
    manifest = _read_manifest(args.backup)
    data_dir = settings.data_dir
    if read_service_state(data_dir.resolve()) is not None:
        raise SetupError(f"a service runs on {data_dir}: restore into an empty data directory")
    if data_dir.exists() and any(data_dir.iterdir()):
        raise SetupError(f"{data_dir} is not empty: restore into a new or empty data directory")
    kind = manifest["store"]["kind"]
    if kind == "postgresql" and settings.store_url is None:
        raise SetupError("the backup holds a PostgreSQL dump: name the empty database with "
                         "--store-url")  # fmt: skip
    if kind == "sqlite" and settings.store_url is not None:
        raise SetupError("the backup holds a SQLite store: restore it without --store-url")
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    store_file = manifest["store"]["file"]
    for name in manifest["files"]:
        if name == store_file:
            continue
        target = data_dir / name
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        shutil.copyfile(args.backup / name, target)
        os.chmod(target, 0o600)
    if kind == "sqlite":
        target = data_dir / DEFAULT_FILENAME
        shutil.copyfile(args.backup / store_file, target)
        os.chmod(target, 0o600)
        url = sqlite_url(data_dir)
    else:
        url = settings.store_url or ""
        if not url:
            raise SetupError("restoring a PostgreSQL backup needs CARBONLEDGER_STORE_URL")
        restore_postgres(args.backup / store_file, url)
    store = Store.open(url)  # migrated to this version's schema if the backup is older
    try:
        problems = store.integrity_check()
    finally:
        store.close()
    if problems:
        raise LedgerError(f"the restored store fails its integrity check: {problems[0]}")
    if args.json:
        print(json.dumps({"format": "carbonledger-cli-restore/1", "data_dir": str(data_dir),
                          "store": manifest["store"]}, indent=2, sort_keys=True))  # fmt: skip
    else:
        print_rows(
            [
                ("restored", str(data_dir)),
                ("store", f"{kind}: {manifest['store']['records']} records, "
                          f"{manifest['store']['batches']} batches"),
                ("next", f"carbonledger check --data-dir {data_dir}"),
            ]
        )  # fmt: skip
    return EXIT_OK
