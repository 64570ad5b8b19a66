"""Pre-assessment, tariff burden and risk bands against hand-worked vectors
(ledger.core.crossborder, docs/CALC.md §11)."""

from __future__ import annotations

import copy
import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ledger.core.calc.arithmetic import calc_context
from ledger.core.crossborder.assessment import (
    NO_BASELINE,
    check_risk_assessment,
    compute_risk_assessment,
)
from ledger.core.crossborder.bands import risk_level
from ledger.core.crossborder.tariff import compute_tariff
from ledger.core.errors import (
    CalculationMismatchError,
    DigestMismatchError,
    MalformedError,
    NotFoundError,
)
from ledger.core.records import Record, validate_record
from ledger.examples import CR_HX, CR_TANK, FS_EU_CBAM_2026, RULE_EU_CBAM
from ledger.examples import crossborder as xb
from ledger.examples import knowledge as kb

VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "crossborder"
ASSESSMENTS = sorted(p.name for p in VECTORS.glob("assessment_*.json"))


def _load(name: str) -> dict[str, Any]:
    vector: dict[str, Any] = json.loads((VECTORS / name).read_text(encoding="utf-8"))
    assert vector["description"] and vector["source"]
    assert vector["calc_version"] == "calc/1"
    return vector


BANDS = _load("band_edges.json")


@pytest.mark.parametrize("case", BANDS["cases"], ids=lambda c: c["name"])
def test_band_edge_vector(case: dict[str, Any]) -> None:
    level, basis = risk_level(
        Decimal(case["figure"]),
        case["baseline"],
        case["bands"],
        burden_ok=case["burden_ok"],
        late_data=case["late_data"],
        ctx=calc_context(),
    )
    assert (level, basis) == (case["level"], case["basis"]), case["why"]


TARIFF = _load("tariff_burden.json")
TARIFF_RULES = {name: validate_record(r) for name, r in TARIFF["rules"].items()}


@pytest.mark.parametrize("case", TARIFF["cases"], ids=lambda c: c["name"])
def test_tariff_vector(case: dict[str, Any]) -> None:
    assert case["steps"]

    def run() -> dict[str, Any]:
        mass = case["mass_kg"]
        return compute_tariff(
            TARIFF_RULES[case["rule"]],
            cn_code=case["cn_code"],
            baseline=case["baseline"],
            emissions_kg=Decimal(case["emissions_kg"]),
            mass_kg=None if mass is None else Decimal(mass),
            import_year=case["import_year"],
            origin_price=case["origin_price"],
            ctx=calc_context(),
        )

    if "error" in case:
        with pytest.raises(MalformedError) as info:
            run()
        assert info.value.path == case["error"]["path"]
        assert case["error"]["message_contains"] in str(info.value)
    else:
        assert run() == case["expected"]


def _assess(vector: dict[str, Any]) -> dict[str, Any]:
    inputs = vector["inputs"]
    return compute_risk_assessment(
        validate_record(inputs["source"]),
        validate_record(inputs["rule"]),
        [validate_record(s) for s in inputs["factor_sets"]],
        assessed_on=date.fromisoformat(inputs["assessed_on"]),
        import_date=date.fromisoformat(inputs["import_date"]),
        choices={k: (v[0], v[1]) for k, v in inputs["choices"].items()},
        origin_price=inputs["origin_price"],
    )


def _project(items: list[dict[str, Any]], like: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each computed item cut down to the keys its expected counterpart lists."""
    return [{k: got[k] for k in want} for got, want in zip(items, like, strict=False)]


@pytest.mark.parametrize("name", ASSESSMENTS)
def test_assessment_vector(name: str) -> None:
    vector = _load(name)
    assert vector["steps"]
    expected = vector["expected"]
    computed = _assess(vector)
    for key in ("result", "baseline", "ratio", "level", "level_basis", "tariff"):
        assert computed[key] == expected[key], key
    assert len(computed["findings"]) == len(expected["findings"])
    assert _project(computed["findings"], expected["findings"]) == expected["findings"]
    assert [s["for"] for s in computed["suggestions"]] == expected["suggestions_for"]
    assert len(computed["differences"]) == len(expected["differences"])
    assert _project(computed["differences"], expected["differences"]) == expected["differences"]


def test_example_assessments_recompute(xb_records: dict[str, Record]) -> None:
    for rid in (xb.RA_TANK_EU, xb.RA_TANK_UK, xb.RA_TANK_NA, xb.RA_TANK_ME, xb.RA_HX_SEA):
        check_risk_assessment(xb_records[rid], xb_records)


def test_restricted_chemical_is_named(xb_records: dict[str, Record]) -> None:
    findings = xb_records[xb.RA_TANK_EU].body["findings"]
    named = {
        (f["line_id"], f["cas"], f["name"]) for f in findings if f["kind"] == "restricted-chemical"
    }
    assert named == {
        ("L02", "7789-06-2", "Strontium chromate"),
        ("L09", "1333-82-0", "Chromium trioxide"),
    }
    rectification = [
        s
        for s in xb_records[xb.RA_TANK_EU].body["suggestions"]
        if s["for"] == "restricted-chemicals"
    ]
    assert "chromate-free" in rectification[0]["en"] and "无铬" in rectification[0]["zh"]


def _tampered(raw: dict[str, Any], change: Any) -> Record:
    record = copy.deepcopy(raw)
    change(record["body"])
    return validate_record(record)


@pytest.mark.parametrize(
    ("attack", "change", "path"),
    [
        (
            "level_lowered",
            lambda b: b.update(level="none", level_basis=["at-or-below-baseline"]),
            "body.level",
        ),
        ("burden_understated", lambda b: b["tariff"].update(burden="10.00"), "body.tariff.burden"),
        ("figure_understated", lambda b: b["result"].update(total="2.100000"), "body.result.total"),
        (
            "baseline_raised",
            lambda b: b["baseline"].update(baseline="2.50"),
            "body.baseline.baseline",
        ),
        ("finding_dropped", lambda b: b["findings"].pop(), "body.findings"),
        (
            "import_year_moved",
            lambda b: b["inputs"].update(import_date="2034-06-01"),
            "body.tariff",
        ),
    ],
)
def test_tampered_assessment_fails_recomputation(
    xb_raw: dict[str, dict[str, Any]],
    xb_records: dict[str, Record],
    attack: str,
    change: Any,
    path: str,
) -> None:
    record = _tampered(xb_raw[xb.RA_TANK_EU], change)
    with pytest.raises(CalculationMismatchError) as info:
        check_risk_assessment(record, xb_records)
    assert str(info.value).startswith(path), attack


def test_assessment_of_another_subject_fails(
    xb_raw: dict[str, dict[str, Any]], xb_records: dict[str, Record]
) -> None:
    record = copy.deepcopy(xb_raw[xb.RA_TANK_EU])
    record["subject"] = "88.118.8/TI-HX-0042"
    with pytest.raises(CalculationMismatchError, match=r"^subject"):
        check_risk_assessment(validate_record(record), xb_records)


def test_assessment_needs_its_closure_and_digests(
    xb_raw: dict[str, dict[str, Any]], xb_records: dict[str, Record]
) -> None:
    record = xb_records[xb.RA_TANK_EU]
    without_rule = {k: v for k, v in xb_records.items() if k != kb.RULE_XB_EU}
    with pytest.raises(NotFoundError, match=r"body\.rule"):
        check_risk_assessment(record, without_rule)
    digests = {link["id"]: link["digest"] for link in record.raw["refs"]}
    check_risk_assessment(record, xb_records, digests=digests)
    digests[kb.RULE_XB_EU] = "0" * 64
    with pytest.raises(DigestMismatchError, match=r"body\.rule\.digest"):
        check_risk_assessment(record, xb_records, digests=digests)


def _assess_records(
    records: dict[str, Record], source: str, rule: str, sets: list[str], **kw: Any
) -> dict[str, Any]:
    kw.setdefault("assessed_on", date(2026, 2, 20))
    kw.setdefault("import_date", date(2026, 6, 1))
    return compute_risk_assessment(records[source], records[rule], [records[s] for s in sets], **kw)


def test_choice_against_the_mandatory_factor_is_refused(xb_records: dict[str, Record]) -> None:
    """The North-American rule makes the US grid factor mandatory: picking the other
    grid of the same set (or any other entry) is refused, naming both."""
    choice = {"L04": (kb.FS_XB_GRIDS, "nga-2024-au")}
    with pytest.raises(MalformedError) as info:
        _assess_records(xb_records, CR_TANK, kb.RULE_XB_NA, [kb.FS_XB_GRIDS], choices=choice)
    assert info.value.path == "inputs.choices"
    assert "egrid-2023-us" in str(info.value) and "nga-2024-au" in str(info.value)
    same = {"L04": (kb.FS_XB_GRIDS, "egrid-2023-us")}
    body = _assess_records(xb_records, CR_TANK, kb.RULE_XB_NA, [kb.FS_XB_GRIDS], choices=same)
    assert body["level"] == "red"
    assert body["inputs"]["choices"] == [
        {"line_id": "L04", "set": kb.FS_XB_GRIDS, "entry": "egrid-2023-us"}
    ]


def test_mandatory_factor_replaces_even_a_cheaper_candidate(xb_records: dict[str, Record]) -> None:
    """Without the mandatory factor the rule's two grid entries would leave the choice
    open; with it, the line is substituted by the named entry."""
    body = _assess_records(xb_records, CR_TANK, kb.RULE_XB_NA, [kb.FS_XB_GRIDS])
    replaced = [d for d in body["differences"] if d["kind"] == "factor-replaced"]
    assert [(d["line_id"], d["replacement"]["entry"]) for d in replaced] == [
        ("L04", "egrid-2023-us")
    ]


def test_no_baseline_is_not_assessable(xb_records: dict[str, Record]) -> None:
    """The heat exchanger (CN 8419) against EU CBAM: no baseline, not a levied good."""
    body = _assess_records(xb_records, CR_HX, kb.RULE_XB_EU, [FS_EU_CBAM_2026])
    assert body["level"] == "not-assessable"
    assert body["level_basis"] == ["no-baseline"]
    assert body["baseline"] is None and body["ratio"] is None
    assert body["tariff"]["status"] == "not-levied"
    assert {"kind": "no-baseline", "cn_code": "8419", "message": NO_BASELINE} in body["findings"]


def test_record_without_cn_code_is_not_assessable(xb_records: dict[str, Record]) -> None:
    draft = copy.deepcopy(dict(xb_records[CR_HX].raw))
    del draft["body"]["equipment"]["cn_code"]
    body = compute_risk_assessment(
        validate_record(draft),
        xb_records[kb.RULE_XB_SEA],
        [xb_records[s["id"]] for s in xb_records[kb.RULE_XB_SEA].body["factor_sets"]],
        assessed_on=date(2026, 2, 20),
        import_date=date(2026, 4, 15),
        choices={"H03": ("urn:carbonledger:factor-set:cn-mee-nbs-2023-grid", "cn-2023-east")},
    )
    assert body["level"] == "not-assessable" and body["cn_code"] is None


def test_draft_record_is_assessed_like_a_stored_one(xb_records: dict[str, Record]) -> None:
    """A draft (validated, never stored) with the chromate line removed: no restricted
    chemical left but the primer's."""
    draft = copy.deepcopy(dict(xb_records[xb.CR_TANK_XB].raw))
    draft["id"] = "urn:carbonledger:carbon-record:draft-0001"
    draft["body"]["lines"].pop()
    from ledger.core.calc.lines import compute_carbon_totals

    draft["body"]["totals"] = compute_carbon_totals(validate_record(draft))
    body = _assess_records(
        {**xb_records, draft["id"]: validate_record(draft)},
        draft["id"],
        kb.RULE_XB_EU,
        [FS_EU_CBAM_2026],
    )
    cas = [f["cas"] for f in body["findings"] if f["kind"] == "restricted-chemical"]
    assert cas == ["7789-06-2"]


def test_version_1_rule_cannot_pre_assess(xb_records: dict[str, Record]) -> None:
    with pytest.raises(MalformedError, match="schema version 1"):
        _assess_records(xb_records, CR_TANK, RULE_EU_CBAM, [FS_EU_CBAM_2026])


def test_origin_price_deduction(xb_records: dict[str, Record]) -> None:
    body = _assess_records(
        xb_records,
        xb.CR_TANK_XB,
        kb.RULE_XB_EU,
        [FS_EU_CBAM_2026],
        origin_price={"per_t": "20", "covered_share": "0.5"},
    )
    assert body["tariff"]["origin_deduction_t"] == "3.65838"
    assert body["tariff"]["burden"] == "712.94"
    with pytest.raises(MalformedError) as info:
        _assess_records(
            xb_records,
            xb.CR_TANK_XB,
            kb.RULE_XB_EU,
            [FS_EU_CBAM_2026],
            origin_price={"per_t": "20", "covered_share": "1.5"},
        )
    assert info.value.path == "inputs.origin_price.covered_share"


def test_supplied_required_data_clears_the_finding(xb_records: dict[str, Record]) -> None:
    """The Middle-Eastern rule's monitoring data, once in the record (with evidence), is
    no longer missing, and the level falls back to what the figure says."""
    from ledger.core.calc.lines import compute_carbon_totals

    draft = copy.deepcopy(dict(xb_records[CR_TANK].raw))
    draft["id"] = "urn:carbonledger:carbon-record:draft-monitoring"
    line = copy.deepcopy(draft["body"]["lines"][3])
    line.update(
        line_id="L10",
        stage="operation_maintenance",
        process="Explosion-proof monitoring system over 20 years",
        quantity="2400",
        evidence=[{"kind": "commissioning record", "sha256": "ab" * 32}],
    )
    # The source's own factors are checked by check_carbon_record, not here: the
    # activity key is what the rule's filter reads.
    line["factor"]["activity"] = "electricity.monitoring.hazardous_area"
    draft["body"]["lines"].append(line)
    draft["body"]["totals"] = compute_carbon_totals(validate_record(draft))
    body = _assess_records(
        {**xb_records, draft["id"]: validate_record(draft)},
        draft["id"],
        kb.RULE_XB_ME,
        [],
        import_date=date(2026, 3, 10),
    )
    assert [f for f in body["findings"] if f["kind"] == "required-data-missing"] == []
    # 48367.082 + 2400 x 0.5306 = 49640.522 -> 49641 <= 50000
    assert (body["result"]["total"], body["level"]) == ("49641", "none")


@pytest.mark.parametrize(
    ("attack", "change", "path", "message"),
    [
        (
            "same_file_listed_twice",
            lambda b: b["documents"].append(copy.deepcopy(b["documents"][0])),
            "body.documents[2]",
            "duplicate document hash",
        ),
        (
            "language_not_offered",
            lambda b: b["documents"][0].update(languages=["fr"]),
            "body.documents[0].languages[0]",
            "expected one of en, zh",
        ),
        (
            "hash_upper_case",
            lambda b: b["documents"][0].update(sha256=b["documents"][0]["sha256"].upper()),
            "body.documents[0].sha256",
            "lowercase hex",
        ),
        (
            "signer_without_accreditation_body",
            lambda b: b["signing_body"].pop("accreditation_body"),
            "body.signing_body.accreditation_body",
            "missing required field",
        ),
    ],
)
def test_malformed_equivalence_declaration(
    xb_raw: dict[str, dict[str, Any]], attack: str, change: Any, path: str, message: str
) -> None:
    record = copy.deepcopy(xb_raw[xb.ED_TANK_EU])
    change(record["body"])
    with pytest.raises(MalformedError) as info:
        validate_record(record)
    assert info.value.path == path, attack
    assert message in str(info.value)


def test_equivalence_declaration_links_its_conversion(xb_records: dict[str, Record]) -> None:
    from ledger.examples import SUB_TANK_EU

    declaration = xb_records[xb.ED_TANK_EU]
    assert [(r.rel, r.id) for r in declaration.refs] == [("source", SUB_TANK_EU)]
    assert declaration.subject == xb_records[SUB_TANK_EU].subject
    assert {lang for d in declaration.body["documents"] for lang in d["languages"]} == {"en", "zh"}


def test_import_date_out_of_range_is_refused(xb_records: dict[str, Record]) -> None:
    """A year the deadline arithmetic could overflow on is a clear error, not a crash."""
    with pytest.raises(MalformedError) as info:
        _assess_records(xb_records, CR_TANK, kb.RULE_XB_ME, [], import_date=date(9999, 12, 1))
    assert info.value.path == "inputs.import_date"


def test_origin_price_for_a_good_outside_the_levy_is_refused(xb_records: dict[str, Record]) -> None:
    with pytest.raises(MalformedError) as info:
        _assess_records(
            xb_records,
            CR_HX,
            kb.RULE_XB_EU,
            [FS_EU_CBAM_2026],
            origin_price={"per_t": "20", "covered_share": "1"},
        )
    assert info.value.path == "inputs.origin_price" and "not levied" in str(info.value)


def _na_conversion(records: dict[str, Record]) -> dict[str, Any]:
    """The tank's conversion under the North-American rule, as a record."""
    from ledger.examples import seeded_digest, substitution_record

    raw = {rid: dict(r.raw) for rid, r in records.items()}
    used = (CR_TANK, kb.RULE_XB_NA, kb.FS_XB_GRIDS)
    digests = {rid: seeded_digest(raw[rid]) for rid in used}
    return substitution_record(
        "urn:carbonledger:factor-substitution:st-tk-0101-north-america",
        "2026-02-21T09:00:00Z",
        raw[CR_TANK],
        raw[kb.RULE_XB_NA],
        [raw[kb.FS_XB_GRIDS]],
        {**digests, **{link["id"]: link["digest"] for link in raw[CR_TANK]["refs"]}},
    )


def test_conversion_applies_the_mandatory_factor(xb_records: dict[str, Record]) -> None:
    """Among the rule's two grid entries the conversion takes the one the rule makes
    mandatory, without being told; its recomputation agrees."""
    from ledger.core.calc.substitution import check_substitution

    record = validate_record(_na_conversion(xb_records))
    l04 = next(line for line in record.body["lines"] if line["line_id"] == "L04")
    assert (l04["action"], l04["replacement"]["entry"]) == ("substitute", "egrid-2023-us")
    check_substitution(record, xb_records)


def test_conversion_picking_another_factor_than_the_mandatory_one_is_refused(
    xb_records: dict[str, Record],
) -> None:
    from ledger.core.calc.substitution import check_substitution, compute_substitution

    with pytest.raises(MalformedError) as info:
        compute_substitution(
            xb_records[CR_TANK],
            xb_records[kb.RULE_XB_NA],
            [xb_records[kb.FS_XB_GRIDS]],
            choices={"L04": (kb.FS_XB_GRIDS, "nga-2024-au")},
        )
    assert info.value.path == "choices" and "egrid-2023-us" in str(info.value)
    # A stored conversion that quotes the other grid entry fails its recomputation.
    forged = _na_conversion(xb_records)
    grids = xb_records[kb.FS_XB_GRIDS]
    line = next(x for x in forged["body"]["lines"] if x["line_id"] == "L04")
    entry = next(e for e in grids.body["entries"] if e["id"] == "nga-2024-au")
    line["replacement"] = {**line["replacement"], "entry": entry["id"], "value": entry["value"]}
    with pytest.raises(MalformedError, match="mandatory"):
        check_substitution(validate_record(forged), xb_records)
    # One that keeps the source's own grid factor does not add up either.
    kept = _na_conversion(xb_records)
    line = next(x for x in kept["body"]["lines"] if x["line_id"] == "L04")
    line["action"] = "keep"
    line["factor"] = line.pop("original")
    del line["replacement"]
    with pytest.raises(CalculationMismatchError, match=r"^body\.lines"):
        check_substitution(validate_record(kept), xb_records)
