"""What ``carbon-verify --version`` says: this build's version and the formats it reads
and writes, so an auditor can tell at once whether a bundle is one this verifier knows."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from verifier import __version__

__all__ = ["VersionAction", "formats_read", "formats_written", "version_text"]


def formats_read() -> list[str]:
    from ledger.core.bundle import BUNDLE_FORMAT
    from ledger.core.calc.arithmetic import CALC_VERSION
    from ledger.core.commitment import DIGEST_DOMAIN
    from ledger.core.merkle import MANIFEST_FORMAT
    from ledger.core.receipt import RECEIPT_FORMAT
    from ledger.core.records import SCHEMA_VERSIONS
    from ledger.core.signature import SIGNATURE_DOMAIN

    def tag(domain: bytes) -> str:  # the domain strings end in their 0x00 separator
        return domain[:-1].decode("ascii")

    return [
        BUNDLE_FORMAT,
        f"record digest {tag(DIGEST_DOMAIN)}",
        f"signature {tag(SIGNATURE_DOMAIN)} (Ed25519)",
        MANIFEST_FORMAT,
        RECEIPT_FORMAT,
        CALC_VERSION,
        "records " + " ".join(f"{t}/{'+'.join(v)}" for t, v in sorted(SCHEMA_VERSIONS.items())),
    ]


def formats_written() -> list[str]:
    from verifier.attest import ATTESTATION_REPORT_FORMAT
    from verifier.report import REPORT_FORMAT

    return [REPORT_FORMAT, ATTESTATION_REPORT_FORMAT]


def version_text() -> str:
    return (
        f"carbon-verify {__version__}\n"
        f"reads: {', '.join(formats_read())}\n"
        f"writes: {', '.join(formats_written())}"
    )


class VersionAction(argparse.Action):
    """``--version``: print :func:`version_text` as it is (argparse's own action re-wraps
    it into one paragraph) on stdout and exit 0."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> None:
        sys.stdout.write(version_text() + "\n")
        parser.exit(0)
