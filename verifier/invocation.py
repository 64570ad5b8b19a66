"""One run of ``carbon-verify``: its arguments read into pins, its bundle and local
files read with a bound, the verification done, and the one way it talks on stderr.

Both commands (``bundle`` in :mod:`verifier.cli`, ``attest`` in :mod:`verifier.attest`)
run through here.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledger.core.bundle import MAX_BUNDLE_BYTES
from ledger.core.errors import LedgerError
from verifier.model import Pins, Verification

if TYPE_CHECKING:  # loaded when a verification runs: the CLI starts without web3
    from verifier.proven import ProvenReader
    from verifier.trustroot import TrustRoot

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


def _once(args: argparse.Namespace, dest: str, option: str) -> Any:
    """The value of a single-valued option (collected with action "append"); None when not
    given; the same option given twice with two values is a usage error."""
    values = getattr(args, dest, None)
    if not values:
        return None
    if len(set(values)) > 1:
        shown = " and ".join(repr(v) for v in dict.fromkeys(values))
        raise UsageError(f"{option} is given twice with different values ({shown}): give it once")
    return values[0]


def _hash_option(value: str | None, option: str) -> str | None:
    if value is None:
        return None
    text = value.lower() if value.startswith("0x") else "0x" + value.lower()
    if len(text) != 66 or text[2:].strip("0123456789abcdef"):
        raise UsageError(f"{option} must be 32 bytes of hex, got {value!r}")
    return text


def _trust_root(path: Path) -> tuple[TrustRoot, str]:
    from verifier.trustroot import MAX_TRUST_ROOT_BYTES, parse_trust_root

    data = read_bounded(path, max_bytes=MAX_TRUST_ROOT_BYTES, what="trust root")
    try:
        return parse_trust_root(data), hashlib.sha256(data).hexdigest()
    except LedgerError as exc:
        raise UsageError(f"--trust-root {path}: {exc.message}") from None


#: The single-valued pin options and their argparse destinations.
_DEST = {
    "--chain-id": "chain_id",
    "--registry": "registry",
    "--trust-registry": "trust_registry",
    "--min-depth": "min_depth",
    "--code-hash": "code_hash",
    "--trust-code-hash": "trust_code_hash",
    "--genesis": "genesis",
    "--service-key-id": "service_key_id",
}


def pins_from(args: argparse.Namespace) -> Pins:
    """The pins of this run: the trust root's (``--trust-root``), each overridden by its
    option, or the options alone (docs/VERIFY.md §2). Raises ``UsageError`` (exit 2, one
    line) for a missing pin, a bad value, an option given twice with two values, or an
    override that would leave the trust root's pins contradicting each other."""
    from verifier.chain import parse_address

    flags = {dest: _once(args, dest, option) for option, dest in _DEST.items()}
    rpc = list(args.rpc or ())
    root: TrustRoot | None = None
    root_sha256 = None
    if getattr(args, "trust_root", None) is not None:
        root, root_sha256 = _trust_root(args.trust_root)
        # A trust root pins a chain by its id and genesis together, and a deployment by
        # both registries together: replacing one of a pair and keeping the other would
        # pin two things that cannot both hold.
        for changed, kept, what in (
            ("--chain-id", "--genesis", "chain id and genesis hash"),
            ("--registry", "--trust-registry", "AnchorRegistry and TrustRegistry"),
        ):
            if flags[_DEST[changed]] is not None and flags[_DEST[kept]] is None:
                raise UsageError(
                    f"{changed} replaces one of the trust root's pins that go together "
                    f"({what}): give {kept} too, or neither"
                )
    pinned: dict[str, Any] = {"min_depth": 1}
    if root is not None:
        pinned = {
            "chain_id": root.chain_id,
            "registry": root.anchor_registry,
            "trust_registry": root.trust_registry,
            "min_depth": root.min_depth,
            "code_hash": root.anchor_code_hash,
            "trust_code_hash": root.trust_code_hash,
            "genesis": root.genesis_hash,
            "service_key_id": root.service_key_id,
        }
    value: dict[str, Any] = {
        dest: flag if flag is not None else pinned.get(dest) for dest, flag in flags.items()
    }
    endpoints = tuple(rpc) if rpc else (root.rpc if root is not None else ())
    missing = [
        option
        for option, given in (
            ("--rpc", endpoints),
            ("--chain-id", value["chain_id"]),
            ("--registry", value["registry"]),
        )
        if not given
    ]
    if missing:
        raise UsageError(
            f"no {', '.join(missing)} given: pass --trust-root FILE, or --rpc, --chain-id and "
            "--registry"
        )
    if value["chain_id"] < 1:
        raise UsageError(f"--chain-id must be a positive integer, got {value['chain_id']}")
    if value["min_depth"] < 1:
        raise UsageError(f"--min-depth must be at least 1, got {value['min_depth']}")
    for url in endpoints:
        if not url.startswith(("http://", "https://")):
            raise UsageError(f"--rpc {url!r} is not an http(s) URL")
    service_key_id = value["service_key_id"]
    if service_key_id is not None and (
        len(service_key_id) != 64 or service_key_id.strip("0123456789abcdef")
    ):
        raise UsageError(
            f"--service-key-id must be 64 lowercase hex characters, got {service_key_id!r}"
        )
    try:
        anchor = parse_address(value["registry"], "--registry")
        trust = value["trust_registry"]
        trust = parse_address(trust, "--trust-registry") if trust is not None else None
    except LedgerError as exc:
        raise UsageError(exc.message) from None
    return Pins(
        chain_id=value["chain_id"],
        anchor_registry=anchor,
        trust_registry=trust,
        min_depth=value["min_depth"],
        anchor_code_hash=_hash_option(value["code_hash"], "--code-hash"),
        trust_code_hash=_hash_option(value["trust_code_hash"], "--trust-code-hash"),
        service_key_id=service_key_id,
        genesis_hash=_hash_option(value["genesis"], "--genesis"),
        rpc=endpoints,
        trust_root_sha256=root_sha256,
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


def run_verification(
    args: argparse.Namespace, pins: Pins, *, data: bytes | None = None
) -> tuple[Verification, ProvenReader]:
    """Verify the bundle (``data``, or ``args.file`` read once here) with the local files;
    returns (verification, reader). A caller that acts on the bundle afterwards reads it
    first and passes ``data``, so that it acts on exactly the bytes verified."""
    from verifier.checks import verify_bundle
    from verifier.documents import file_sha256
    from verifier.proven import ProvenReader

    jobs = getattr(args, "jobs", 1)
    if jobs < 1:
        raise UsageError(f"--jobs must be at least 1, got {jobs}")
    if data is None:
        data = read_bounded(args.file)
    files = []
    for path in getattr(args, "files", []):
        if not path.is_file():
            raise UsageError(f"--file {path}: not a readable regular file")
        try:
            files.append((path.name, file_sha256(path)))
        except OSError as exc:
            raise UsageError(f"--file {path}: {exc.strerror or exc}") from None
    reader = ProvenReader.from_urls(
        pins.rpc,
        anchor_registry=pins.anchor_registry,
        timeout_s=args.timeout,
        anchor_code_hash=pins.anchor_code_hash,
        trust_code_hash=pins.trust_code_hash,
    )
    verification = verify_bundle(
        data, reader=reader, pins=pins, files=files, progress=_progress(), jobs=jobs
    )
    return verification, reader
