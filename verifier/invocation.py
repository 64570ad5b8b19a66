"""One run of ``carbon-verify``: its arguments read into pins, its bundle and local
files read with a bound, the verification done, and the one way it talks on stderr.

Both commands (``bundle`` in :mod:`verifier.cli`, ``attest`` in :mod:`verifier.attest`)
run through here.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ledger.core.bundle import MAX_BUNDLE_BYTES
from ledger.core.errors import LedgerError
from verifier.model import Pins, Verification

if TYPE_CHECKING:  # loaded when a verification runs: the CLI starts without web3
    from verifier.chain import ChainReader

__all__ = ["UsageError", "pins_from", "read_bounded", "run_verification", "say"]


class UsageError(LedgerError):
    """Bad arguments or unreadable input: exit 2."""


def say(message: str) -> None:
    """One line on stderr: the only way this CLI talks besides its result on stdout."""
    sys.stderr.write(f"carbon-verify: {message}\n")
    sys.stderr.flush()


def read_bounded(path: Path, *, max_bytes: int = MAX_BUNDLE_BYTES, what: str = "bundle") -> bytes:
    """Read ``path`` whole, refusing by size before reading (a 2 GB file is never loaded)
    and reading at most ``max_bytes + 1`` bytes in case it grows meanwhile."""
    try:
        st = path.stat()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    if not path.is_file():
        raise UsageError(f"{path} is not a regular file")
    if st.st_size > max_bytes:
        raise UsageError(
            f"{path} is {st.st_size:,} bytes, more than the {max_bytes:,} a {what} may have "
            "(docs/FORMAT.md §6): refused without reading it"
        )
    try:
        with path.open("rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > max_bytes:
        raise UsageError(f"{path} grew past {max_bytes:,} bytes while being read")
    return data


def pins_from(args: argparse.Namespace) -> Pins:
    from verifier.chain import parse_address

    if args.chain_id < 1:
        raise UsageError(f"--chain-id must be a positive integer, got {args.chain_id}")
    if args.min_depth < 1:
        raise UsageError(f"--min-depth must be at least 1, got {args.min_depth}")
    hashes: list[str | None] = []
    for option, value in (
        ("--code-hash", args.code_hash),
        ("--trust-code-hash", args.trust_code_hash),
    ):
        if value is None:
            hashes.append(None)
            continue
        text = value.lower() if value.startswith("0x") else "0x" + value.lower()
        if len(text) != 66 or text[2:].strip("0123456789abcdef"):
            raise UsageError(f"{option} must be 32 bytes of hex, got {value!r}")
        hashes.append(text)
    service_key_id = getattr(args, "service_key_id", None)
    if service_key_id is not None and (
        len(service_key_id) != 64 or service_key_id.strip("0123456789abcdef")
    ):
        raise UsageError(
            f"--service-key-id must be 64 lowercase hex characters, got {service_key_id!r}"
        )
    genesis = getattr(args, "genesis", None)
    if genesis is not None:
        text = genesis.lower() if genesis.startswith("0x") else "0x" + genesis.lower()
        if len(text) != 66 or text[2:].strip("0123456789abcdef"):
            raise UsageError(f"--genesis must be 32 bytes of hex, got {genesis!r}")
        genesis = text
    return Pins(
        genesis_hash=genesis,
        chain_id=args.chain_id,
        anchor_registry=parse_address(args.registry, "--registry"),
        trust_registry=(
            parse_address(args.trust_registry, "--trust-registry") if args.trust_registry else None
        ),
        min_depth=args.min_depth,
        anchor_code_hash=hashes[0],
        trust_code_hash=hashes[1],
        service_key_id=service_key_id,
    )


def _progress() -> Callable[[int, int], None] | None:
    if not sys.stderr.isatty():
        return None
    from rich.console import Console
    from rich.progress import Progress

    bar = Progress(console=Console(stderr=True), transient=True)
    task = bar.add_task("verifying records", total=None)
    bar.start()

    def update(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)
        if done == total:
            bar.stop()

    return update


def run_verification(args: argparse.Namespace, pins: Pins) -> tuple[Verification, ChainReader]:
    """Read the bundle and the local files, then verify; returns (verification, reader)."""
    from verifier.chain import ChainReader
    from verifier.checks import verify_bundle
    from verifier.documents import file_sha256

    data = read_bounded(args.file)
    files = []
    for path in getattr(args, "files", []):
        if not path.is_file():
            raise UsageError(f"--file {path}: not a readable regular file")
        try:
            files.append((path.name, file_sha256(path)))
        except OSError as exc:
            raise UsageError(f"--file {path}: {exc.strerror or exc}") from None
    reader = ChainReader.from_rpc(
        args.rpc[0],
        other_rpcs=args.rpc[1:],
        anchor_registry=pins.anchor_registry,
        trust_registry=pins.trust_registry,
        timeout_s=args.timeout,
        code_hash=pins.anchor_code_hash,
    )
    verification = verify_bundle(data, reader=reader, pins=pins, files=files, progress=_progress())
    return verification, reader
