"""The cross-border story of the demo (docs/DEMO.md "Cross-border"), told through the
HTTP API of a service whose cross-border desk has its assessment and conversion keys.

1. the reference-data desk publishes the region rule knowledge base (EU CBAM 2026,
   South-East Asia, North America) and the factor sets it names;
2. the tank is pre-assessed for the EU and stored: not red;
3. it is pre-assessed for North America: red (above the access threshold), which locks
   its exports there: the conversion is refused with 409 naming the assessment;
4. the maker rectifies it (a new carbon record with a waterborne low-carbon coating),
   assesses it again: yellow, the lock is lifted and the conversion goes through;
5. the heat exchanger is assessed for South-East Asia: blue;
6. the tank's EU conversion gets its bilingual declaration (PDF and HTML), which the
   accredited verification body signs with its own key in an equivalence-declaration
   record; once anchored, ``carbon-verify bundle … --file declaration.pdf`` checks it.

Steps 1-6 are :func:`tell_crossborder_story`; the caller anchors and verifies.

``up --demo`` tells a shorter story with :func:`crossborder_step`, on a service that may
have no assessment or conversion key (one started earlier, or by an operator): the demo's
own producers compute the records with ``ledger.core`` (calc/1, the code the accept path
recomputes them with) and submit them like any producer. The tank shipped to the EU in
2030 is pre-assessed yellow (the free allocation phases out, so the CBAM burden passes the
acceptable one), converted, and its bilingual equivalence declaration (PDF and HTML) is
signed by the accredited body; the heat exchanger assessed for the Middle East is red (the
required monitoring data cannot be supplied in time), and its conversion into the region
is refused with 409. A second run stores nothing again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from ledger.client import LedgerClient
from ledger.client.problems import problem_error
from ledger.core.canonical import format_timestamp
from ledger.core.crossborder import compose
from ledger.core.errors import ConflictError, NotFoundError, UnavailableError
from ledger.core.receipt import Receipt
from ledger.core.records import validate_record
from ledger.examples import cbam_rules, regional_rules
from ledger.examples import crossborder as xb
from ledger.examples import knowledge as kb
from ledger.examples.equipment import CR_HX, CR_TANK_REVISED
from ledger.examples.factors import FS_CN_MEE_2023

__all__ = [
    "CROSSBORDER_PRODUCERS",
    "StoryResult",
    "crossborder_step",
    "declaration_record",
    "tell_crossborder_story",
]

#: principal name -> (producer, record types it may submit), beside the demo's producers:
#: the assessment desk, and the accredited body signing declarations with its own key.
CROSSBORDER_PRODUCERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "demo-assessor": (xb.PRODUCER_ASSESSOR, ("risk-assessment",)),
    "demo-declaring-body": (xb.PRODUCER_BODY, ("equivalence-declaration",)),
}
CONVERTER = "urn:carbonledger:producer:conversion-service"
REFDATA = "urn:carbonledger:producer:reference-data-desk"
#: The EU import the demo assesses: 2030, when the CBAM free allocation is down to 51.5 %.
EU_IMPORT = date(2030, 7, 1)
ME_IMPORT = date(2026, 7, 1)
#: Rendering the bilingual PDF (WeasyPrint, CJK fonts) takes seconds, far more on a busy
#: machine than the client's default timeout allows.
RENDER_TIMEOUT_S = 300.0

IMPORT_DATE = "2026-07-01"
#: The tank rectified: its coating system a waterborne low-carbon epoxy.
CR_TANK_RECTIFIED = "urn:carbonledger:carbon-record:st-tk-0101-2026-rectified"


@dataclass
class StoryResult:
    """What the story did: the levels by step, the lock refusal, the declaration."""

    levels: dict[str, str] = field(default_factory=dict)
    assessments: dict[str, str] = field(default_factory=dict)
    lock_refusal: str = ""
    conversions: dict[str, str] = field(default_factory=dict)
    declaration_id: str = ""
    files: dict[str, bytes] = field(default_factory=dict)


def _post(client: LedgerClient, path: str, body: Mapping[str, Any]) -> Any:
    response = client.http.post(path, json=dict(body))
    if response.status_code >= 400:
        raise problem_error(response)
    return response.json()


def _get(
    client: LedgerClient, path: str, params: Mapping[str, str], *, timeout_s: float | None = None
) -> Any:
    """GET ``path``; ``timeout_s`` overrides the client's (a PDF takes longer to render)."""
    timeout = client.http.timeout if timeout_s is None else httpx.Timeout(timeout_s)
    response = client.http.get(path, params=dict(params), timeout=timeout)
    if response.status_code != 200:
        raise UnavailableError(f"GET {path} answered HTTP {response.status_code}")
    return response


def declaration_record(
    conversion: Mapping[str, Any],
    digest_hex: str,
    region: str,
    files: Mapping[str, bytes],
    *,
    producer: str,
    body_name: str,
    issued_at: str,
) -> dict[str, Any]:
    """The equivalence-declaration the body signs: the SHA-256 of each rendered file."""
    media = {"pdf": "application/pdf", "html": "text/html"}
    base = conversion["id"].rsplit(":", 1)[1]
    documents = [
        {
            "name": f"{base}-equivalence-declaration.{ext}",
            "media_type": media[ext],
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "languages": ["en", "zh"],
        }
        for ext, data in sorted(files.items())
    ]
    link = {"id": conversion["id"], "digest": digest_hex}
    return {
        "type": "equivalence-declaration",
        "schema_version": "1",
        "id": f"urn:carbonledger:equivalence-declaration:{base}",
        "subject": conversion["subject"],
        "issued_at": issued_at,
        "producer": producer,
        "refs": [{"rel": "source", **link}],
        "body": {
            "conversion": link,
            "region": region,
            "documents": documents,
            "signing_body": {
                "name": body_name,
                "scheme": "ISO 14065:2020",
                "accreditation_body": "CNAS",
                "accreditation_number": "CNAS-EXAMPLE-0001",
            },
        },
    }


def tell_crossborder_story(
    *,
    refdata: LedgerClient,
    plant: LedgerClient,
    reader: LedgerClient,
    body: LedgerClient,
    records: Mapping[str, dict[str, Any]],
    digests: dict[str, str],
    tank_id: str,
    hx_id: str,
    body_name: str,
    issued_at: str,
    say: Callable[[str], None] = lambda _m: None,
) -> StoryResult:
    """Run steps 1-6 (module docstring). ``records`` and ``digests`` hold the stored
    records the story builds on (the examples); ``reader`` sees the tank in full (it
    renders the declaration); ``body`` submits as the accredited body."""
    out = StoryResult()

    def publish(record: dict[str, Any]) -> None:
        try:  # published by an earlier run: cite what is stored
            digests[record["id"]] = refdata.get_receipt(record["id"]).digest_hex
        except NotFoundError:
            digests[record["id"]] = refdata.submit(record).digest_hex

    say("cross-border: publishing the region rule knowledge base")
    for record in (kb.regional_grids_factor_set(), kb.materials_factor_set()):
        publish(record)
    for build in (
        cbam_rules.eu_cbam_kb_rule,
        regional_rules.sea_kb_rule,
        regional_rules.north_america_kb_rule,
    ):
        publish(build(digests))

    def assess(step: str, source: str, region: str, **extra: Any) -> dict[str, Any]:
        answer: dict[str, Any] = _post(
            plant,
            "/v1/assessments",
            {"source": source, "region": region, "import_date": IMPORT_DATE, "store": True} | extra,
        )
        out.levels[step] = answer["assessment"]["level"]
        out.assessments[step] = answer["record_id"]
        say(f"cross-border: {step}: level {out.levels[step]}")
        return answer

    assess("tank-EU", tank_id, "EU")
    assess("tank-NA", tank_id, "NA")
    try:
        _post(plant, "/v1/conversions", {"source": tank_id, "region": "NA"})
    except ConflictError as exc:
        out.lock_refusal = exc.message
        say("cross-border: the conversion into NA is refused while red-locked")
    else:
        raise ConflictError("the conversion into a red-locked region was not refused")

    rectified = xb.low_carbon_coating_tank_record(
        records[tank_id], digests, issued_at=issued_at, rid=CR_TANK_RECTIFIED
    )
    digests[rectified["id"]] = plant.submit(rectified).digest_hex
    assess("tank-NA-rectified", rectified["id"], "NA")
    converted = _post(plant, "/v1/conversions", {"source": rectified["id"], "region": "NA"})
    out.conversions["tank-NA"] = converted["record_id"]
    assess(
        "hx-SEA",
        hx_id,
        "SEA",
        choices=[{"line_id": "H03", "set": FS_CN_MEE_2023, "entry": "cn-2023-east"}],
    )

    say("cross-border: the tank's EU conversion and its bilingual declaration")
    eu = _post(plant, "/v1/conversions", {"source": tank_id, "region": "EU"})
    out.conversions["tank-EU"] = eu["record_id"]
    digests[eu["record_id"]] = eu["receipt"]["digest"]
    for fmt in ("pdf", "html"):
        response = _get(reader, "/v1/declaration", {"conversion": eu["record_id"], "format": fmt})
        out.files[fmt] = response.content
    declaration = declaration_record(
        eu["record"],
        digests[eu["record_id"]],
        "EU",
        out.files,
        producer=xb.PRODUCER_BODY,
        body_name=body_name,
        issued_at=issued_at,
    )
    digests[declaration["id"]] = body.submit(declaration).digest_hex
    out.declaration_id = declaration["id"]
    return out


def crossborder_step(
    *,
    clients: Mapping[str, LedgerClient],
    reader: LedgerClient,
    records: Mapping[str, dict[str, Any]],
    receipts: Mapping[str, Receipt],
    page_base: str,
    directory: Path,
    body_name: str,
    progress: Callable[[str], None],
) -> tuple[str, ...]:
    """The cross-border part of ``up --demo`` (module docstring); returns one line per
    step, each with its page. ``clients`` submit by producer; ``reader`` (an auditor of
    everything) renders the declaration; ``records``/``receipts``: the scenario's."""
    digests = {rid: r.digest_hex for rid, r in receipts.items()}
    known: dict[str, dict[str, Any]] = dict(records)
    now = format_timestamp(datetime.now(UTC).replace(microsecond=0))

    def put(record: dict[str, Any]) -> dict[str, Any]:
        client = clients[record["producer"]]
        try:  # stored by an earlier run: cite it as it is
            digests[record["id"]] = client.get_receipt(record["id"]).digest_hex
        except NotFoundError:
            digests[record["id"]] = client.submit(record).digest_hex
        known[record["id"]] = record
        return record

    def page(record_id: str, kind: str = "record") -> str:
        return f"{page_base}/{kind}?id={quote(record_id, safe='')}"

    progress("cross-border: the region rule knowledge base, pre-assessments, the lock")
    for record in (kb.regional_grids_factor_set(), kb.materials_factor_set()):
        put(record)
    rules = {
        "EU": put(cbam_rules.eu_cbam_kb_rule(digests)),
        "ME": put(regional_rules.middle_east_kb_rule(digests)),
    }

    def inputs(source: str, region: str) -> tuple[Any, Any, list[Any]]:
        rule = rules[region]
        sets = [validate_record(known[s["id"]]) for s in rule["body"]["factor_sets"]]
        return validate_record(known[source]), validate_record(rule), sets

    def assess(source: str, region: str, slug: str, on: date) -> dict[str, Any]:
        rid = f"urn:carbonledger:risk-assessment:demo-{slug}-{region.lower()}-{on.year}"
        try:
            digests[rid] = clients[xb.PRODUCER_ASSESSOR].get_receipt(rid).digest_hex
            return _stored(reader, rid)
        except NotFoundError:
            record = compose.assessment_record(
                rid, now, xb.PRODUCER_ASSESSOR, *inputs(source, region), digests, import_date=on
            )
            return put(record)

    def convert(source: str, region: str, slug: str) -> dict[str, Any]:
        rid = f"urn:carbonledger:factor-substitution:demo-{slug}-{region.lower()}"
        try:
            digests[rid] = clients[CONVERTER].get_receipt(rid).digest_hex
            return _stored(reader, rid)
        except NotFoundError:
            return put(
                compose.substitution_record(rid, now, CONVERTER, *inputs(source, region), digests)
            )

    lines = []
    eu = assess(CR_TANK_REVISED, "EU", "st-tk-0101", EU_IMPORT)
    tariff = eu["body"]["tariff"]
    lines.append(
        f"pre-assessment: tank for EU (CBAM), import {EU_IMPORT}: {eu['body']['level']}, "
        f"burden {tariff.get('burden')} {tariff.get('currency', '')} (acceptable "
        f"{tariff.get('acceptable_burden')}): {page(eu['id'], 'risk')}"
    )
    conversion = convert(CR_TANK_REVISED, "EU", "st-tk-0101")
    lines.append(f"conversion: tank into EU: {page(conversion['id'])}")
    files = {}
    for fmt in ("pdf", "html"):
        params = {"conversion": conversion["id"], "format": fmt}
        files[fmt] = _get(reader, "/v1/declaration", params, timeout_s=RENDER_TIMEOUT_S).content
    out_dir = directory / "crossborder"
    out_dir.mkdir(parents=True, exist_ok=True)
    for fmt, data in files.items():
        (out_dir / f"equivalence-declaration.{fmt}").write_bytes(data)
    declaration = declaration_record(
        conversion, digests[conversion["id"]], "EU", files, producer=xb.PRODUCER_BODY,
        body_name=body_name, issued_at=now,
    )  # fmt: skip
    put(declaration)  # rendering is deterministic: an earlier run's has the same hashes
    lines.append(
        f"declaration: EN/ZH, signed by the accredited body: "
        f"{out_dir / 'equivalence-declaration.pdf'}, {page(declaration['id'])}"
    )
    me = assess(CR_HX, "ME", "ti-hx-0042", ME_IMPORT)
    try:
        convert(CR_HX, "ME", "ti-hx-0042")
    except ConflictError:
        refused = "the conversion into ME is refused (409)"
    else:
        raise ConflictError("the conversion into a red-locked region was not refused")
    lines.append(
        f"red lock: heat exchanger for ME: {me['body']['level']} "
        f"({', '.join(me['body']['level_basis'])}); {refused}: {page(me['id'], 'risk')}"
    )
    return tuple(lines)


def _stored(reader: LedgerClient, record_id: str) -> dict[str, Any]:
    """A stored record as the reader sees it (in full: the demo's auditor sees all)."""
    record: dict[str, Any] = _get(reader, "/v1/record", {"id": record_id}).json()["view"]["record"]
    return record
