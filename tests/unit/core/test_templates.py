"""Metadata templates (ledger.core.templates, docs/RECORDS.md §3.13): the effective fields of
an enterprise template, narrowing and widening, and submissions checked field by field."""

from __future__ import annotations

import copy
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from ledger.core.calc.efficiency import check_carbon_efficiency
from ledger.core.errors import MalformedError
from ledger.core.records import Record, validate_record
from ledger.core.templates import (
    TemplateMismatchError,
    check_meter_reading_template,
    effective_fields,
)
from ledger.examples import efficiency as ex
from ledger.examples import seeded_digest


@pytest.fixture(scope="module")
def plant() -> dict[str, dict[str, Any]]:
    return ex.efficiency_example_records(seeded_digest, days=1)


def _closure(raws: dict[str, dict[str, Any]]) -> dict[str, Record]:
    return {rid: validate_record(r) for rid, r in raws.items()}


def _mutated(
    plant: dict[str, dict[str, Any]], rid: str, change: Callable[[dict[str, Any]], object]
) -> dict[str, Record]:
    raws = copy.deepcopy(plant)
    change(raws[rid])
    return _closure(raws)


def _batch(plant: dict[str, dict[str, Any]], field: str) -> str:
    return next(
        rid
        for rid, r in plant.items()
        if r["type"] == "meter-reading" and r["body"]["field"] == field
    )


def test_enterprise_template_inherits_and_narrows(plant: dict[str, dict[str, Any]]) -> None:
    closure = _closure(plant)
    fields = effective_fields(closure[ex.TPL_ENTERPRISE_METER], closure)
    assert sorted(fields) == ["electricity_import", "natural_gas", "pv_generation"]
    grid = fields["electricity_import"]
    assert (grid.units, grid.maximum, grid.template_id) == (
        ("kWh",),
        Decimal("1200"),
        ex.TPL_ENTERPRISE_METER,
    )
    gas = fields["natural_gas"]
    assert (gas.units, gas.maximum, gas.template_id) == (
        ("GJ",),
        Decimal("40"),
        ex.TPL_INDUSTRY_METER,
    )


@pytest.mark.parametrize(
    ("change", "path", "words"),
    [
        (lambda f: f.update(units=["kWh", "MJ"]), "body.fields[0].units", "allows unit 'MJ'"),
        (lambda f: f.update(max="6000"), "body.fields[0].max", "goes above the maximum 5000"),
        (lambda f: f.pop("max"), "body.fields[0].max", "goes above the maximum 5000"),
        (lambda f: f.update(min="-1"), "body.fields[0].min", "goes below the minimum 0"),
    ],
)
def test_enterprise_template_cannot_widen(
    plant: dict[str, dict[str, Any]], change: Any, path: str, words: str
) -> None:
    def widen(r: dict[str, Any]) -> None:
        change(r["body"]["fields"][0])

    try:
        closure = _mutated(plant, ex.TPL_ENTERPRISE_METER, widen)
    except MalformedError as exc:  # caught already by the record's own syntax
        assert exc.path == path and words in str(exc)
        return
    with pytest.raises(MalformedError) as info:
        effective_fields(closure[ex.TPL_ENTERPRISE_METER], closure)
    assert info.value.path == path
    assert words in str(info.value)


def test_widening_the_unit_list_is_refused(plant: dict[str, dict[str, Any]]) -> None:
    closure = _mutated(
        plant,
        ex.TPL_ENTERPRISE_METER,
        lambda r: r["body"]["fields"][0].update(units=["kWh", "MWh"]),
    )
    fields = effective_fields(closure[ex.TPL_ENTERPRISE_METER], closure)
    assert fields["electricity_import"].units == ("kWh", "MWh")  # MWh is the industry's too
    closure = _mutated(
        plant, ex.TPL_INDUSTRY_METER, lambda r: r["body"]["fields"][1].update(units=["GJ", "kWh"])
    )
    with pytest.raises(MalformedError, match=r"allows unit 'kWh', which .*public-meter-v1"):
        effective_fields(closure[ex.TPL_ENTERPRISE_METER], closure)


def test_enterprise_extending_the_public_template_directly_is_refused(
    plant: dict[str, dict[str, Any]],
) -> None:
    public = {"id": ex.TPL_PUBLIC_METER, "digest": seeded_digest(plant[ex.TPL_PUBLIC_METER])}

    def skip_industry(r: dict[str, Any]) -> None:
        r["body"]["extends"] = public
        r["refs"] = [{"rel": "template", **public}]

    closure = _mutated(plant, ex.TPL_ENTERPRISE_METER, skip_industry)
    with pytest.raises(MalformedError) as info:
        effective_fields(closure[ex.TPL_ENTERPRISE_METER], closure)
    assert info.value.path == "body.extends"
    assert "an enterprise template extends an industry template" in str(info.value)


def test_batches_of_the_plant_fit_their_template(plant: dict[str, dict[str, Any]]) -> None:
    closure = _closure(plant)
    for record in closure.values():
        if record.type == "meter-reading":
            check_meter_reading_template(record, closure)


def test_reading_out_of_range_names_each_reading(plant: dict[str, dict[str, Any]]) -> None:
    batch = _batch(plant, "electricity_import")

    def spikes(r: dict[str, Any]) -> None:
        r["body"]["readings"][3]["quantity"] = "1200.01"
        r["body"]["readings"][9]["quantity"] = "5000"

    closure = _mutated(plant, batch, spikes)
    with pytest.raises(TemplateMismatchError) as info:
        check_meter_reading_template(closure[batch], closure)
    assert [f.path for f in info.value.findings] == [
        "body.readings[3].quantity",
        "body.readings[9].quantity",
    ]
    assert info.value.path == "body.readings[3].quantity"
    assert "1200.01 is above the maximum 1200 of field 'electricity_import'" in str(info.value)
    assert ex.TPL_ENTERPRISE_METER in str(info.value)


def test_unit_the_template_does_not_allow(plant: dict[str, dict[str, Any]]) -> None:
    batch = _batch(plant, "electricity_import")
    closure = _mutated(plant, batch, lambda r: r["body"].update(unit="MWh"))
    with pytest.raises(TemplateMismatchError) as info:
        check_meter_reading_template(closure[batch], closure)
    assert info.value.path == "body.unit"
    assert "unit 'MWh' is not allowed for field 'electricity_import'; allowed: kWh" in str(
        info.value
    )


def test_field_not_in_the_template(plant: dict[str, dict[str, Any]]) -> None:
    batch = _batch(plant, "electricity_import")
    closure = _mutated(plant, batch, lambda r: r["body"].update(field="diesel"))
    with pytest.raises(TemplateMismatchError) as info:
        check_meter_reading_template(closure[batch], closure)
    assert info.value.path == "body.field"


def test_evaluation_missing_a_required_field(plant: dict[str, dict[str, Any]]) -> None:
    def require_gas(r: dict[str, Any]) -> None:
        r["body"]["fields"][1]["required"] = True
        r["body"]["fields"].append(
            {"key": "diesel", "name": "Diesel", "units": ["L"], "required": True}
        )

    closure = _mutated(plant, ex.TPL_EVALUATION, require_gas)
    # The evaluation links the template by digest; the check itself reads the record given.
    with pytest.raises(TemplateMismatchError) as info:
        check_carbon_efficiency(closure[ex.EVALUATION], closure, signatures=False)
    assert [(f.path, f.message.split(" (")[0]) for f in info.value.findings] == [
        ("body.sources", "missing field 'diesel'"),
    ]
