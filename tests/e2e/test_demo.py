"""``make run``'s command path: ``carbonledger up --demo`` ends (exit 0) with a
``carbon-verify`` command that, pasted as printed, verifies the bundle against the chain."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from ledger.core.bundle import parse_bundle
from ledger.core.efficiency_code import parse_efficiency_code
from ledger.core.view import reconstruct
from ledger.examples import efficiency as ex
from tests.conftest import REPO_ROOT
from tests.e2e.conftest import (
    DemoRun,
    carbonledger,
    processes_mentioning,
    run_demo,
    service_state,
    stop_and_check,
)
from tests.support.qr import scan_qr
from verifier.cli import main as verify_main

pytestmark = [pytest.mark.anvil, pytest.mark.slow]


def printed_command(stdout: str, program: str) -> list[str]:
    """The command line the demo printed for ``program`` (the one line naming it)."""
    lines = [ln.strip() for ln in stdout.splitlines() if re.search(rf"\b{program} ", ln)]
    assert len(lines) == 1, stdout
    return shlex.split(lines[0])


def test_up_demo_ends_with_a_verify_command_that_passes(demo_service: DemoRun) -> None:
    out = demo_service.result.stdout
    argv = printed_command(out, "carbon-verify")
    assert shlex.split(out.strip().splitlines()[-1]) == argv, "the verify command comes last"
    trust_root = demo_service.data_dir / "trust-root.json"
    # The short command: every pin is in the trust root the deployment wrote.
    assert argv[1:] == ["bundle", str(demo_service.bundle), "--trust-root", str(trust_root)]
    pins = json.loads(trust_root.read_text())
    assert pins["format"] == "carbonledger-trust-root/1" and pins["chain_id"] == 31337
    assert pins["anchor_registry"]["address"] == demo_service.state["anchor_registry"]
    # Executed exactly as printed, from where `make run` runs, as the reader would paste it.
    pasted = subprocess.run(argv, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert pasted.returncode == 0, pasted.stdout + pasted.stderr
    assert "result: VERIFIED" in pasted.stdout
    # The registries' code is pinned too, so the code check passes rather than skips.
    assert re.search(r"^ +3 +registry code +PASS", pasted.stdout, re.M), pasted.stdout
    assert printed_command(out, "carbonledger")[1:] == [
        "down", "--data-dir", str(demo_service.data_dir)
    ]  # fmt: skip


def test_up_demo_prints_the_pages_and_a_regulator_key_that_signs_in(
    demo_service: DemoRun,
) -> None:
    out = demo_service.result.stdout
    pages = re.search(r"^ *pages +(http://\S+/)$", out, re.M)
    key = re.search(r"^ *regulator key +(clk_\S+) ", out, re.M)
    assert pages and key, out
    with httpx.Client(base_url=pages.group(1), timeout=30) as browser:
        form = browser.get("/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert form.status_code == 200 and csrf
        signed = browser.post("/login", data={"csrf": csrf.group(1), "api_key": key.group(1)})
        assert signed.status_code == 303
        home = browser.get("/")
        assert "demo-regulator" in home.text and 'id="signed-in"' in home.text


def test_the_scenario_is_complete(
    demo_service: DemoRun, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = parse_bundle(demo_service.bundle.read_bytes(), require_canonical=True)
    records = {str(r["id"]): r for r in (reconstruct(i.view) for i in bundle.items)}
    assert Counter(r["type"] for r in records.values()) == {
        "factor-set": 6, "region-rule": 3, "rating-rule": 1, "carbon-record": 3,
        "bim-archive": 8, "factor-substitution": 3, "credit-change": 3,
    }  # fmt: skip
    tank_v2 = records["urn:carbonledger:carbon-record:st-tk-0101-2025-v2"]
    supersedes = [r for r in tank_v2["refs"] if r["rel"] == "supersedes"]
    assert supersedes[0]["id"] == "urn:carbonledger:carbon-record:st-tk-0101-2025-v1"
    hx = records["urn:carbonledger:carbon-record:ti-hx-0042-2025-v1"]
    assert set(hx["body"]["totals"]["by_stage"]) == {
        "raw_material", "manufacturing_surface_treatment", "transport",
        "operation_maintenance", "end_of_life",
    }  # fmt: skip
    changes = sorted(
        (r for r in records.values() if r["type"] == "credit-change"), key=lambda r: r["issued_at"]
    )
    assert [(c["body"]["previous_grade"], c["body"]["grade"]) for c in changes] == [
        (None, "A"),
        ("A", "AA"),
        ("AA", "A"),
    ]
    assert changes[2]["body"]["reason"]["code"] == "violation-found"
    # Each names the rating it follows, so its previous grade is checked from the bundle.
    assert [[r["id"] for r in c["refs"] if r["rel"] == "previous"] for c in changes] == [
        [],
        [changes[0]["id"]],
        [changes[1]["id"]],
    ]
    events = {r["body"]["event"]["kind"] for r in records.values() if r["type"] == "bim-archive"}
    assert {"manufacture", "anti_corrosion_treatment", "transport", "installation",
            "inspection", "maintenance"} <= events  # fmt: skip
    # The archive documents the demo wrote are found by their hashes (check 12).
    docs = sorted((demo_service.data_dir / "demo" / "documents").iterdir())
    files = [arg for doc in docs[:3] for arg in ("--file", str(doc))]
    code = verify_main(["bundle", str(demo_service.bundle), *demo_service.pins(), *files, "--json"])
    out = capsys.readouterr().out
    assert code == 0, out
    statuses: dict[int, set[str]] = {}
    for check in json.loads(out)["checks"]:
        statuses.setdefault(check["number"], set()).add(check["status"])
    assert statuses[11] == {"PASS"}  # every record attested by the accredited body
    assert statuses[12] == {"PASS"}


def test_up_demo_twice_reuses_the_running_service(demo_service: DemoRun) -> None:
    first = parse_bundle(demo_service.bundle.read_bytes())
    again = run_demo(demo_service.data_dir)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "reusing the service already running" in again.stderr
    assert service_state(demo_service.data_dir)["pid"] == demo_service.state["pid"]
    assert "filed earlier" in again.stdout  # the attestation is not filed twice
    second = parse_bundle(demo_service.bundle.read_bytes())
    assert {i.digest for i in first.items} <= {i.digest for i in second.items}


#: The carbon-efficiency part, submitted after the first run exported its bundle (a second
#: run's bundle holds it too).
EFFICIENCY_TYPES = {
    "meter-reading", "metadata-template", "industry-benchmark", "efficiency-grading-rule",
    "carbon-efficiency",
}  # fmt: skip


def _scenario(path: Path) -> tuple[set[bytes], set[int]]:
    """The digests and batch seqs of the scenario's records in the bundle at ``path``."""
    bundle = parse_bundle(path.read_bytes())
    items = [i for i in bundle.items if reconstruct(i.view)["type"] not in EFFICIENCY_TYPES]
    return {i.digest for i in items}, {i.batch_seq for i in items}


def _code_url(stdout: str) -> str:
    (url,) = [ln.strip() for ln in stdout.splitlines() if "/efficiency?id=" in ln]
    return url


def test_make_run_after_down_reuses_chain_deployment_and_store(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = run_demo(data)
    pids = [service_state(data)[k] for k in ("pid", "chain_pid")] if first.returncode == 0 else []
    try:
        assert first.returncode == 0, first.stdout + first.stderr
        deployment = json.loads((data / "deployment.json").read_text())
        digests, batches = _scenario(data / "demo/bundle.json")
        code = parse_efficiency_code(_code_url(first.stdout))
    finally:
        stop_and_check(data, pids)
    assert not (data / "service-running.json").exists()
    assert processes_mentioning(data) == []
    second = run_demo(data)
    pids = [service_state(data)[k] for k in ("pid", "chain_pid")] if second.returncode == 0 else []
    try:
        assert second.returncode == 0, second.stdout + second.stderr
        assert "starting the service in the background" in second.stderr
        assert json.loads((data / "deployment.json").read_text()) == deployment
        # Nothing submitted twice and nothing anchored again: the scenario's records, and
        # the evaluation (its code names the same digest; the port may differ).
        assert _scenario(data / "demo/bundle.json") == (digests, batches)
        again = parse_efficiency_code(_code_url(second.stdout))
        assert (again.record_id, again.digest_hex) == (code.record_id, code.digest_hex)
        argv = printed_command(second.stdout, "carbon-verify")
        pasted = subprocess.run(argv, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
        assert pasted.returncode == 0, pasted.stdout + pasted.stderr
    finally:
        stop_and_check(data, pids)
    status = carbonledger("down", "--data-dir", str(data))
    assert status.returncode == 0 and "no service is running" in status.stdout
    # A store that lost its batches under a kept chain is refused at start-up: its next
    # batch could never be anchored (the contract wants exactly the next seq).
    for stale in data.glob("ledger.sqlite3*"):
        stale.unlink()
    refused = carbonledger("up", "--serve", "--data-dir", str(data), "--api-port", "0")
    assert refused.returncode == 1, refused.stderr
    assert "but the store in" in refused.stderr and "knows 0" in refused.stderr
    assert not (data / "service-running.json").exists()
    assert processes_mentioning(data) == []


def test_a_rerun_over_a_ledger_holding_a_failing_record_exports_only_its_own(
    demo_service: DemoRun, tmp_path: Path
) -> None:
    """The defect: the demo exported the first 200 records of the whole ledger, so once any
    record anywhere failed verification, ``make run`` exited 1 and stopped the service. Here
    another producer's record is accepted with a key the TrustRegistry never registered (it
    fails carbon-verify), and the demo runs again over that ledger."""
    from datetime import UTC, datetime

    import httpx

    from ledger.core.signature import public_key_bytes
    from ledger.store import Store, sqlite_url
    from ledger.store.access import add_principal, issue_api_key
    from ledger.store.models import Producer
    from ledger.store.producers import add_producer, add_producer_key
    from tests.support import ledgerdata

    data, state = demo_service.data_dir, demo_service.state
    store = Store.open(sqlite_url(data))
    try:
        with store.transaction() as session:
            since = datetime(2025, 1, 1, tzinfo=UTC)
            if session.get(Producer, ledgerdata.PRODUCER) is None:  # the demo's desk, likely
                add_producer(session, ledgerdata.PRODUCER, created_at=since)
            add_producer_key(
                session,
                producer=ledgerdata.PRODUCER,
                public_key_hex=public_key_bytes(ledgerdata.PRODUCER_KEY).hex(),
                valid_from=since,
                record_types=["rating-rule"],
            )
            add_principal(
                session, "stray", role="producer", producer=ledgerdata.PRODUCER,
                record_types=["rating-rule"], created_at=since,
            )  # fmt: skip
            token = issue_api_key(session, "stray", created_at=since).token
    finally:
        store.close()
    stray = ledgerdata.record_id("stray", 1)
    answer = httpx.post(
        f"{state['api_url']}/v1/records",
        content=ledgerdata.submission(stray),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                 "Idempotency-Key": stray},
    )  # fmt: skip
    assert answer.status_code == 201, answer.text
    again = run_demo(data)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "reused" in again.stdout and "records stored earlier" in again.stdout
    bundle = parse_bundle(demo_service.bundle.read_bytes())
    demo_ids = {str(reconstruct(i.view)["id"]) for i in bundle.items}
    assert stray not in demo_ids
    first = parse_bundle(demo_service.bundle.read_bytes())
    assert len(first.items) == len(demo_ids)
    # The whole-ledger export the demo used to make does hold the stray record, and fails.
    for _ in range(240):
        status = httpx.get(f"{state['api_url']}/v1/record/status", params={"id": stray}).json()
        if status["anchoring"] == "anchored":
            break
        time.sleep(0.5)
    whole = httpx.get(f"{state['api_url']}/v1/bundles", params={"limit": 200}, timeout=60)
    (tmp_path / "whole.json").write_bytes(whole.content)
    assert stray in whole.text
    pins = demo_service.pins()
    assert verify_main(["bundle", str(tmp_path / "whole.json"), *pins]) != 0
    assert verify_main(["bundle", str(demo_service.bundle), *pins]) == 0


def test_the_demo_prints_the_carbon_efficiency_code_page(demo_service: DemoRun) -> None:
    """The maker's plant: three terminals, a month of signed hourly readings, the evaluation,
    its report and code; the printed page URL opens the evaluation page of the running
    service, and the code on disk scans back to the same URL."""
    out = demo_service.result.stdout
    urls = [_code_url(out)]
    code = parse_efficiency_code(urls[0])
    assert code.record_id == ex.EVALUATION
    assert f"from {3 * 24 * 31} terminal-signed hourly readings" in out
    page = httpx.get(urls[0], timeout=30)
    assert page.status_code == 200, page.text
    assert "企业碳效码" in page.text and "Enterprise carbon-efficiency code" in page.text
    files = demo_service.data_dir / "demo" / "efficiency"
    assert scan_qr((files / "carbon-efficiency-code.svg").read_text()) == [urls[0]]
    assert (files / "carbon-efficiency-report.pdf").read_bytes().startswith(b"%PDF-")
    evaluation = files / "evaluation-bundle.json"
    argv = ["bundle", str(evaluation), *demo_service.pins()]
    assert verify_main(argv) == 0
