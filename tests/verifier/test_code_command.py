"""``carbon-verify code PAYLOAD --bundle FILE``: a scanned carbon-efficiency code checked
offline against an evidence bundle (docs/VERIFY.md §6.3), end to end through ``main([...])``
against a real anvil: the example plant's evaluation anchored, its code matching; the code
of another evaluation, a code whose digest was altered, a code naming another record's id,
a code pointing at a record that is not an evaluation, and a malformed payload refused.
Every ``--json`` report validates against docs/verify-report.schema.json."""

from __future__ import annotations

import contextlib
import copy
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

from anchoring.chain import DevChain
from ledger.core.efficiency_code import efficiency_code_payload
from ledger.core.view import commit
from ledger.examples import efficiency as ex
from tests.verifier.support import Ledger, build_efficiency_ledger, seeded_salts
from verifier.cli import main

pytestmark = pytest.mark.anvil

ROOT = Path(__file__).resolve().parents[2]
VALIDATOR = jsonschema_rs.Draft202012Validator(
    json.loads((ROOT / "docs" / "verify-report.schema.json").read_text("utf-8"))
)
PAGES = "https://ledger.example.com"


@pytest.fixture(scope="module")
def ledger(
    artifacts: dict[str, Any], anvil_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Ledger]:
    chain = DevChain.start(data_dir=tmp_path_factory.mktemp("anvil"), anvil_path=anvil_path)
    try:
        yield build_efficiency_ledger(chain, artifacts)
    finally:
        chain.stop()


@pytest.fixture(scope="module")
def bundle_file(ledger: Ledger, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("code") / "bundle.json"
    path.write_bytes(ledger.bundle_bytes([ex.EVALUATION]))
    return path


def run(ledger: Ledger, payload: str, bundle: Path, *extra: str) -> tuple[int, Any, str]:
    out, err = io.StringIO(), io.StringIO()
    argv = ["code", payload, "--bundle", str(bundle), "--rpc", str(ledger.chain.rpc_url),
            "--chain-id", str(ledger.chain.chain_id), "--registry", ledger.anchor_address,
            *extra]  # fmt: skip
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    assert "Traceback" not in err.getvalue()
    if "--json" not in extra:
        return code, out.getvalue(), err.getvalue()
    report = json.loads(out.getvalue())
    errors = [f"{e.instance_path}: {e.message}" for e in VALIDATOR.iter_errors(report)]
    assert errors == [], errors
    assert report["exit_code"] == code
    return code, report, err.getvalue()


def payload_of(ledger: Ledger, record_id: str, digest_hex: str | None = None) -> str:
    return efficiency_code_payload(
        PAGES, record_id, digest_hex or ledger.commitments[record_id].digest_hex
    )


def test_the_evaluations_code_matches(ledger: Ledger, bundle_file: Path) -> None:
    code, report, _ = run(ledger, payload_of(ledger, ex.EVALUATION), bundle_file, "--json")
    assert code == 0 and report["result"] == "verified"
    section = report["efficiency_code"]
    assert section == {
        "page_url": payload_of(ledger, ex.EVALUATION),
        "record_id": ex.EVALUATION,
        "digest": ledger.commitments[ex.EVALUATION].digest_hex,
        "subject": "items[0]",
        "matches": True,
        "problems": [],
    }
    code, table, _ = run(ledger, payload_of(ledger, ex.EVALUATION), bundle_file)
    assert code == 0
    assert f"carbon-efficiency code: MATCHES items[0] {ex.EVALUATION}" in table


def test_the_code_of_another_evaluation_fails(ledger: Ledger, bundle_file: Path) -> None:
    """Another period's evaluation of the plant (another id, another digest): the bundle
    does not carry it, whatever the page it opens says."""
    other = copy.deepcopy(ledger.commitments[ex.EVALUATION].record)
    other["id"] = ex.EVALUATION + "-2027"
    digest = commit(other, salt_source=seeded_salts(other["id"])).digest_hex
    code, report, _ = run(ledger, payload_of(ledger, other["id"], digest), bundle_file, "--json")
    assert code == 1 and report["result"] == "failed"
    section = report["efficiency_code"]
    assert section["matches"] is False and section["subject"] is None
    assert section["problems"] == [
        f"no record of the bundle has the code's digest {digest}: the bundle does not carry "
        f"the evaluation the code names ({other['id']})"
    ]


def test_an_altered_digest_fails(ledger: Ledger, bundle_file: Path) -> None:
    true_digest = ledger.commitments[ex.EVALUATION].digest_hex
    altered = true_digest[:10] + ("0" if true_digest[10] != "0" else "1") + true_digest[11:]
    code, table, _ = run(ledger, payload_of(ledger, ex.EVALUATION, altered), bundle_file)
    assert code == 1
    assert "carbon-efficiency code: DOES NOT MATCH (exit 1)" in table
    # The verdict line says so too, never "VERIFIED" above a code that does not match.
    assert (
        "result: FAILED: every check passed, but the carbon-efficiency code does not match "
        "the bundle (exit 1)"
    ) in table
    assert (
        f"the bundle's {ex.EVALUATION} (items[0]) has digest {true_digest}, the code says "
        f"{altered}: the code was altered or is of another evaluation"
    ) in table


def test_a_code_naming_another_id_for_the_digest_fails(ledger: Ledger, bundle_file: Path) -> None:
    """The page URL names another evaluation than the record the digest is of."""
    digest = ledger.commitments[ex.EVALUATION].digest_hex
    named = ex.EVALUATION + "-elsewhere"
    code, report, _ = run(ledger, payload_of(ledger, named, digest), bundle_file, "--json")
    assert code == 1
    assert report["efficiency_code"]["problems"] == [
        f"the code's page names {named}, but the record with its digest (items[0]) is "
        f"{ex.EVALUATION}"
    ]


def test_a_code_of_a_record_that_is_no_evaluation_fails(ledger: Ledger, bundle_file: Path) -> None:
    """A well-formed code carrying the digest of one of the evaluation's meter readings."""
    reading = next(i for i, c in ledger.commitments.items() if c.record["type"] == "meter-reading")
    code, report, _ = run(ledger, payload_of(ledger, reading), bundle_file, "--json")
    assert code == 1
    (problem,) = report["efficiency_code"]["problems"]
    subject = report["efficiency_code"]["subject"]
    assert subject.startswith("closure[")
    assert problem == (
        f"{subject}, the record with the code's digest, is a meter-reading, not a "
        "carbon-efficiency evaluation"
    )


@pytest.mark.parametrize(
    "payload",
    [
        "https://ledger.example.com/efficiency?digest=00&id=x",
        "not a url",
        "https://ledger.example.com/efficiency?id=urn:carbonledger:carbon-efficiency:x"
        "&digest=" + "A" * 64,
    ],
    ids=["wrong_query", "not_a_url", "uppercase_digest"],
)
def test_a_malformed_payload_is_exit_2(ledger: Ledger, bundle_file: Path, payload: str) -> None:
    code, report, err = run(ledger, payload, bundle_file, "--json")
    assert code == 2 and report["result"] == "unreadable"
    assert report["error"].startswith("PAYLOAD: ")
    assert err.count("\n") == 1 and err.startswith("carbon-verify: PAYLOAD: ")
