"""The JSON report (``carbonledger-verify-report/1``) against its published JSON Schema
(docs/verify-report.schema.json, shipped in the carbon-verify wheel), on every exit path:
0 verified, 1 failed, 2 unreadable or a usage error, 3 the RPC down, 4 not recomputed.
The validator is jsonschema-rs (Draft 2020-12); every run goes through ``main([...])``.
"""

from __future__ import annotations

import contextlib
import io
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from eth_utils import keccak

from ledger import examples
from tests.verifier.support import Ledger
from verifier.cli import main

pytestmark = pytest.mark.anvil

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "docs" / "verify-report.schema.json").read_text("utf-8"))
VALIDATOR = jsonschema_rs.Draft202012Validator(SCHEMA)


def run(argv: list[str]) -> tuple[int, dict[str, Any]]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = main(argv)
    report: dict[str, Any] = json.loads(out.getvalue())
    errors = [f"{e.instance_path}: {e.message}" for e in VALIDATOR.iter_errors(report)]
    assert errors == [], errors
    assert report["exit_code"] == code
    return code, report


def pins(ledger: Ledger, rpc: str | None = None) -> list[str]:
    return ["--rpc", rpc or str(ledger.chain.rpc_url), "--chain-id", str(ledger.chain.chain_id),
            "--registry", ledger.anchor_address, "--json"]  # fmt: skip


@pytest.fixture(scope="module")
def attested(anvil_ledger: Ledger) -> Iterator[Ledger]:
    """The ledger with one attestation filed on SUB_TANK_EU (check 11 carries details)."""
    chain, trust = anvil_ledger.chain, anvil_ledger.contract("TrustRegistry")
    body = chain.dev_accounts()[6]
    chain.transact(
        trust.functions.accreditBody(
            body.address, "Schema Test Body", "ISO 14064-3", "EU", 0, 2**40
        )
    )
    digest = anvil_ledger.commitments[examples.SUB_TANK_EU].digest
    chain.transact(trust.functions.attest(digest, keccak(b"report"), 1), sender=body)
    yield anvil_ledger


@pytest.fixture
def bundle(attested: Ledger, tmp_path: Path) -> Path:
    path = tmp_path / "bundle.json"
    path.write_bytes(attested.bundle_bytes())
    return path


def test_exit_0_carries_the_anchoring_transactions_and_the_attestations(
    attested: Ledger, bundle: Path
) -> None:
    code, report = run(["bundle", str(bundle), *pins(attested)])
    assert code == 0 and report["result"] == "verified"
    anchors = [c["details"] for c in report["checks"] if c["number"] == 7]
    assert anchors and all(a["tx_hash"].startswith("0x") and a["anchored_at"] for a in anchors)
    stated = {seq: h for seq, h in json.loads(bundle.read_bytes())["batches"].items()}
    for a in anchors:
        assert a["tx_hash"] == stated[str(a["batch_seq"])]["tx_hash"]
        assert a["block_number"] == stated[str(a["batch_seq"])]["block_number"]
    (filed,) = [c["details"] for c in report["checks"] if c["number"] == 11 and "details" in c]
    (one,) = filed["attestations"]
    assert one["name"] == "Schema Test Body" and one["verdict"] == 1
    assert one["report_digest"] == keccak(b"report").hex()


def test_exit_1_a_failed_check(attested: Ledger, bundle: Path) -> None:
    code, report = run(["bundle", str(bundle), *pins(attested), "--code-hash", "0x" + "ab" * 32])
    assert code == 1 and report["result"] == "failed"


@pytest.mark.parametrize(
    "case", ["missing file", "not json", "usage: no registry", "usage: two chain ids"]
)
def test_exit_2_unreadable_or_usage(attested: Ledger, tmp_path: Path, case: str) -> None:
    path = tmp_path / "bundle.json"
    argv = ["bundle", str(path), *pins(attested)]
    if case == "not json":
        path.write_bytes(b"{not json")
    elif case == "usage: no registry":
        path.write_bytes(b"{}")
        argv = ["bundle", str(path), "--rpc", str(attested.chain.rpc_url), "--json"]
    elif case == "usage: two chain ids":
        path.write_bytes(b"{}")
        argv += ["--chain-id", "1"]
    code, report = run(argv)
    assert code == 2 and report["result"] == "unreadable"
    assert report.get("error") or report["checks"][0]["status"] == "FAIL"


def test_exit_3_the_rpc_down(attested: Ledger, bundle: Path) -> None:
    with socket.socket() as s:  # a port nothing listens on: bound, never listening
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}"
        code, report = run(["bundle", str(bundle), *pins(attested, url)])
    assert code == 3 and report["result"] == "indeterminate"


def test_exit_4_figures_not_recomputed(attested: Ledger, tmp_path: Path) -> None:
    path = tmp_path / "public.json"
    path.write_bytes(attested.bundle_bytes(audience="public", closure_audience="public"))
    code, report = run(["bundle", str(path), *pins(attested)])
    assert code == 4 and report["result"] == "not-recomputed"


def test_the_schema_refuses_a_report_that_breaks_it() -> None:
    """The schema is not vacuous: a verified report with a FAIL exit code, a reason of two
    lines and an error report with checks are each refused."""
    base = {
        "format": "carbonledger-verify-report/1",
        "verifier": {"name": "carbon-verify", "version": "0.1.0"},
        "checked_at": "2026-12-03T13:00:00Z", "bundle": None, "pins": None,
        "head_block": None, "trust_registry": None, "result": "unreadable", "exit_code": 2,
        "summary": {"PASS": 0, "FAIL": 0, "SKIP": 0, "WARN": 0, "UNKNOWN": 0},
        "checks": [], "error": "no such file",
    }  # fmt: skip
    assert VALIDATOR.is_valid(base)
    check = {"number": 1, "name": "bundle format", "subject": "bundle", "status": "FAIL"}
    for bad in (
        {**base, "exit_code": 1},
        {**base, "checks": [{**check, "reason": "one"}]},
        {**base, "error": None},
        {**base, "error": "x", "bundle": {"sha256": "00" * 32, "records": 1}},
    ):
        assert not VALIDATOR.is_valid(bad), bad
    checks_only = {"$defs": SCHEMA["$defs"], "$ref": "#/$defs/check"}
    assert jsonschema_rs.Draft202012Validator(checks_only).is_valid({**check, "reason": "one"})
    assert not jsonschema_rs.Draft202012Validator(checks_only).is_valid(
        {**check, "reason": "two\nlines"}
    )
