"""A PACT v3 ``ProductFootprint`` from an anchored record (docs/PACT.md §3).

A footprint is built in two steps:

1. :func:`footprint_facts` (once, when the record is anchored): what follows from the
   record alone — its id, product identifiers, classification, validity period and the
   ``pcf`` — as plain JSON kept by the store's footprint index;
2. :func:`render_footprint` (on every answer): the facts with what may change or depends
   on the host — the status (``Active`` until superseded or revoked), the data owner's
   company name and ids, and the ``carbonledger-proof`` extension naming the record's
   digest, its anchor and the URL of its evidence bundle, so that the buyer can run
   ``carbon-verify`` on the figure it was given.

A ``carbon-record`` gives its cradle-to-gate stages (``raw_material`` and
``manufacturing_surface_treatment``; PACT's boundary is cradle-to-gate, our records are
cradle-to-grave); a ``factor-substitution`` gives the same stages of its result, in the
rule's output unit converted to kg CO2e per declared unit. Every figure is exact decimal
text; nothing is rounded here beyond what the record states.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from ledger.core.calc.arithmetic import calc_context, exact_text
from ledger.core.calc.lines import CRADLE_TO_GATE_STAGES, primary_data_share
from ledger.core.canonical import format_timestamp
from ledger.core.errors import MalformedError
from ledger.core.records import Record

__all__ = [
    "EXPORTABLE_TYPES",
    "EXTENSION_DATA_SCHEMA_PATH",
    "EXTENSION_FORMAT",
    "SPEC_VERSION",
    "Anchor",
    "DataOwner",
    "NotExportableError",
    "footprint_facts",
    "pf_id",
    "product_ids",
    "proof_extension",
    "render_footprint",
]

#: The PACT Tech Spec version the footprints conform to.
SPEC_VERSION = "3.0.0"
EXPORTABLE_TYPES = ("carbon-record", "factor-substitution")
#: ``data.format`` of the extension; its JSON Schema is served at EXTENSION_DATA_SCHEMA_PATH.
EXTENSION_FORMAT = "carbonledger-pact-proof/1"
EXTENSION_SPEC_VERSION = "2.0.0"
EXTENSION_DATA_SCHEMA_PATH = "/pact/extensions/carbonledger-proof/1.0.0/data-model.json"
_PF_ID_TAG = b"carbonledger.pact-pfid.v1\x00"
#: PACT ``declaredUnitOfMeasurement`` and the factor to its amount, per declared unit.
_DECLARED_UNITS = {
    "piece": ("piece", Decimal(1)),
    "kg": ("kilogram", Decimal(1)),
    "t": ("kilogram", Decimal(1000)),
    "m2": ("square meter", Decimal(1)),
}
#: Validity when a record states none: three years from the reference period's end.
DEFAULT_VALIDITY_YEARS = 3
# Characters of a URN's NSS kept as they are (RFC 8141 §2: pchar and "/").
_NSS_SAFE = "-._~!$&'()*+,;=:@/"


class NotExportableError(MalformedError):
    """The record has no PACT footprint (the reason says why)."""


@dataclass(frozen=True)
class DataOwner:
    """Who the footprints belong to: PACT ``companyName`` and ``companyIds`` (URNs)."""

    company_name: str
    company_ids: tuple[str, ...]


@dataclass(frozen=True)
class Anchor:
    """Where the record's batch is anchored."""

    chain_id: int
    anchor_registry: str
    batch_seq: int
    tx_hash: str
    block_number: int


def pf_id(digest_hex: str) -> str:
    """The footprint id of a record: a UUID version 8 (RFC 9562 §5.8) whose 122 free bits
    are the first bits of SHA-256(``carbonledger.pact-pfid.v1`` || 0x00 || digest).

    Anyone holding the record digest recomputes it, and one record has one id for ever.
    """
    raw = bytearray(hashlib.sha256(_PF_ID_TAG + bytes.fromhex(digest_hex)).digest()[:16])
    raw[6] = (raw[6] & 0x0F) | 0x80  # version 8
    raw[8] = (raw[8] & 0x3F) | 0x80  # variant 10 (RFC 9562 §4.1)
    return str(uuid.UUID(bytes=bytes(raw)))


def _urn(nid: str, value: str) -> str:
    return f"urn:{nid}:{quote(value, safe=_NSS_SAFE)}"


def product_ids(identifiers: Sequence[Mapping[str, str]]) -> list[str]:
    """PACT ``productIds`` (URNs) of the equipment identifiers (docs/PACT.md §3.2)."""
    out: list[str] = []
    for ident in identifiers:
        scheme, value = ident["scheme"], ident["value"]
        if scheme in ("gs1_giai", "gs1_sgtin"):
            urn = value  # already an EPC pure-identity URN
        elif scheme == "oid":
            urn = f"urn:oid:{value}"  # RFC 3061
        elif scheme in ("handle", "ecode"):
            urn = _urn(f"carbonledger:{scheme}", value)
        elif scheme == "ifc_globalid":
            urn = _urn("carbonledger:ifc", value)
        else:
            continue  # an internal number names nothing outside the plant
        if urn not in out:
            out.append(urn)
    return out


def _classifications(equipment: Mapping[str, Any]) -> list[str]:
    cn = equipment.get("cn_code")
    return [f"urn:pact:productclassification:cn:{cn}"] if cn else []


def _plus_years(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year + years, day=28)


def _text(value: Decimal) -> str:
    text = exact_text(value)
    return text[1:] if text.startswith("+") else text


def _stage_sum(by_stage: Mapping[str, str], stages: Sequence[str], ctx: Any) -> Decimal:
    total = Decimal(0)
    for stage in CRADLE_TO_GATE_STAGES:
        if stage in stages and stage in by_stage:
            total = ctx.add(total, Decimal(by_stage[stage]))
    return total


def _boundary_text(stages: Sequence[str], kind: str) -> str:
    kept = [s for s in CRADLE_TO_GATE_STAGES if s in stages]
    left = [s for s in stages if s not in CRADLE_TO_GATE_STAGES]
    text = f"Cradle-to-gate part of a carbonledger {kind}: stages {', '.join(kept)}"
    if left:
        text += f"; the record's other stages ({', '.join(left)}) are not part of this PCF"
    return text + "."


def footprint_facts(record: Record, *, source: Record | None = None) -> dict[str, Any]:
    """The static part of the footprint of ``record`` (a carbon record, or a conversion
    with its ``source`` carbon record), as JSON-ready data.

    Raises :class:`NotExportableError` when the record has no cradle-to-gate figure.
    """
    if record.type == "carbon-record":
        carbon = record
    elif record.type == "factor-substitution":
        if source is None or source.type != "carbon-record":
            raise NotExportableError(f"{record.id}: its source carbon record is needed")
        carbon = source
    else:
        raise NotExportableError(f"{record.id}: a {record.type} has no product footprint")
    body = carbon.body
    equipment = body["equipment"]
    stages = body["boundary"]["stages"]
    ctx = calc_context()
    unit, factor = _DECLARED_UNITS[equipment["declared_unit"]["unit"]]
    amount = ctx.multiply(Decimal(equipment["declared_unit"]["amount"]), factor)
    mass: Decimal | None
    if unit == "kilogram":
        mass = amount
    elif "mass_kg" in equipment:
        mass = Decimal(equipment["mass_kg"])
    else:
        mass = None
    standards = list(body["methodology"]["standards"])
    gwp = body["methodology"]["gwp_set"]
    if record.type == "carbon-record":
        if not any(s in stages for s in CRADLE_TO_GATE_STAGES):
            raise NotExportableError(f"{record.id}: no cradle-to-gate stage in its boundary")
        pcf_kg = _stage_sum(body["totals"]["by_stage"], stages, ctx)
        share = primary_data_share(record)
        boundary = _boundary_text(stages, "carbon record")
        kind = "carbon record"
    else:
        result = record.body["result"]
        out_unit = result["unit"]
        figure = _stage_sum(result["by_stage"], CRADLE_TO_GATE_STAGES, ctx)
        if not any(s in result["by_stage"] for s in CRADLE_TO_GATE_STAGES):
            raise NotExportableError(f"{record.id}: its result has no cradle-to-gate stage")
        if out_unit.startswith("t"):
            figure = ctx.multiply(figure, Decimal(1000))
        if out_unit.endswith("/t"):
            # Per tonne of product: the declared unit becomes 1000 kilogram.
            unit, amount, mass = "kilogram", Decimal(1000), Decimal(1000)
        pcf_kg = figure
        gwp = record.body["gwp"]["to"]
        share = None
        boundary = (
            _boundary_text(
                [s for s in CRADLE_TO_GATE_STAGES if s in result["by_stage"]], "conversion"
            )
            + f" Recomputed under region rule {record.body['rule']['id']}."
        )
        kind = "conversion"
    if mass is None:
        raise NotExportableError(
            f"{record.id}: equipment.mass_kg is needed for PACT productMassPerDeclaredUnit"
        )
    if pcf_kg < 0:
        raise NotExportableError(f"{record.id}: its cradle-to-gate figure is negative")
    exclusions = body["boundary"].get("exclusions", [])
    pcf: dict[str, Any] = {
        "declaredUnitOfMeasurement": unit,
        "declaredUnitAmount": _text(amount),
        "productMassPerDeclaredUnit": _text(mass),
        "referencePeriodStart": body["reference_period"]["start"],
        "referencePeriodEnd": body["reference_period"]["end"],
        "boundaryProcessesDescription": boundary,
        # carbonledger records carry no biogenic lines: every emission is fossil.
        "pcfExcludingBiogenicUptake": _text(pcf_kg),
        "pcfIncludingBiogenicUptake": _text(pcf_kg),
        "fossilGhgEmissions": _text(pcf_kg),
        "fossilCarbonContent": "0",
        "ipccCharacterizationFactors": [gwp],
        "crossSectoralStandards": standards,
        "exemptedEmissionsPercent": "0",
    }
    quality = record.body.get("quality")
    if isinstance(quality, Mapping):
        _add_quality(pcf, quality, exclusions)
    else:
        if exclusions:
            pcf["exemptedEmissionsDescription"] = (
                "; ".join(f"{e['what']}: {e['reason']}" for e in exclusions)
                + " (share not quantified by the source record)"
            )
        if share is not None:
            pcf["primaryDataShare"] = share
    end = datetime.fromisoformat(body["reference_period"]["end"].replace("Z", "+00:00"))
    ids = product_ids(equipment["identifiers"])
    comment = (
        f"The {kind} {record.id} as recorded and anchored by carbonledger; fossil carbon "
        "content not assessed by the source record "
        "(reported as 0). Verify the figure with carbon-verify from the evidence bundle "
        "named in the carbonledger-proof extension."
    )
    return {
        "record_id": record.id,
        "record_type": record.type,
        "created": format_timestamp(record.issued_at),
        "validity_start": format_timestamp(end.astimezone(UTC)),
        "validity_end": format_timestamp(_plus_years(end.astimezone(UTC), DEFAULT_VALIDITY_YEARS)),
        "product_ids": ids,
        "classifications": _classifications(equipment),
        "geography": None,
        "description": equipment["name"]
        + (f" (converted under {record.body['rule']['id']})" if kind == "conversion" else ""),
        "name": equipment["name"],
        "comment": comment,
        "pcf": pcf,
        "report_sha256": _report_of(record),
    }


def _report_of(record: Record) -> str | None:
    quality = record.body.get("quality")
    assurance = quality.get("assurance") if isinstance(quality, Mapping) else None
    return assurance.get("report_sha256") if isinstance(assurance, Mapping) else None


def _add_quality(
    pcf: dict[str, Any], quality: Mapping[str, Any], exclusions: Sequence[Mapping[str, Any]]
) -> None:
    """PACT's quality members from a record's `quality` block (schema 2, docs/PACT.md §3.4)."""
    ctx = calc_context()
    pcf["exemptedEmissionsPercent"] = _text(
        ctx.subtract(Decimal(100), Decimal(quality["coverage_pct"]))
    )
    if exclusions:
        pcf["exemptedEmissionsDescription"] = "; ".join(
            f"{e['what']}: {e['reason']}" for e in exclusions
        )
    pcf["primaryDataShare"] = quality["primary_data_share"]
    ratings = quality["ratings"]
    pcf["dqi"] = {
        "technologicalDQR": ratings["technological"],
        "geographicalDQR": ratings["geographical"],
        "temporalDQR": ratings["temporal"],
    }
    assurance = quality.get("assurance")
    if isinstance(assurance, Mapping):
        provider = assurance["provider"]
        comments = (
            f"{assurance['level']} assurance, boundary {assurance['boundary']}"
            + (
                f"; provider accreditation {provider['accreditation']}"
                if "accreditation" in provider
                else ""
            )
            + (
                f"; report SHA-256 {assurance['report_sha256']}"
                if "report_sha256" in assurance
                else ""
            )
        )
        pcf["verification"] = {
            "coverage": assurance["coverage"],
            "providerName": provider["name"],
            "completedAt": assurance["completed_at"],
            "standardName": assurance["standard"],
            "comments": comments,
        }


def _attested(
    verification: Mapping[str, Any],
    facts: Mapping[str, Any],
    attestations: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    out = dict(verification)
    report = facts.get("report_sha256")
    for a in attestations:
        if report is not None and a.get("report_digest") == report:
            out["comments"] = (
                f"{out.get('comments', '')}; attested on-chain by {a['attester']} "
                f"(TrustRegistry, transaction {a['tx_hash']})"
            ).lstrip("; ")
            break
    return out


def proof_extension(
    *,
    base_url: str,
    record_id: str,
    record_type: str,
    digest_hex: str,
    state: str,
    anchor: Anchor,
) -> dict[str, Any]:
    """The ``carbonledger-proof`` data model extension (docs/PACT.md §4)."""
    bundle = f"{base_url}/v1/record/bundle?id={quote(record_id, safe=':')}"
    return {
        "specVersion": EXTENSION_SPEC_VERSION,
        "dataSchema": base_url + EXTENSION_DATA_SCHEMA_PATH,
        "data": {
            "format": EXTENSION_FORMAT,
            "recordId": record_id,
            "recordType": record_type,
            "digest": digest_hex,
            "state": state,
            "anchor": {
                "chainId": anchor.chain_id,
                "anchorRegistry": anchor.anchor_registry,
                "batchSeq": anchor.batch_seq,
                "txHash": anchor.tx_hash,
                "blockNumber": anchor.block_number,
            },
            "bundleUrl": bundle,
        },
    }


def render_footprint(
    facts: Mapping[str, Any],
    *,
    digest_hex: str,
    status: str,
    preceding: Sequence[str],
    owner: DataOwner,
    extension: Mapping[str, Any] | None,
    attestations: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """The ProductFootprint of stored ``facts``, in the schema's property order.

    ``attestations``: the record's attestations mined on-chain (``attester``,
    ``report_digest``, ``tx_hash``); one naming the assurance's report ties it to the
    chain, and the verification's comments say so."""
    out: dict[str, Any] = {
        "id": pf_id(digest_hex),
        "specVersion": SPEC_VERSION,
    }
    if preceding:
        out["precedingPfIds"] = list(preceding)
    out.update(
        {
            "created": facts["created"],
            "status": status,
            "validityPeriodStart": facts["validity_start"],
            "validityPeriodEnd": facts["validity_end"],
            "companyName": owner.company_name,
            "companyIds": list(owner.company_ids),
            "productDescription": facts["description"],
            "productIds": list(facts["product_ids"]),
        }
    )
    if facts["classifications"]:
        out["productClassifications"] = list(facts["classifications"])
    out["productNameCompany"] = facts["name"]
    out["comment"] = facts["comment"]
    pcf = dict(facts["pcf"])
    if "verification" in pcf:
        pcf["verification"] = _attested(pcf["verification"], facts, attestations)
    geography = facts.get("geography")
    if geography:
        pcf[geography["kind"]] = geography["value"]
    out["pcf"] = pcf
    if extension is not None:
        out["extensions"] = [dict(extension)]
    return out
