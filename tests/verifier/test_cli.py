"""``carbon-verify`` end to end through ``main([...])`` against a real anvil over HTTP
JSON-RPC: exit codes, one-line errors (never a traceback), the JSON report, ``--file``,
and ``attest`` filing on-chain and writing the signed bilingual report."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from ledger import examples
from ledger.core.bundle import MAX_BUNDLE_BYTES
from tests.verifier.support import Ledger
from tests.verifier.test_report_schema import VALIDATOR
from verifier.attest import verify_report_signature
from verifier.chain import packaged_code_hash
from verifier.cli import main
from verifier.proven import ProvenReader

pytestmark = pytest.mark.anvil


def args_for(ledger: Ledger, path: Path, *extra: str, rpc: str | None = None) -> list[str]:
    return [
        "bundle",
        str(path),
        "--rpc",
        rpc or str(ledger.chain.rpc_url),
        "--chain-id",
        str(ledger.chain.chain_id),
        "--registry",
        ledger.anchor_address,
        "--trust-registry",
        ledger.trust_address,
        *extra,
    ]


@pytest.fixture
def bundle_file(anvil_ledger: Ledger, tmp_path: Path) -> Path:
    path = tmp_path / "bundle.json"
    path.write_bytes(anvil_ledger.bundle_bytes())
    return path


def _one_clean_line(err: str) -> None:
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err


def test_anchored_bundle_passes(
    anvil_ledger: Ledger, bundle_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code_hash = packaged_code_hash("AnchorRegistry")
    assert main(args_for(anvil_ledger, bundle_file, "--code-hash", code_hash)) == 0
    out = capsys.readouterr()
    assert "result: VERIFIED" in out.out and " 7  anchor on chain" in out.out
    assert out.err == ""


def test_json_report(
    anvil_ledger: Ledger, bundle_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(args_for(anvil_ledger, bundle_file, "--json")) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["format"] == "carbonledger-verify-report/1"
    assert report["result"] == "verified" and report["exit_code"] == 0
    assert report["bundle"]["sha256"] == hashlib.sha256(bundle_file.read_bytes()).hexdigest()
    assert report["pins"]["chain_id"] == anvil_ledger.chain.chain_id
    assert {c["number"] for c in report["checks"]} == {*range(1, 12), 13, 14}  # 12: with --file
    assert report["summary"]["FAIL"] == 0


def test_public_bundle_with_hidden_figures_is_exit_4(
    anvil_ledger: Ledger, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "public.json"
    path.write_bytes(anvil_ledger.bundle_bytes(audience="public", closure_audience="public"))
    assert main(args_for(anvil_ledger, path)) == 4
    out = capsys.readouterr().out
    assert "result: NOT RECOMPUTED" in out and "(exit 4)" in out and "VERIFIED" not in out
    assert "hides its scores by design" in out and "regulator's view" in out
    assert main(args_for(anvil_ledger, path, "--json")) == 4
    report = json.loads(capsys.readouterr().out)
    assert report["result"] == "not-recomputed" and report["exit_code"] == 4
    hidden = [c for c in report["checks"] if c.get("recomputed") is False]
    assert {c["record_id"] for c in hidden} >= {examples.CC_ENTERPRISE_2025, examples.SUB_TANK_EU}


def test_attest_refuses_conforms_for_figures_not_recomputed(
    anvil_ledger: Ledger, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "public.json"
    path.write_bytes(anvil_ledger.bundle_bytes([examples.CC_ENTERPRISE_2025], audience="public"))
    key = tmp_path / "body.key"
    key.write_text("0x" + bytes(anvil_ledger.chain.dev_accounts()[5].key).hex())
    args = args_for(anvil_ledger, path)
    args[0] = "attest"
    for verdict in ([], ["--verdict", "conforms"]):
        extra = ["--key-file", str(key), "--out-dir", str(tmp_path / "r"), *verdict]
        assert main([*args, *extra]) == 4
        assert "could not be recomputed" in capsys.readouterr().err
        assert not (tmp_path / "r").exists()


def test_wrong_chain_id_and_registry_fail(
    anvil_ledger: Ledger, bundle_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = args_for(anvil_ledger, bundle_file)
    wrong_chain = [*args]
    wrong_chain[wrong_chain.index("--chain-id") + 1] = "1"
    assert main(wrong_chain) == 1
    assert "FAIL" in capsys.readouterr().out
    wrong_registry = [*args]
    wrong_registry[wrong_registry.index("--registry") + 1] = anvil_ledger.trust_address
    assert main(wrong_registry) == 1


def test_issue_command_line_pins_the_trust_registry_through_the_anchor_registry(
    anvil_ledger: Ledger, bundle_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The auditor pins chain id and AnchorRegistry only; the TrustRegistry is the one the
    # AnchorRegistry was deployed with, read from the chain, never taken from the bundle.
    args = args_for(anvil_ledger, bundle_file)
    at = args.index("--trust-registry")
    del args[at : at + 2]
    assert main(args) == 0
    assert "result: VERIFIED" in capsys.readouterr().out


def test_second_trust_registry_pin_must_agree_with_the_link(
    anvil_ledger: Ledger, bundle_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = args_for(anvil_ledger, bundle_file)
    args[args.index("--trust-registry") + 1] = anvil_ledger.anchor_address
    assert main(args) == 1
    out = capsys.readouterr().out
    assert "is linked to" in out and anvil_ledger.trust_address in out


def test_rpc_down_is_exit_3(
    anvil_ledger: Ledger, bundle_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(args_for(anvil_ledger, bundle_file, rpc="http://127.0.0.1:9")) == 3
    out = capsys.readouterr()
    assert "INDETERMINATE" in out.out and "VERIFIED" not in out.out


class _Garbage(BaseHTTPRequestHandler):
    body = b"<html>502 Bad Gateway</html>"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


class _WrongTypes(_Garbage):
    body = b'{"jsonrpc":"2.0","id":0,"result":{"not":"a chain id"}}'


@pytest.fixture(params=[_Garbage, _WrongTypes], ids=["not_json", "wrong_result_type"])
def garbage_rpc(request: pytest.FixtureRequest) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), request.param)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_rpc_returning_garbage_is_exit_3(
    anvil_ledger: Ledger, bundle_file: Path, garbage_rpc: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(args_for(anvil_ledger, bundle_file, rpc=garbage_rpc)) == 3
    out = capsys.readouterr()
    assert "Traceback" not in out.err and "VERIFIED" not in out.out


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("truncated", None, "bundle"),
        ("wrong_media_type", b"PK\x03\x04\x14\x00\x00\x00\x08\x00", "not a readable bundle"),
        (
            "unknown_major_version",
            b'{"format":"carbonledger-bundle/7"}',
            "unsupported bundle version 7",
        ),
        ("empty", b"", "not a readable bundle"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    anvil_ledger: Ledger,
    bundle_file: Path,
    tmp_path: Path,
    name: str,
    content: bytes | None,
    message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / f"{name}.json"
    path.write_bytes(content if content is not None else bundle_file.read_bytes()[:5000])
    assert main(args_for(anvil_ledger, path)) == 2
    err = capsys.readouterr().err
    _one_clean_line(err)
    assert message in err


def test_two_gigabyte_bundle_refused_by_size(
    anvil_ledger: Ledger, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "huge.json"
    with path.open("wb") as fh:
        fh.truncate(2 << 30)  # sparse: no 2 GB are written
    assert main(args_for(anvil_ledger, path)) == 2
    err = capsys.readouterr().err
    _one_clean_line(err)
    assert "refused without reading it" in err


def test_missing_file_and_usage_errors(
    anvil_ledger: Ledger, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(args_for(anvil_ledger, tmp_path / "absent.json")) == 2
    _one_clean_line(capsys.readouterr().err)
    assert main(["bundle", "x.json"]) == 2  # the trust anchors are required
    assert "--rpc" in capsys.readouterr().err
    bad_addr = args_for(anvil_ledger, tmp_path / "absent.json")
    bad_addr[bad_addr.index("--registry") + 1] = "0x1234"
    assert main(bad_addr) == 2


def test_local_file_option(
    anvil_ledger: Ledger, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "archive.json"
    path.write_bytes(anvil_ledger.bundle_bytes([examples.BIM_TANK_INSPECTION]))
    doc = tmp_path / "inspection-report-2026-03.pdf"
    doc.write_bytes(b"inspection-report-2026-03.pdf")  # see examples.equipment.document_hash
    assert main(args_for(anvil_ledger, path, "--file", str(doc))) == 0
    assert "12  local file" in capsys.readouterr().out
    doc.write_bytes(b"a different report")
    assert main(args_for(anvil_ledger, path, "--file", str(doc))) == 1


def test_attest_files_on_chain_and_writes_signed_bilingual_report(
    anvil_ledger: Ledger, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    chain = anvil_ledger.chain
    body = chain.dev_accounts()[5]
    trust = anvil_ledger.contract("TrustRegistry")
    chain.transact(
        trust.functions.accreditBody(
            body.address, "检验认证 Example Verification Ltd", "ISO 14064-3", "EU,GB,CN", 0, 2**40
        )
    )
    path = tmp_path / "bundle.json"
    path.write_bytes(anvil_ledger.bundle_bytes([examples.SUB_TANK_UK]))
    key = tmp_path / "body.key"
    key.write_text("0x" + bytes(body.key).hex())
    out_dir = tmp_path / "report"
    args = args_for(anvil_ledger, path, "--json")
    args[0] = "attest"
    assert main([*args, "--key-file", str(key), "--out-dir", str(out_dir)]) == 0
    summary = json.loads(capsys.readouterr().out)
    report = json.loads((out_dir / "report.json").read_text(encoding="utf-8"))
    assert verify_report_signature(report) == body.address
    assert report["verdict"] == 1 and report["verification"]["result"] == "verified"
    text = (out_dir / "report.txt").read_text(encoding="utf-8")
    assert "核查结论" in text and "Verdict" in text and report["report_digest"] in text
    digest = anvil_ledger.commitments[examples.SUB_TANK_UK].digest
    onchain = chain.call(trust.functions.getAttestation(digest, 0))
    assert onchain[0] == body.address and bytes(onchain[1]).hex() == report["report_digest"]
    assert len(summary["transactions"]) == 1
    # The attestation now shows up in check 11 of a plain verification.
    assert main(args_for(anvil_ledger, path)) == 0
    assert "Example Verification Ltd" in capsys.readouterr().out


def test_attest_files_the_digests_of_the_bytes_it_verified(
    anvil_ledger: Ledger,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The bundle file is replaced while the body's accreditation is read, after the
    verification: what is attested is still the verified bundle's items (the file is read
    once). Runs after the attestation test above: the body is accredited there."""
    chain = anvil_ledger.chain
    body = chain.dev_accounts()[5]
    trust = anvil_ledger.contract("TrustRegistry")
    path = tmp_path / "bundle.json"
    path.write_bytes(anvil_ledger.bundle_bytes([examples.SUB_TANK_UK]))
    swapped = anvil_ledger.bundle_bytes([examples.SUB_HX_SEA])
    real_body = ProvenReader.body

    def body_then_swap(self: ProvenReader, address: str) -> object:
        path.write_bytes(swapped)
        return real_body(self, address)

    monkeypatch.setattr(ProvenReader, "body", body_then_swap)
    key = tmp_path / "body.key"
    key.write_text("0x" + bytes(body.key).hex())
    out_dir = tmp_path / "report"
    args = args_for(anvil_ledger, path, "--json")
    args[0] = "attest"
    assert main([*args, "--key-file", str(key), "--out-dir", str(out_dir)]) == 0
    assert path.read_bytes() == swapped  # the swap did happen
    report = json.loads((out_dir / "report.json").read_text(encoding="utf-8"))
    verified = anvil_ledger.commitments[examples.SUB_TANK_UK].digest
    assert [r["digest"] for r in report["records"]] == [verified.hex()]
    assert report["verification"]["bundle"]["sha256"] != hashlib.sha256(swapped).hexdigest()
    onchain = chain.call(trust.functions.getAttestation(verified, 1))
    assert bytes(onchain[1]).hex() == report["report_digest"]
    assert json.loads(capsys.readouterr().out)["transactions"]


def test_attest_help_says_it_sends_a_transaction(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["attest", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "SEND ONE TRANSACTION per item" in text and "this one writes" in text


def test_attest_by_unaccredited_key_is_refused(
    anvil_ledger: Ledger, bundle_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "stranger.key"
    key.write_text("0x" + "77" * 32)
    args = args_for(anvil_ledger, bundle_file)
    args[0] = "attest"
    assert main([*args, "--key-file", str(key), "--out-dir", str(tmp_path / "r")]) == 1
    assert "is not accredited" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_json_report_of_unreadable_input(
    anvil_ledger: Ledger, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "v2.json"
    path.write_bytes(b'{"format":"carbonledger-bundle/2"}')
    assert main(args_for(anvil_ledger, path, "--json")) == 2
    out = capsys.readouterr()
    report = json.loads(out.out)
    assert report["result"] == "unreadable" and report["exit_code"] == 2
    _one_clean_line(out.err)


@pytest.mark.parametrize(
    ("case", "code", "message"),
    [
        ("missing_file", 2, "cannot read"),
        ("too_large", 2, "refused without reading it"),
        ("bad_pin", 2, "--genesis must be 32 bytes"),
        ("missing_option", 2, "pass --trust-root FILE, or --rpc, --chain-id and --registry"),
        ("rpc_refuses", 3, "connection refused at http://127.0.0.1:9"),
    ],
)
def test_json_always_prints_a_report(
    anvil_ledger: Ledger,
    bundle_file: Path,
    tmp_path: Path,
    case: str,
    code: int,
    message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """--json prints one report whatever stops the run: an error report naming why."""
    args = args_for(anvil_ledger, bundle_file, "--json")
    if case == "missing_file":
        args[1] = str(tmp_path / "absent.json")
    elif case == "too_large":
        huge = tmp_path / "huge.json"
        with huge.open("wb") as fh:
            fh.truncate(MAX_BUNDLE_BYTES + 1)  # sparse: nothing is written
        args[1] = str(huge)
    elif case == "bad_pin":
        args += ["--genesis", "0x12"]
    elif case == "missing_option":
        args = ["bundle", str(bundle_file), "--json"]
    else:
        args = args_for(anvil_ledger, tmp_path / "absent.json", "--json", rpc="http://127.0.0.1:9")
        args[1] = str(bundle_file)
    assert main(args) == code
    out = capsys.readouterr()
    report = json.loads(out.out)
    assert report["format"] == "carbonledger-verify-report/1"
    assert (report["exit_code"] == code and report["checks"] == []) or code == 3
    assert report["result"] == ("unreadable" if code == 2 else "indeterminate")
    assert "Traceback" not in out.err
    if report["checks"] == []:
        assert message in report["error"]
    else:
        assert message in json.dumps(report)


def test_attest_refuses_a_conforming_verdict_for_a_failed_bundle(
    anvil_ledger: Ledger, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bundle.json"
    path.write_bytes(anvil_ledger.bundle_bytes([examples.CR_HX]))
    key = tmp_path / "body.key"
    key.write_text("0x" + bytes(anvil_ledger.chain.dev_accounts()[5].key).hex())
    args = args_for(anvil_ledger, path, "--min-depth", "100000")  # fails check 7
    args[0] = "attest"
    extra = ["--key-file", str(key), "--out-dir", str(tmp_path / "r"), "--verdict", "conforms"]
    assert main([*args, *extra]) == 1
    assert "only --verdict nonconforms" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_cbam_command_checks_the_bundle_then_the_package(
    anvil_ledger: Ledger, bundle_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``carbon-verify cbam``: a package whose consignments the bundle does not carry fails
    (exit 1, each missing record named); a document that is no package, or no file, is 2."""
    args = ["cbam", *args_for(anvil_ledger, bundle_file)[1:]]
    request = {
        "format": "carbonledger-cbam-request/1",
        "cn_code": "73090030",
        "period": {"start": "2025-01-01", "end": "2025-12-31"},
        "installation": {"id": "i", "name": "Works", "country": "CN"},
        "operator": {"id": "o", "name": "Operator"},
        "routes": [
            {
                "route": "welded",
                "net_mass_t": "12.5",
                "consignments": ["urn:carbonledger:factor-substitution:elsewhere"],
            }
        ],
        "net_mass_t": "12.5",
    }
    package = tmp_path / "package.json"
    package.write_text(json.dumps({"format": "carbonledger-cbam-package/1", "request": request}))
    assert main([*args, "--package", str(package)]) == 1
    out = capsys.readouterr().out
    # The checks pass, but a package that differs is not VERIFIED.
    assert "VERIFIED" not in out
    assert "result: FAILED: every check passed, but the CBAM package differs" in out
    assert "CBAM package: DIFFERS" in out
    assert "urn:carbonledger:factor-substitution:elsewhere: not in any bundle in full" in out
    assert main([*args, "--package", str(package), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert (report["result"], report["exit_code"]) == ("failed", 1)
    assert report["cbam_package"]["recomputed"] is False
    assert report["summary"]["FAIL"] == 0
    VALIDATOR.validate(report)
    package.write_text(json.dumps({"format": "something-else"}))
    assert main([*args, "--package", str(package)]) == 2
    _one_clean_line(capsys.readouterr().err)
    assert main([*args, "--package", str(tmp_path / "absent.json")]) == 2
    _one_clean_line(capsys.readouterr().err)
