"""The cross-border desk through the API on a real chain (docs/API.md §3.7): the tank
pre-assessed for North America is red, which locks its exports there (a conversion, a
substitution submitted by hand, the bundle for the region: 409 naming the assessment);
rectified with a low-carbon coating and assessed again it is yellow, and the lock is
lifted. Conversions on request are recomputed at acceptance like any submission; bad
input is refused with its path and stores nothing.

Its own ledger on its own py-evm chain (module-scoped): it anchors records beyond the
examples.
"""

from __future__ import annotations

import hashlib
import json
import socket
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient

from anchoring.chain import MemoryChain
from api import cli
from api.demo.crossborder import tell_crossborder_story
from ledger.client import LedgerClient
from ledger.core.signature import private_key_from_seed, public_key_bytes
from ledger.core.submission import submission_bytes
from ledger.core.view import commit
from ledger.examples import cbam_rules, regional_rules, substitution_record
from ledger.examples import crossborder as xb
from ledger.examples import knowledge as kb
from ledger.examples.equipment import CR_HX, CR_TANK
from ledger.service.crossborder import Signer
from ledger.store.access import add_principal, issue_api_key
from ledger.store.chainmirror import mirror_body
from ledger.store.producers import add_producer, add_producer_key
from tests.api.world import (
    CONVERSION,
    JSON,
    KEYS_FROM,
    KEYS_UNTIL,
    PRINCIPALS,
    TANK_SUBJECT,
    World,
    anchor_everything,
    build_template,
    open_world,
    producer_key,
    register_key_on_chain,
)
from verifier.chain import ChainReader
from verifier.checks import verify_bundle
from verifier.documents import file_sha256
from verifier.model import Pins, Status, Verification

ASSESSOR = xb.PRODUCER_ASSESSOR
ASSESSOR_KEY = private_key_from_seed(hashlib.sha256(b"api test assessor").digest())
CR_TANK_LOW_CARBON = "urn:carbonledger:carbon-record:st-tk-0101-2026-low-carbon-coating"
BODY = xb.PRODUCER_BODY
BODY_KEY = private_key_from_seed(hashlib.sha256(b"api test verification body").digest())
BODY_NAME = "Example Verification Body Co., Ltd. (fictional)"
BODY_ADDRESS = "0x" + "b0" * 20
#: record id -> digest of everything the module's ledger stores
DIGESTS: dict[str, str] = {}


@pytest.fixture(scope="module")
def world(artifacts: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    chain = MemoryChain()
    template = build_template(chain, artifacts, tmp_path_factory.mktemp("xborder-template"))
    signers = (Signer(ASSESSOR, ASSESSOR_KEY), Signer(CONVERSION, producer_key(CONVERSION)))
    w = open_world(template, tmp_path_factory.mktemp("xborder") / "data", signers=signers)
    try:
        with w.store.transaction() as session:
            for producer, key, record_type in (
                (ASSESSOR, ASSESSOR_KEY, "risk-assessment"),
                (BODY, BODY_KEY, "equivalence-declaration"),
            ):
                add_producer(session, producer, created_at=KEYS_FROM)
                add_producer_key(
                    session,
                    producer=producer,
                    public_key_hex=public_key_bytes(key).hex(),
                    valid_from=KEYS_FROM,
                    record_types=(record_type,),
                )
            add_principal(
                session,
                "verification-body",
                role="producer",
                producer=BODY,
                record_types=["equivalence-declaration"],
                created_at=KEYS_FROM,
            )
            template.tokens["verification-body"] = issue_api_key(
                session, "verification-body", created_at=KEYS_FROM
            ).token
            # What the chain follower mirrors from TrustRegistry.accreditBody.
            mirror_body(
                session,
                address=BODY_ADDRESS,
                name=BODY_NAME,
                scope="ISO 14065:2020 verification of product carbon footprints",
                regions="EU,GB,SEA",
                valid_from=KEYS_FROM,
                valid_until=KEYS_UNTIL,
                withdrawn=False,
                block_number=1,
            )
        register_key_on_chain(
            chain,
            artifacts,
            template.deployment,
            BODY,
            public_key_bytes(BODY_KEY),
            ["equivalence-declaration"],
        )
        digests = DIGESTS
        digests.update({rid: r.digest_hex for rid, r in template.receipts.items()})
        by_producer = {p[1]: name for name, p in PRINCIPALS.items() if p[1] is not None}

        def add(record: dict[str, Any]) -> dict[str, Any]:
            receipt = w.client(by_producer[record["producer"]]).submit(record)
            digests[record["id"]] = receipt.digest_hex
            template.records[record["id"]] = record
            return record

        add(kb.regional_grids_factor_set())
        add(kb.materials_factor_set())
        add(cbam_rules.eu_cbam_kb_rule(digests))
        add(regional_rules.north_america_kb_rule(digests))
        add(regional_rules.sea_kb_rule(digests))
        anchor_everything(w)
        yield w
    finally:
        w.store.close()
        chain.close()


def _assess(w: World, principal: str, **body: Any) -> Any:
    return w.http.post("/v1/assessments", json=body, headers=w.headers(principal))


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    out: dict[str, Any] = response.json()
    return out


def _count(w: World) -> int:
    return sum(w.app.state.api.queries.counts().by_status.values())


def test_red_locks_the_region_and_a_newer_assessment_lifts_it(world: World) -> None:
    w = world
    # Converted for North America before anyone assessed it: nothing locks it yet.
    early = w.http.post(
        "/v1/conversions", json={"source": CR_TANK, "region": "NA"}, headers=w.headers("plant-mes")
    )
    assert early.status_code == 201, early.text
    early_id = early.json()["record_id"]
    anchor_everything(w)
    # Pre-assessed for North America and stored: red, the access threshold passed.
    r = _assess(w, "plant-mes", source=CR_TANK, region="NA", import_date="2026-07-01", store=True)
    assert r.status_code == 200, r.text
    out = r.json()
    red_id = out["record_id"]
    assert out["stored"] is True and out["assessment"]["level"] == "red"
    assert out["assessment"]["level_basis"] == ["above-access-threshold"]
    assert out["lock"]["assessment"] == red_id
    locks = w.http.get("/v1/locks", params={"subject": TANK_SUBJECT}).json()
    assert [(i["region"], i["assessment"]) for i in locks["items"]] == [("NA", red_id)]

    # Every export path for the tank and North America answers 409 naming the assessment.
    before = _count(w)
    refused = _problem(
        w.http.post(
            "/v1/conversions",
            json={"source": CR_TANK, "region": "NA"},
            headers=w.headers("plant-mes"),
        ),
        409,
    )
    assert refused["record_id"] == red_id and "not red lifts the lock" in refused["detail"]
    by_hand = substitution_record(
        "urn:carbonledger:factor-substitution:st-tk-0101-na-by-hand",
        "2026-06-01T11:00:00Z",
        w.template.records[CR_TANK],
        w.template.records[kb.RULE_XB_NA],
        [w.template.records[kb.FS_XB_GRIDS]],
        DIGESTS,
    )
    submitted = w.http.post(
        "/v1/records",
        content=w.client("conversion").prepare(by_hand)[1],
        headers={**w.headers("conversion"), **JSON, "Idempotency-Key": "na-by-hand"},
    )
    assert _problem(submitted, 409)["record_id"] == red_id
    anchor_everything(w)
    bundle = w.http.get(
        "/v1/trail/bundle",
        params={"subject": TANK_SUBJECT, "region": "NA"},
        headers=w.headers("plant-mes"),
    )
    assert _problem(bundle, 409)["record_id"] == red_id
    earlier = w.http.get(
        "/v1/record/bundle", params={"id": early_id}, headers=w.headers("tuv-auditor")
    )
    assert _problem(earlier, 409)["record_id"] == red_id
    declared = w.http.get(
        "/v1/declaration", params={"conversion": early_id}, headers=w.headers("tuv-auditor")
    )
    assert _problem(declared, 409)["record_id"] == red_id
    other = w.http.get(
        "/v1/trail/bundle",
        params={"subject": TANK_SUBJECT, "region": "EU"},
        headers=w.headers("plant-mes"),
    )
    assert other.status_code == 200, other.text
    assert _count(w) == before + 0  # nothing refused was stored

    # Rectified: a new carbon record with a low-carbon coating, assessed again: yellow.
    low = xb.low_carbon_coating_tank_record(
        w.template.records[CR_TANK],
        DIGESTS,
        issued_at="2026-06-01T11:30:00Z",
        rid=CR_TANK_LOW_CARBON,
    )
    DIGESTS[low["id"]] = w.client("plant-mes").submit(low).digest_hex
    r = _assess(
        w, "plant-mes", source=CR_TANK_LOW_CARBON, region="NA", import_date="2026-07-01", store=True
    )
    assert r.status_code == 200, r.text
    assert r.json()["assessment"]["level"] == "yellow" and r.json()["lock"] is None
    assert w.http.get("/v1/locks", params={"subject": TANK_SUBJECT}).json()["items"] == []
    converted = w.http.post(
        "/v1/conversions",
        json={"source": CR_TANK_LOW_CARBON, "region": "NA"},
        headers=w.headers("plant-mes"),
    )
    assert converted.status_code == 201, converted.text
    record = converted.json()["record"]
    assert record["producer"] == CONVERSION and record["body"]["rule"]["id"] == kb.RULE_XB_NA
    anchor_everything(w)
    unlocked = w.http.get(
        "/v1/trail/bundle",
        params={"subject": TANK_SUBJECT, "region": "NA"},
        headers=w.headers("plant-mes"),
    )
    assert unlocked.status_code == 200, unlocked.text
    for rid in (early_id, converted.json()["record_id"]):
        exported = w.http.get(
            "/v1/record/bundle", params={"id": rid}, headers=w.headers("tuv-auditor")
        )
        assert exported.status_code == 200, exported.text


def test_a_conversion_choosing_a_factor_other_than_the_mandatory_one_is_refused(
    world: World,
) -> None:
    w = world
    before = _count(w)
    r = w.http.post(
        "/v1/conversions",
        json={
            "source": CR_TANK,
            "region": "EU",
            "choices": [{"line_id": "L04", "set": kb.FS_XB_GRIDS, "entry": "egrid-2023-us"}],
        },
        headers=w.headers("plant-mes"),
    )
    problem = _problem(r, 422)
    assert problem["path"] == "choices"
    assert "eu-cbam-2026-electricity-defaults#annex-ii-other mandatory" in problem["detail"]
    assert "egrid-2023-us is refused" in problem["detail"]
    assert _count(w) == before


def test_a_draft_is_assessed_and_never_stored(world: World) -> None:
    w = world
    draft = dict(w.template.records[CR_TANK])
    draft["id"] = "urn:carbonledger:carbon-record:st-tk-0101-draft"
    before = _count(w)
    r = _assess(w, "plant-mes", draft=draft, region="EU", import_date="2026-07-01")
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["stored"] is False and out["record_id"] is None
    assert out["assessment"]["region"] == "EU" and out["assessment"]["level"] in (
        "none",
        "blue",
        "yellow",
        "red",
    )
    assert _count(w) == before


@pytest.mark.parametrize(
    ("body", "path", "words"),
    [
        ({"source": CR_TANK, "region": "ZZ"}, "region", "unknown region 'ZZ'"),
        ({"draft": {"type": "carbon-record"}, "region": "EU"}, "draft", ""),
        ({"region": "EU"}, "", "exactly one of source"),
        ({"source": CR_TANK, "region": "EU", "import_date": "2026-13-01"}, "import_date", "date"),
        ({"source": CR_TANK, "region": "EU", "draft": None, "extra": 1}, "extra", ""),
        # Paths in the project's notation (docs/API.md §4), as every other body names them.
        (
            {"source": CR_TANK, "region": "EU", "choices": [{"line_id": "L01", "set": "x"}]},
            "choices[0].entry",
            "",
        ),
    ],
)
def test_bad_assessment_requests_name_the_fault(
    world: World, body: dict[str, Any], path: str, words: str
) -> None:
    body = {"import_date": "2026-07-01", **body}
    before = _count(world)
    problem = _problem(_assess(world, "plant-mes", **body), 422)
    assert problem.get("path", "").startswith(path), problem
    assert words in problem["detail"], problem
    assert _count(world) == before


def test_no_baseline_for_the_cn_code_is_not_assessable(world: World) -> None:
    """The exchanger (CN 8419) under the EU rule, which has baselines for 7308 and 7309
    only: the level is never guessed."""
    r = _assess(world, "plant-mes", source=CR_HX, region="EU", import_date="2026-07-01")
    assert r.status_code == 200, r.text
    out = r.json()["assessment"]
    assert out["baseline"] is None
    assert {
        "kind": "no-baseline",
        "cn_code": "8419",
        "message": "no baseline: level not assessable",
    } in out["findings"]


def test_the_assessor_needs_to_see_the_source(world: World) -> None:
    """Another producer sees nothing of the plant's record: 404, as for any read."""
    r = _assess(world, "rating", source=CR_TANK, region="EU", import_date="2026-07-01")
    assert _problem(r, 404)["detail"] == f"no record with id {CR_TANK!r}"


@pytest.fixture(scope="module")
def served(world: World) -> Iterator[str]:
    """The module's app behind a real HTTP server (uvicorn, a free port, a thread)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(world.app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        for _ in range(500):
            if server.started:
                break
            time.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def test_carbonledger_assess_and_convert(
    world: World, served: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "api-key"
    key.write_text(world.template.tokens["plant-mes"] + "\n")
    common = ["--url", served, "--api-key-file", str(key)]
    assert cli.main(["assess", *common, "--source", CR_HX, "--region", "EU",
                     "--import-date", "2026-07-01"]) == 0  # fmt: skip
    out = json.loads(capsys.readouterr().out)
    assert out["assessment"]["level"] == "not-assessable" and out["stored"] is False

    assert cli.main(["convert", *common, "--source", CR_TANK, "--region", "EU"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["record"]["body"]["rule"]["id"] == kb.RULE_XB_EU
    assert out["receipt"]["record_id"] == out["record_id"]

    assert cli.main(["assess", *common, "--source", CR_TANK, "--region", "ZZ",
                     "--import-date", "2026-07-01"]) == 2  # fmt: skip
    captured = capsys.readouterr()
    assert captured.out == "" and "unknown region 'ZZ'" in captured.err


def _declaration(conversion_id: str, name: str, files: dict[str, bytes]) -> dict[str, Any]:
    documents = [
        {
            "name": f"declaration.{ext}",
            "media_type": media,
            "size": len(files[ext]),
            "sha256": hashlib.sha256(files[ext]).hexdigest(),
            "languages": ["en", "zh"],
        }
        for ext, media in (("pdf", "application/pdf"), ("html", "text/html"))
    ]
    body = {
        "conversion": {"id": conversion_id, "digest": DIGESTS[conversion_id]},
        "region": "EU",
        "documents": documents,
        "signing_body": {
            "name": name,
            "scheme": "ISO 14065:2020",
            "accreditation_body": "CNAS",
            "accreditation_number": "CNAS-EXAMPLE-0001",
        },
    }
    return {
        "type": "equivalence-declaration",
        "schema_version": "1",
        "id": f"urn:carbonledger:equivalence-declaration:{_slug(name)}",
        "subject": TANK_SUBJECT,
        "issued_at": "2026-06-01T12:00:00Z",
        "producer": BODY,
        "refs": [{"rel": "source", "id": conversion_id, "digest": DIGESTS[conversion_id]}],
        "body": body,
    }


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in text.lower()).strip("-")[:60]


def test_the_declaration_is_bilingual_signed_anchored_and_verified_with_file(
    world: World, tmp_path: Path
) -> None:
    w = world
    converted = w.http.post(
        "/v1/conversions", json={"source": CR_TANK, "region": "EU"}, headers=w.headers("plant-mes")
    )
    assert converted.status_code == 201, converted.text
    conversion_id = converted.json()["record_id"]
    DIGESTS[conversion_id] = converted.json()["receipt"]["digest"]
    files = {}
    for fmt in ("pdf", "html"):
        r = w.http.get(
            "/v1/declaration",
            params={"conversion": conversion_id, "format": fmt},
            headers=w.headers("tuv-auditor"),
        )
        assert r.status_code == 200, r.text
        files[fmt] = r.content
    assert files["pdf"].startswith(b"%PDF-")
    pdf = tmp_path / "declaration.pdf"
    pdf.write_bytes(files["pdf"])
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, check=True
    ).stdout.decode("utf-8")
    result = converted.json()["record"]["body"]["result"]
    for words in (
        "Caliber-equivalence declaration",
        "口径等效声明",
        "The two rules side by side",
        "两套规则对照",
        "Every difference",
        "全部差异",
        "Dropped in total",
        "剔除合计",
        "AR6 → AR5",
        f"{result['total']} {result['unit']}",
        conversion_id[:40],
    ):
        assert words in text, words

    # A body not accredited for the region may not sign it: 422, nothing stored.
    before = _count(w)
    stranger = _declaration(conversion_id, "Unaccredited Lab (fictional)", files)
    refused = w.http.post(
        "/v1/records",
        content=_signed(stranger),
        headers={**w.headers("verification-body"), **JSON, "Idempotency-Key": "stranger"},
    )
    problem = _problem(refused, 422)
    assert problem["path"].endswith(": body.signing_body.name"), problem
    assert "no body of that name is accredited" in problem["detail"]
    assert _count(w) == before

    # The accredited body signs it with its own key; anchored, the bundle verifies and
    # `--file` finds the PDF among the anchored documents.
    declaration = _declaration(conversion_id, BODY_NAME, files)
    accepted = w.http.post(
        "/v1/records",
        content=_signed(declaration),
        headers={**w.headers("verification-body"), **JSON, "Idempotency-Key": "declaration"},
    )
    assert accepted.status_code == 201, accepted.text
    anchor_everything(w)
    bundle = w.http.get(
        "/v1/record/bundle", params={"id": declaration["id"]}, headers=w.headers("tuv-auditor")
    )
    assert bundle.status_code == 200, bundle.text
    v = verified_on_chain(w, bundle.content, files=[("declaration.pdf", file_sha256(pdf))])
    assert v.exit_code == 0, [
        (c.number, c.subject, c.reason) for c in v.checks if c.status is Status.FAIL
    ]
    twelfth = [c for c in v.checks if c.number == 12]
    assert [c.status for c in twelfth] == [Status.PASS]
    assert declaration["id"] in twelfth[0].reason
    tampered = files["pdf"] + b"\n"
    altered = [("declaration.pdf", hashlib.sha256(tampered).hexdigest())]
    v = verified_on_chain(w, bundle.content, files=altered)
    assert [c.status for c in v.checks if c.number == 12] == [Status.FAIL]


def verified_on_chain(
    w: World, bundle: bytes, files: Sequence[tuple[str, str]] = ()
) -> Verification:
    """``carbon-verify bundle`` over ``w``'s chain, pinned to its AnchorRegistry."""
    d = w.template.deployment
    anchor = d.address_of("AnchorRegistry")
    return verify_bundle(
        bundle,
        reader=ChainReader(w.template.chain.w3, anchor_registry=anchor),
        pins=Pins(chain_id=d.chain_id, anchor_registry=anchor),
        files=files,
    )


def _signed(record: dict[str, Any]) -> bytes:
    return submission_bytes(commit(record), BODY_KEY)


def test_the_demo_story(world: World, tmp_path: Path) -> None:
    """api/demo/crossborder.py through the API: EU not red, North America red and the
    conversion refused, rectified and unlocked, the exchanger blue for South-East Asia,
    the declaration signed by the accredited body, anchored and verified with --file."""
    w = world
    out = tell_crossborder_story(
        refdata=w.client("refdata"),
        plant=w.client("plant-mes"),
        reader=w.client("tuv-auditor"),
        body=LedgerClient(
            "http://testserver",
            w.template.tokens["verification-body"],
            producer_key=BODY_KEY,
            http=TestClient(w.app, raise_server_exceptions=False),
        ),
        records=w.template.records,
        digests=DIGESTS,
        tank_id=CR_TANK,
        hx_id=CR_HX,
        body_name=BODY_NAME,
        issued_at="2026-06-01T12:00:00Z",
    )
    assert out.levels["tank-EU"] != "red" and out.levels["tank-NA"] == "red"
    assert out.assessments["tank-NA"] in out.lock_refusal
    assert out.levels["tank-NA-rectified"] == "yellow" and out.levels["hx-SEA"] == "blue"
    anchor_everything(w)
    bundle = w.http.get(
        "/v1/record/bundle", params={"id": out.declaration_id}, headers=w.headers("tuv-auditor")
    )
    assert bundle.status_code == 200, bundle.text
    pdf = tmp_path / "declaration.pdf"
    pdf.write_bytes(out.files["pdf"])
    v = verified_on_chain(w, bundle.content, files=[("declaration.pdf", file_sha256(pdf))])
    assert v.exit_code == 0
    assert [c.status for c in v.checks if c.number == 12] == [Status.PASS]


def test_a_conversion_warns_when_the_picked_body_is_not_recognised(world: World) -> None:
    w = world
    for body, warned in ((BODY_NAME, []), ("Unaccredited Lab (fictional)", ["not accredited"])):
        r = w.http.post(
            "/v1/conversions",
            json={"source": CR_TANK, "region": "EU", "body": body},
            headers=w.headers("plant-mes"),
        )
        assert r.status_code == 201, r.text
        warnings = r.json()["warnings"]
        assert len(warnings) == len(warned) and all(
            word in text for word, text in zip(warned, warnings, strict=True)
        )
    r = w.http.post(
        "/v1/conversions",
        json={"source": CR_TANK, "region": "NA", "body": BODY_NAME},
        headers=w.headers("plant-mes"),
    )
    # The story above left the tank unlocked for North America (its rectified record).
    assert r.status_code == 201, r.text
    assert "not recognised for region NA (regions EU, GB, SEA)" in r.json()["warnings"][0]
