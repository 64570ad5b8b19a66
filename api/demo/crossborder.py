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
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ledger.client import LedgerClient
from ledger.client.problems import problem_error
from ledger.core.errors import ConflictError, NotFoundError, UnavailableError
from ledger.examples import cbam_rules, regional_rules
from ledger.examples import crossborder as xb
from ledger.examples import knowledge as kb
from ledger.examples.factors import FS_CN_MEE_2023

__all__ = ["StoryResult", "declaration_record", "tell_crossborder_story"]

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


def _get(client: LedgerClient, path: str, params: Mapping[str, str]) -> Any:
    response = client.http.get(path, params=dict(params))
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
