"""The verifier against a real chain: a seeded campaign of single-byte mutations of the
demo bundle, a valid proof moved to another record, wrong pins, and a dead RPC.

The campaign runs ``carbon-verify``'s ``main([...])`` in-process. Its chain reads go through
one real ``ProvenReader`` shared by all runs (the reader keeps what it proved; the chain
does not change during the campaign), so a run costs the offline checks only; the exit
codes are those of the command line.
"""

from __future__ import annotations

import json
import random
import socket
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ledger.core.canonical import canonicalize
from tests.e2e.conftest import DemoRun
from verifier import proven as verifier_proven
from verifier.cli import main as verify_main

pytestmark = [pytest.mark.anvil, pytest.mark.slow]

SEED = 20261121
MUTATIONS = 1000


@pytest.fixture
def shared_reader(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    original = verifier_proven.ProvenReader.from_urls.__func__  # type: ignore[attr-defined]
    readers: dict[tuple[tuple[str, ...], str], Any] = {}

    def from_urls(cls: Any, urls: Any, **kwargs: Any) -> Any:
        key = (tuple(urls), kwargs["anchor_registry"])
        if key not in readers:
            readers[key] = original(cls, urls, **kwargs)
        return readers[key]

    monkeypatch.setattr(verifier_proven.ProvenReader, "from_urls", classmethod(from_urls))
    yield


def _verify(path: Path, pins: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = verify_main(["bundle", str(path), *pins])
    return code, capsys.readouterr().out


def _promises_span(bundle: bytes) -> tuple[int, int]:
    """Where the receipts and the service key lie in the canonical bundle (JCS sorts the
    members, so they are the last two): the service's signed promises (check 13)."""
    start = bundle.index(b',"receipts":[')
    assert bundle.index(b',"service":{') > start and bundle.endswith(b"}}")
    return start, len(bundle) - 1


def _campaign(
    original: bytes,
    positions: list[int],
    rng: random.Random,
    path: Path,
    pins: list[str],
    capsys: pytest.CaptureFixture[str],
) -> tuple[Counter[int], list[tuple[int, str, int, int]]]:
    outcomes: Counter[int] = Counter()
    accepted = []
    for pos in positions:
        value = rng.randrange(255)
        value += value >= original[pos]  # any byte but the original one
        path.write_bytes(original[:pos] + bytes([value]) + original[pos + 1 :])
        code, _ = _verify(path, pins, capsys)
        outcomes[code] += 1
        if code not in (1, 2):  # FAIL or unreadable; never PASS, never "could not tell"
            accepted.append((pos, chr(original[pos]), value, code))
    return outcomes, accepted


def test_single_byte_mutations_are_all_rejected(
    demo_service: DemoRun,
    tmp_path: Path,
    shared_reader: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """1,000 seeded single-byte mutations anywhere in the bundle: each one is FAIL (1) or
    unreadable (2), never PASS and never "could not tell"."""
    original = demo_service.bundle.read_bytes()
    pins = demo_service.pins()
    assert _verify(demo_service.bundle, pins, capsys)[0] == 0
    rng = random.Random(SEED)
    positions = [rng.randrange(len(original)) for _ in range(MUTATIONS)]
    outcomes, accepted = _campaign(original, positions, rng, tmp_path / "m.json", pins, capsys)
    assert accepted == [], f"mutations not rejected (pos, was, now, exit): {accepted[:20]}"
    assert sum(outcomes.values()) == MUTATIONS and outcomes[1] > 0 and outcomes[2] > 0
    with capsys.disabled():
        print(f"\nexit codes of {MUTATIONS} mutations: {dict(sorted(outcomes.items()))}")


def test_single_byte_mutations_of_receipts_are_rejected(
    demo_service: DemoRun,
    tmp_path: Path,
    shared_reader: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The receipts and the service key are a small part of a bundle, so random positions
    seldom hit them: 200 more mutations aimed there, every one rejected."""
    original = demo_service.bundle.read_bytes()
    start, end = _promises_span(original)
    rng = random.Random(SEED + 1)
    positions = [rng.randrange(start, end) for _ in range(200)]
    _, accepted = _campaign(
        original, positions, rng, tmp_path / "r.json", demo_service.pins(), capsys
    )
    assert accepted == [], f"receipt mutations not rejected: {accepted[:20]}"


def _rewrite(original: bytes, path: Path, change: Any) -> Path:
    bundle = json.loads(original)
    change(bundle)
    path.write_bytes(canonicalize(bundle))
    return path


def test_proof_for_other_record(
    demo_service: DemoRun, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def swap(bundle: dict[str, Any]) -> None:
        items = bundle["items"]
        assert items[0]["proof"] != items[1]["proof"]
        items[0]["proof"] = items[1]["proof"]

    path = _rewrite(demo_service.bundle.read_bytes(), tmp_path / "b.json", swap)
    code, out = _verify(path, demo_service.pins(), capsys)
    assert code == 1, out
    assert any(ln.split()[:1] == ["6"] and "FAIL" in ln for ln in out.splitlines()), out


def _pins_with(run: DemoRun, option: str, value: str) -> list[str]:
    pins = run.pins()
    pins[pins.index(option) + 1] = value
    return pins


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--chain-id", "1"),
        ("--registry", "0x000000000000000000000000000000000000dEaD"),
        ("--trust-registry", "0x000000000000000000000000000000000000dEaD"),
    ],
    ids=["bundle_wrong_chain_id", "bundle_wrong_registry", "bundle_wrong_trust_registry"],
)
def test_wrong_pins_fail(
    demo_service: DemoRun,
    capsys: pytest.CaptureFixture[str],
    option: str,
    value: str,
) -> None:
    pins = _pins_with(demo_service, option, value)
    code = verify_main(["bundle", str(demo_service.bundle), *pins])
    out = capsys.readouterr().out
    assert code == 1, out
    assert "VERIFIED" not in out


def test_rpc_down_is_indeterminate_not_pass(demo_service: DemoRun) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    pins = _pins_with(demo_service, "--rpc", dead)
    argv = [sys.executable, "-c", "import sys; from verifier.cli import main; sys.exit(main())",
            "bundle", str(demo_service.bundle), *pins]  # fmt: skip
    result = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert result.returncode == 3, result.stdout + result.stderr
    assert "VERIFIED" not in result.stdout
