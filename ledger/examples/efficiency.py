"""Example carbon-efficiency records: the maker's plant, its three collection terminals,
their signed hourly readings, the metadata templates, an industry benchmark, the grading
rule and the evaluation (docs/RECORDS.md §3.12-§3.16, docs/CALC.md §14).

The plant and its figures are fictional. The grading rule's thresholds are the published
provincial method (docs/CALC.md §14.4 cites it); the industry average is **illustrative**,
not a published figure. Grid electricity and natural gas use the example factor sets
(China MEE/NBS 2023 grid, IPCC 2006 natural gas).

Terminal keys are derived from fixed seeds, so the keys are reproducible; an SM2 signature
draws a fresh random k, so the SM2 readings (and with them the batch digests) differ from
one call to the next, each one valid.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.core.calc.efficiency import compute_carbon_efficiency
from ledger.core.calc.inputs import factor_use, find_entry
from ledger.core.keys import ALG_SM2_SM3, SigningKey, public_key_of
from ledger.core.readings import reading_content, sign_reading
from ledger.core.records import validate_record
from ledger.core.sm2 import SM2PrivateKey
from ledger.examples import factors as ref
from ledger.examples.builder import DigestOf, RecordBook, envelope

ENTERPRISE = "urn:carbonledger:enterprise:example-anticorrosion-equipment"
ENTERPRISE_NAME = "Example Anti-Corrosion Equipment Co., Ltd."
INDUSTRY = {"code": "C34", "name": "General-purpose equipment manufacturing"}
PRODUCER_METERING = "urn:carbonledger:producer:example-plant-edge-gateway"
PRODUCER_EFFICIENCY = "urn:carbonledger:producer:carbon-efficiency-desk"

TPL_PUBLIC_METER = "urn:carbonledger:metadata-template:public-meter-v1"
TPL_INDUSTRY_METER = "urn:carbonledger:metadata-template:c34-meter-v1"
TPL_ENTERPRISE_METER = "urn:carbonledger:metadata-template:example-plant-meter-v1"
TPL_EVALUATION = "urn:carbonledger:metadata-template:public-evaluation-v1"
RULE_EFFICIENCY = "urn:carbonledger:efficiency-grading-rule:zhejiang-2025"
BENCHMARK = "urn:carbonledger:industry-benchmark:c34-cn-zj-illustrative"
EVALUATION = "urn:carbonledger:carbon-efficiency:example-plant"

# January 2026 in China Standard Time (UTC+8), the evaluation period of the examples.
PERIOD_START = datetime(2025, 12, 31, 16, tzinfo=UTC)
VALUE_ADDED_CNY_PER_DAY = Decimal("120000")
ISSUED_AT = "2026-02-01T02:00:00Z"


@dataclass(frozen=True)
class Terminal:
    """A collection terminal: its identifier, the metering point it reads, what it measures."""

    id: str
    metering_point: str
    field: str
    unit: str
    key: SigningKey
    profile: Callable[[int], Decimal]  # hour of the day (local time) -> quantity

    def terminal_json(self) -> dict[str, str]:
        public = public_key_of(self.key)
        out = {"id": self.id, "alg": public.scheme, "public_key": public.raw.hex()}
        if public.scheme == ALG_SM2_SM3 and public.distinguishing_id is not None:
            out["distinguishing_id"] = public.distinguishing_id.decode("utf-8")
        return out


def _seed(name: str) -> bytes:
    return hashlib.sha256(b"carbonledger.example-terminal\x00" + name.encode()).digest()


def _grid(hour: int) -> Decimal:
    # Base load around the clock, production load on the day shift (08:00-18:00).
    return Decimal("182.5") + (Decimal("296.0") if 8 <= hour < 18 else Decimal(0))


def _gas(hour: int) -> Decimal:
    # Heat treatment and coating cure run on two shifts (06:00-22:00).
    return Decimal("3.15") if 6 <= hour < 22 else Decimal("0.40")


def _pv(hour: int) -> Decimal:
    # A winter day on the roof: nothing at night, a peak at noon.
    curve = {8: "12.4", 9: "38.6", 10: "61.2", 11: "74.8", 12: "78.3", 13: "70.1"}
    curve.update({14: "52.7", 15: "29.9", 16: "8.6"})
    return Decimal(curve.get(hour, "0"))


def terminals() -> tuple[Terminal, ...]:
    """The plant's three terminals: grid and gas meters sign with SM2/SM3, the rooftop PV
    inverter's gateway with Ed25519."""
    grid_id, gas_id, pv_id = "88.118.8/TM-GRID-01", "88.118.8/TM-GAS-01", "88.118.8/TM-PV-01"
    return (
        Terminal(
            grid_id,
            "88.118.8/MP-GRID-01",
            "electricity_import",
            "kWh",
            SM2PrivateKey(_seed(grid_id), grid_id.encode("utf-8")),
            _grid,
        ),
        Terminal(
            gas_id,
            "88.118.8/MP-GAS-01",
            "natural_gas",
            "GJ",
            SM2PrivateKey(_seed(gas_id), gas_id.encode("utf-8")),
            _gas,
        ),
        Terminal(
            pv_id,
            "88.118.8/MP-PV-01",
            "pv_generation",
            "kWh",
            Ed25519PrivateKey.from_private_bytes(_seed(pv_id)),
            _pv,
        ),
    )


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def signed_batch(
    terminal: Terminal,
    rid: str,
    readings: Sequence[tuple[datetime, datetime, str]],
    digests: Mapping[str, str],
    *,
    template: str | None = TPL_ENTERPRISE_METER,
    metering_point: str | None = None,
    unit: str | None = None,
    issued_at: str = ISSUED_AT,
) -> dict[str, Any]:
    """A meter-reading batch of ``readings`` (start, end, quantity), each signed by
    ``terminal`` (for another metering point or unit than its own when given)."""
    point = metering_point or terminal.metering_point
    body: dict[str, Any] = {
        "metering_point": point,
        "terminal": terminal.terminal_json(),
        "field": terminal.field,
        "unit": unit or terminal.unit,
        "readings": [],
    }
    refs = []
    if template is not None:
        body["template"] = {"id": template, "digest": digests[template]}
        refs.append({"rel": "template", "id": template, "digest": digests[template]})
    for start, end, quantity in readings:
        reading = {"start": rfc3339(start), "end": rfc3339(end), "quantity": quantity}
        reading["signature"] = sign_reading(terminal.key, reading_content(body, reading))
        body["readings"].append(reading)
    return envelope("meter-reading", rid, point, issued_at, PRODUCER_METERING, body, refs)


def reading_batch(
    terminal: Terminal,
    day: int,
    digests: Mapping[str, str],
    *,
    template: str | None = TPL_ENTERPRISE_METER,
) -> dict[str, Any]:
    """One day (24 hourly readings, local time) of one terminal, each reading signed."""
    start = PERIOD_START + timedelta(days=day)
    readings = [
        (start + timedelta(hours=h), start + timedelta(hours=h + 1), str(terminal.profile(h)))
        for h in range(24)
    ]
    local_day = (start + timedelta(hours=8)).date().isoformat()
    point = terminal.metering_point.split("/")[1].lower()
    rid = f"urn:carbonledger:meter-reading:{point}-{local_day}"
    return signed_batch(terminal, rid, readings, digests, template=template)


def _field(key: str, name: str, units: list[str], **extra: Any) -> dict[str, Any]:
    return {"key": key, "name": name, "units": units, "required": False, **extra}


def _link(rid: str, digests: Mapping[str, str]) -> dict[str, str]:
    return {"id": rid, "digest": digests[rid]}


def public_meter_template() -> dict[str, Any]:
    """The public template of energy readings: what a metering point may measure."""
    return envelope(
        "metadata-template",
        TPL_PUBLIC_METER,
        "public-meter-v1",
        ISSUED_AT,
        ref.PRODUCER_REFDATA,
        {
            "level": "public",
            "applies_to": "meter-reading",
            "name": "Energy readings of a metering point",
            "version": "1",
            "fields": [
                _field("electricity_import", "Electricity from the grid", ["kWh", "MWh"], min="0"),
                _field(
                    "natural_gas", "Natural gas burnt (net calorific value)", ["GJ", "MJ"], min="0"
                ),
                _field(
                    "pv_generation", "Photovoltaic electricity generated", ["kWh", "MWh"], min="0"
                ),
            ],
        },
        [],
    )


def industry_meter_template(digests: Mapping[str, str]) -> dict[str, Any]:
    """The C34 industry template: hourly readings of a plant of the industry, ranges narrowed."""
    return envelope(
        "metadata-template",
        TPL_INDUSTRY_METER,
        "c34-meter-v1",
        ISSUED_AT,
        ref.PRODUCER_REFDATA,
        {
            "level": "industry",
            "applies_to": "meter-reading",
            "name": "Hourly energy readings, general-purpose equipment manufacturing",
            "version": "1",
            "industry": dict(INDUSTRY),
            "extends": _link(TPL_PUBLIC_METER, digests),
            "fields": [
                _field(
                    "electricity_import",
                    "Electricity from the grid",
                    ["kWh", "MWh"],
                    min="0",
                    max="5000",
                ),
                _field(
                    "natural_gas",
                    "Natural gas burnt (net calorific value)",
                    ["GJ"],
                    min="0",
                    max="40",
                ),
                _field(
                    "pv_generation",
                    "Photovoltaic electricity generated",
                    ["kWh", "MWh"],
                    min="0",
                    max="2000",
                ),
            ],
        },
        [{"rel": "template", **_link(TPL_PUBLIC_METER, digests)}],
    )


def enterprise_meter_template(digests: Mapping[str, str]) -> dict[str, Any]:
    """The plant's own template: its meters read kWh, within its connection's capacity."""
    return envelope(
        "metadata-template",
        TPL_ENTERPRISE_METER,
        "example-plant-meter-v1",
        ISSUED_AT,
        PRODUCER_METERING,
        {
            "level": "enterprise",
            "applies_to": "meter-reading",
            "name": "Hourly energy readings of the example plant",
            "version": "1",
            "industry": dict(INDUSTRY),
            "enterprise": {"id": ENTERPRISE, "name": ENTERPRISE_NAME},
            "extends": _link(TPL_INDUSTRY_METER, digests),
            "fields": [
                _field(
                    "electricity_import",
                    "Electricity from the grid (630 kVA)",
                    ["kWh"],
                    min="0",
                    max="1200",
                ),
                _field(
                    "pv_generation",
                    "Rooftop photovoltaic array (400 kWp)",
                    ["kWh"],
                    min="0",
                    max="400",
                ),
            ],
        },
        [{"rel": "template", **_link(TPL_INDUSTRY_METER, digests)}],
    )


def evaluation_template() -> dict[str, Any]:
    """The public template of evaluations: the energy data an evaluation counts."""
    return envelope(
        "metadata-template",
        TPL_EVALUATION,
        "public-evaluation-v1",
        ISSUED_AT,
        ref.PRODUCER_REFDATA,
        {
            "level": "public",
            "applies_to": "carbon-efficiency",
            "name": "Energy use of an enterprise over an evaluation period",
            "version": "1",
            "fields": [
                {
                    **_field(
                        "electricity_import", "Electricity from the grid", ["kWh", "MWh"], min="0"
                    ),
                    "required": True,
                },
                _field(
                    "natural_gas", "Natural gas burnt (net calorific value)", ["GJ", "MJ"], min="0"
                ),
                _field("pv_generation", "Own photovoltaic electricity", ["kWh", "MWh"], min="0"),
            ],
        },
        [],
    )


def grading_rule() -> dict[str, Any]:
    """The provincial grading method: levels by L, grades by K (docs/CALC.md §14.4)."""
    return envelope(
        "efficiency-grading-rule",
        RULE_EFFICIENCY,
        "zhejiang-2025",
        ISSUED_AT,
        ref.PRODUCER_REFDATA,
        {
            "scheme": "Carbon-efficiency grading of industrial enterprises above designated size",
            "version": "2025",
            "source": {
                "reference": "Zhejiang province, 规上工业企业碳效等级评价方法 (carbon-efficiency "
                "grading of industrial enterprises above designated size), thresholds as quoted "
                "in secondary copies; revised yearly",
            },
            "intensity_unit": "tCO2/10^4CNY",
            "levels": [
                {"level": "low", "max_inclusive": "0.6"},
                {"level": "medium", "max_inclusive": "2.0"},
                {"level": "high", "max_inclusive": None},
            ],
            "grades": [
                {"grade": 1, "max_inclusive": "0.6"},
                {"grade": 2, "max_inclusive": "0.8"},
                {"grade": 3, "max_inclusive": "1.2"},
                {"grade": 4, "max_inclusive": "2.0"},
                {"grade": 5, "max_inclusive": None},
            ],
            "rounding": {"mode": "ROUND_HALF_UP", "places": 2},
            "note": "The method publishes the thresholds, not the rounding: two places, half up, "
            "is this rule's choice for the figures shown and graded.",
        },
        [],
    )


def benchmark(days: int = 31, average: str = "0.85") -> dict[str, Any]:
    """An **illustrative** industry average for the evaluation period (not a published figure)."""
    return envelope(
        "industry-benchmark",
        BENCHMARK,
        "c34-cn-zj-illustrative",
        ISSUED_AT,
        ref.PRODUCER_REFDATA,
        {
            "industry": dict(INDUSTRY),
            "region": "CN-ZJ",
            "period": {
                "start": rfc3339(PERIOD_START),
                "end": rfc3339(PERIOD_START + timedelta(days=days)),
            },
            "average_intensity": average,
            "unit": "tCO2/10^4CNY",
            "publisher": "carbonledger examples",
            "source": {"reference": "illustrative figure for the examples; no published source"},
            "status": "illustrative",
        },
        [],
    )


_FACTORS = {
    "electricity_import": (ref.FS_CN_MEE_2023, "cn-2023-national", "consumption"),
    "natural_gas": (ref.FS_IPCC_2006, "ng-default", "consumption"),
    "pv_generation": (ref.FS_CN_MEE_2023, "cn-2023-national", "zero-carbon-power"),
}


def evaluation(
    records: Mapping[str, dict[str, Any]],
    digests: Mapping[str, str],
    batches: Mapping[str, list[str]],
    *,
    days: int = 31,
    value_added: str | None = None,
) -> dict[str, Any]:
    """The plant's evaluation over the period; its figures are computed by calc/1.

    ``batches``: field -> the ids of the meter-reading batches that feed it.
    """
    validated = {rid: validate_record(r) for rid, r in records.items()}
    sources = []
    refs: list[dict[str, Any]] = []
    for line, (fld, ids) in enumerate(sorted(batches.items()), start=1):
        set_id, entry_id, kind = _FACTORS[fld]
        factor_set = validated[set_id]
        unit = records[ids[0]]["body"]["unit"]
        sources.append(
            {
                "line_id": f"E{line}",
                "kind": kind,
                "field": fld,
                "readings": [_link(i, digests) for i in ids],
                "unit": unit,
                "factor": factor_use(set_id, find_entry(factor_set, entry_id), digests[set_id]),
            }
        )
        refs += [{"rel": "meter-reading", **_link(i, digests)} for i in ids]
    for rid, rel in ((ref.FS_CN_MEE_2023, "factor-set"), (ref.FS_IPCC_2006, "factor-set")):
        refs.append({"rel": rel, **_link(rid, digests)})
    refs += [
        {"rel": "rule", **_link(RULE_EFFICIENCY, digests)},
        {"rel": "benchmark", **_link(BENCHMARK, digests)},
        {"rel": "template", **_link(TPL_EVALUATION, digests)},
    ]
    points = sorted({records[i]["body"]["metering_point"] for ids in batches.values() for i in ids})
    body: dict[str, Any] = {
        "enterprise": {"id": ENTERPRISE, "name": ENTERPRISE_NAME},
        "industry": dict(INDUSTRY),
        "period": {
            "start": rfc3339(PERIOD_START),
            "end": rfc3339(PERIOD_START + timedelta(days=days)),
        },
        "boundary": {
            "description": "The plant at its grid connection: grid electricity, natural gas "
            "for heat treatment and coating cure, the rooftop photovoltaic array",
            "metering_points": points,
        },
        "rule": _link(RULE_EFFICIENCY, digests),
        "benchmark": _link(BENCHMARK, digests),
        "template": _link(TPL_EVALUATION, digests),
        "sources": sources,
        "value_added": {
            "amount": value_added or str(VALUE_ADDED_CNY_PER_DAY * days),
            "currency": "CNY",
            "basis": "income-method",
        },
    }
    computed = compute_carbon_efficiency(body, validated)
    body = {**body, **computed}
    return envelope(
        "carbon-efficiency", EVALUATION, ENTERPRISE, ISSUED_AT, PRODUCER_EFFICIENCY, body, refs
    )


def efficiency_example_records(digest_of: DigestOf, *, days: int = 31) -> dict[str, dict[str, Any]]:
    """Every carbon-efficiency example record by id, references first: factor sets,
    templates, rule, benchmark, ``days`` days of hourly readings of the three terminals in
    daily batches, and the evaluation over those days."""
    book = RecordBook(digest_of)
    add, records, digests = book.add, book.records, book.digests

    add(ref.cn_mee_2023_factor_set())
    add(ref.ipcc_2006_factor_set())
    add(public_meter_template())
    add(industry_meter_template(digests))
    add(enterprise_meter_template(digests))
    add(evaluation_template())
    add(grading_rule())
    add(benchmark(days))
    batches: dict[str, list[str]] = {}
    for terminal in terminals():
        for day in range(days):
            batch = add(reading_batch(terminal, day, digests))
            batches.setdefault(terminal.field, []).append(batch["id"])
    add(evaluation(records, digests, batches, days=days))
    return records
