"""``carbon-verify bundle --jobs N`` (docs/VERIFY.md §3): the records checked in N forked
processes after the chain facts are proven once in the parent give the report one process
gives, byte for byte (``--json``, an injected clock), on a good bundle and on tampered
ones, with the same exit code; the workers really ran (``map_slices`` returned their
checks)."""

from __future__ import annotations

import contextlib
import dataclasses
import io
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ledger.core.bundle import serialize_bundle
from ledger.core.signature import private_key_from_seed, sign_digest
from tests.verifier.support import Ledger
from verifier import checks
from verifier.cli import main

pytestmark = pytest.mark.anvil

CHECKED_AT = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def fixed_clock() -> datetime:
    return CHECKED_AT


def good(ledger: Ledger) -> bytes:
    return ledger.bundle_bytes()


def bad_signature(ledger: Ledger) -> bytes:
    """items[1] signed by a key nobody registered: check 5 fails for it alone."""
    bundle = ledger.bundle()
    stray = private_key_from_seed(b"\x09" * 32)
    items = list(bundle.items)
    items[1] = dataclasses.replace(items[1], signature=sign_digest(stray, items[1].digest))
    return serialize_bundle(dataclasses.replace(bundle, items=tuple(items)))


def swapped_views(ledger: Ledger) -> bytes:
    """items[0] and items[2] carry each other's view: checks 4, 9 and 10 fail for both."""
    bundle = ledger.bundle()
    items = list(bundle.items)
    items[0], items[2] = (
        dataclasses.replace(items[0], view=items[2].view),
        dataclasses.replace(items[2], view=items[0].view),
    )
    return serialize_bundle(dataclasses.replace(bundle, items=tuple(items)))


def run(ledger: Ledger, path: Path, jobs: int) -> tuple[int, str]:
    out = io.StringIO()
    argv = ["bundle", str(path), "--rpc", str(ledger.chain.rpc_url), "--chain-id",
            str(ledger.chain.chain_id), "--registry", ledger.anchor_address, "--json",
            "--jobs", str(jobs)]  # fmt: skip
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = main(argv, clock=fixed_clock)
    return code, out.getvalue()


@pytest.mark.parametrize(
    ("make", "exit_code"),
    [(good, 0), (bad_signature, 1), (swapped_views, 1)],
    ids=["good", "bad_signature", "swapped_views"],
)
def test_two_jobs_write_the_report_one_job_writes(
    anvil_ledger: Ledger,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    make: Callable[[Ledger], bytes],
    exit_code: int,
) -> None:
    path = tmp_path / "bundle.json"
    path.write_bytes(make(anvil_ledger))
    in_processes: list[int] = []
    real = checks.map_slices

    def counted(*args: Any, **kw: Any) -> Any:
        result = real(*args, **kw)
        in_processes.append(-1 if result is None else len(result))
        return result

    monkeypatch.setattr(checks, "map_slices", counted)
    one = run(anvil_ledger, path, 1)
    assert in_processes == []  # one job: no workers asked for
    two = run(anvil_ledger, path, 2)
    assert len(in_processes) == 1 and in_processes[0] > 0, "the workers did not run"
    assert one[0] == exit_code
    assert two == one


def test_jobs_must_be_positive(
    anvil_ledger: Ledger, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bundle.json"
    path.write_bytes(good(anvil_ledger))
    code, out = run(anvil_ledger, path, 0)
    assert code == 2 and '"error": "--jobs must be at least 1, got 0"' in out
