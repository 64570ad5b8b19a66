"""The public page of a carbon-efficiency evaluation, which the carbon-efficiency code opens
(docs/RECORDS.md §3.17, docs/PAGES.md §1): a day of the example plant accepted through the
real accept path (registered terminals, signed readings), then the page read by the public
in-process: grade, level, period and the public figures in Chinese and English, the
verification link (bundle and ``carbon-verify`` command), and the code on the page scanned
back (resvg + zxing-cpp) to this page's URL with the evaluation's digest."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import pytest

from ledger.client import submission_bytes
from ledger.core.efficiency_code import parse_efficiency_code
from ledger.core.signature import public_key_bytes
from ledger.core.view import commit, parse_view, reconstruct
from ledger.examples import efficiency as ex
from ledger.examples import factors as ref
from ledger.service import LedgerService
from ledger.store.producers import add_producer, add_producer_key, grant_key_type, key_id_of
from tests.api.world import KEYS_FROM, MAX_MERGE_DELAY_S, SERVICE_KEY, World, producer_key
from tests.pages.conftest import Page, browser, page_of
from tests.service.test_efficiency_accept import register_terminal
from tests.support.qr import scan_qr


@pytest.fixture
def plant(world: World) -> tuple[World, dict[str, str]]:
    """The API world plus a day of the plant, accepted by the service; returns the digests."""
    with world.store.transaction() as session:
        for producer, types in (
            (ex.PRODUCER_METERING, ("metadata-template", "meter-reading")),
            (ex.PRODUCER_EFFICIENCY, ("carbon-efficiency",)),
        ):
            add_producer(session, producer, created_at=KEYS_FROM)
            add_producer_key(
                session, producer=producer, valid_from=KEYS_FROM, record_types=types,
                public_key_hex=public_key_bytes(producer_key(producer)).hex(),
            )  # fmt: skip
        desk = key_id_of(public_key_bytes(producer_key(ref.PRODUCER_REFDATA)).hex())
        for rtype in ("metadata-template", "industry-benchmark", "efficiency-grading-rule"):
            grant_key_type(session, desk, rtype, granted_at=KEYS_FROM)
    for terminal in ex.terminals():
        register_terminal(world.store, terminal)
    service = LedgerService(
        store=world.store, service_key=SERVICE_KEY, clock=world.clock,
        max_merge_delay_s=MAX_MERGE_DELAY_S,
    )  # fmt: skip

    def accepted(record: dict[str, Any]) -> str:
        known = world.http.get("/v1/record", params={"id": record["id"]})
        if known.status_code == 200:  # the factor sets the example ledger holds already
            return str(known.json()["digest"])
        c = commit(record)
        return service.accept(submission_bytes(c, producer_key(record["producer"]))).digest_hex

    digests: dict[str, str] = {}

    def digest_of(record: dict[str, Any]) -> str:
        digests[record["id"]] = accepted(record)
        return digests[record["id"]]

    ex.efficiency_example_records(digest_of, days=1)
    return world, digests


def text_of(html: str, element_id: str) -> str:
    """The text of the element ``element_id`` (a dd, p, pre or span) as a reader sees it."""
    found = re.search(rf'id="{element_id}"[^>]*>(.*?)</(dd|p|pre|span)>', html, re.S)
    return Page(found.group(1)).text if found else ""


def test_the_code_opens_the_evaluation_page_in_both_languages(
    plant: tuple[World, dict[str, str]],
) -> None:
    world, digests = plant
    digest = digests[ex.EVALUATION]
    reply = browser(world, None).get("/efficiency", params={"id": ex.EVALUATION, "digest": digest})
    assert reply.status_code == 200, reply.text
    page = page_of(reply)
    assert page.by_id("mismatch") is None
    assert text_of(reply.text, "grade") == "2"
    assert text_of(reply.text, "level") == "低碳 low"
    assert "2025-12-31T16:00:00Z – 2026-01-01T16:00:00Z" in text_of(reply.text, "period")
    assert text_of(reply.text, "digest") == digest
    for words in ("企业碳效码", "Enterprise carbon-efficiency code", "碳效值", "Industry average"):
        assert words in page.text, words
    # The public sees L, K and the benchmark; the energy and value added stay hidden.
    assert text_of(reply.text, "intensity") not in ("", "不予公开 withheld")
    assert "value_added" not in reply.text and "120000" not in reply.text
    bundle = page.by_id("bundle-link")
    assert bundle is not None and bundle["href"] == "/bundle?id=" + ex.EVALUATION
    # The same command as every other page, naming the file the link downloads.
    command = text_of(reply.text, "verify-command")
    assert command.startswith(f"carbon-verify bundle {bundle['download']} --rpc RPC_URL")
    assert "--genesis 0x" in command and "<RPC URL>" not in reply.text
    image = page.by_id("qr")
    assert image is not None and image["src"] == "/efficiency/code.svg?id=" + ex.EVALUATION
    svg = browser(world, None).get(str(image["src"]))
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    (scanned,) = scan_qr(svg.text)
    code = parse_efficiency_code(scanned)
    assert (code.record_id, code.digest_hex) == (ex.EVALUATION, digest)
    assert code.page_url.startswith("http://testserver/efficiency?id=")


def test_a_code_whose_digest_is_not_the_records_says_so(
    plant: tuple[World, dict[str, str]],
) -> None:
    world, digests = plant
    stale = "ab" * 32
    reply = browser(world, None).get("/efficiency", params={"id": ex.EVALUATION, "digest": stale})
    assert reply.status_code == 409
    page = page_of(reply)
    assert page.by_id("mismatch") is not None
    assert f"the code states digest 二维码摘要 {stale}" in page.text
    assert f"the ledger holds 账本摘要 {digests[ex.EVALUATION]}" in page.text


def test_only_an_evaluation_has_an_evaluation_page(plant: tuple[World, dict[str, str]]) -> None:
    world, _ = plant
    reply = browser(world, None).get("/efficiency", params={"id": ex.BENCHMARK})
    assert reply.status_code == 404
    reply = browser(world, None).get("/efficiency", params={"id": ex.EVALUATION, "digest": "x"})
    assert reply.status_code == 422


def service_of(world: World) -> LedgerService:
    return LedgerService(
        store=world.store, service_key=SERVICE_KEY, clock=world.clock,
        max_merge_delay_s=MAX_MERGE_DELAY_S,
    )  # fmt: skip


def test_status_sources_and_period_speak_both_languages_and_the_readers_zone(
    plant: tuple[World, dict[str, str]],
) -> None:
    # The trial found the status in English only, the sources as raw keys, the period in
    # UTC only, and the command in a <pre> that overflowed a 1000 px window.
    world, _ = plant
    reply = browser(world, None).get(
        "/efficiency", params={"id": ex.EVALUATION, "lang": "zh", "tz": "Asia/Shanghai"}
    )
    assert reply.status_code == 200, reply.text
    assert text_of(reply.text, "status").startswith("待处理 Pending"), text_of(reply.text, "status")
    sources = text_of(reply.text, "sources")
    for words in (
        "电网电力 Grid electricity",
        "天然气 Natural gas",
        "自有光伏发电 Own photovoltaic",
    ):
        assert words in sources, sources
    assert "electricity_import" not in sources
    local = text_of(reply.text, "period-local")
    assert local == (
        "2026-01-01 00:00:00 (Asia/Shanghai, UTC+08:00) – 2026-01-02 00:00:00 "
        "(Asia/Shanghai, UTC+08:00)"
    )
    # The issue time too, in the reader's zone.
    assert text_of(reply.text, "issued-local").endswith("(Asia/Shanghai, UTC+08:00)")
    # A reader in UTC gets the period and the issue time once.
    utc = browser(world, None).get("/efficiency", params={"id": ex.EVALUATION, "tz": "UTC"})
    assert 'id="period-local"' not in utc.text and 'id="issued-local"' not in utc.text
    # The command wraps (pre.command: pre-wrap, break-all) instead of overflowing.
    assert re.search(r'<pre class="command" id="verify-command">', reply.text)


def test_a_superseded_evaluation_says_so_and_the_enterprise_shows_the_current_one(
    plant: tuple[World, dict[str, str]],
) -> None:
    world, digests = plant
    reply = world.http.get("/v1/enterprise", params={"id": ex.ENTERPRISE})
    assert reply.status_code == 200, reply.text
    latest = reply.json()["carbon_efficiency"]
    assert (latest["record_id"], latest["grade"], latest["level"]) == (ex.EVALUATION, 2, "low")
    assert latest["page_url"] == f"/efficiency?id={ex.EVALUATION}&digest={digests[ex.EVALUATION]}"
    assert latest["code_url"] == f"/efficiency/code.svg?id={ex.EVALUATION}"
    assert latest["period"] == {"start": "2025-12-31T16:00:00Z", "end": "2026-01-01T16:00:00Z"}

    # The producer corrects the evaluation (another value added, another grade).
    first = world.http.get("/v1/record", params={"id": ex.EVALUATION}).json()
    records = {}
    for rid in digests:
        found = world.http.get(
            "/v1/record", params={"id": rid}, headers=world.headers("eu-regulator")
        )
        records[rid] = reconstruct(parse_view(found.json()["view"]))
    evaluation = records[ex.EVALUATION]
    batches = {s["field"]: [r["id"] for r in s["readings"]] for s in evaluation["body"]["sources"]}
    revised = ex.evaluation(records, digests, batches, days=1, value_added="10000")
    revised["id"] = f"{ex.EVALUATION}-revised"
    revised["refs"].append(
        {
            "rel": "supersedes",
            "id": ex.EVALUATION,
            "digest": first["digest"],
            "reason": "correction",
        }
    )
    c = commit(revised)
    service_of(world).accept(submission_bytes(c, producer_key(ex.PRODUCER_EFFICIENCY)))
    grade = revised["body"]["result"]["grade"]
    assert grade != 2

    old = browser(world, None).get("/efficiency", params={"id": ex.EVALUATION})
    banner = text_of(old.text, "outdated")
    assert "此评价已被更正取代 This evaluation has been superseded" in banner, banner
    link = page_of(old).by_id("current-link")
    assert link is not None
    assert link["href"] == f"/efficiency?id={revised['id']}&digest={c.digest_hex}"
    assert f"grade {grade}" in banner
    current = browser(world, None).get("/efficiency", params={"id": revised["id"]})
    assert 'id="outdated"' not in current.text

    latest = world.http.get("/v1/enterprise", params={"id": ex.ENTERPRISE}).json()
    assert latest["carbon_efficiency"]["record_id"] == revised["id"]
    assert latest["carbon_efficiency"]["grade"] == grade
    page = browser(world, None).get("/enterprise", params={"id": ex.ENTERPRISE})
    assert page.status_code == 200, page.text
    section = page_of(page).by_id("carbon-efficiency-link")
    assert section is not None and section["href"].startswith(
        "/efficiency?id=" + quote(revised["id"], safe="")
    )
    assert f"grade {grade}" in Page(page.text).text
