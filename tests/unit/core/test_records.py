"""Record envelope and the record types (ledger.core.records, docs/RECORDS.md)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from ledger import examples as ex
from ledger.core.errors import MalformedError
from ledger.core.records import (
    RECORD_TYPES,
    InvalidRecordError,
    Record,
    refs_of,
    supersession_chain,
    validate_record,
)
from ledger.examples.crossborder import crossborder_records
from ledger.examples.efficiency import efficiency_example_records

VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "records"


@pytest.fixture(scope="module")
def records() -> dict[str, dict[str, Any]]:
    return crossborder_records()


def _load(name: str) -> dict[str, Any]:
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


def test_every_example_record_validates(records: dict[str, dict[str, Any]]) -> None:
    from ledger.examples.claims import claim_record

    digests = {rid: ex.seeded_digest(r) for rid, r in records.items()}
    claim = claim_record(
        rid="urn:carbonledger:claim:t101-eu",
        regime="EU-CBAM",
        source_id=ex.SUB_TANK_EU,
        digests=digests,
    )
    efficiency = efficiency_example_records(ex.seeded_digest, days=1)
    every = [*records.values(), claim, *efficiency.values()]
    types = {validate_record(r).type for r in every}
    assert types == set(RECORD_TYPES)


@pytest.mark.parametrize("path", sorted(VECTORS.glob("valid_*.json")), ids=lambda p: p.stem)
def test_valid_vector(path: Path) -> None:
    vector = json.loads(path.read_text(encoding="utf-8"))
    assert vector["description"] and vector["source"]
    record = validate_record(vector["record"])
    assert record.id == vector["record"]["id"]
    assert record.raw == vector["record"]


def test_every_schema_version_of_the_frozen_digest_vectors_validates() -> None:
    """Version 1 of every type and version 2 of the three that have one stay valid side by
    side (docs/RECORDS.md §1): the records frozen in the digest vectors."""
    frozen = json.loads((VECTORS.parent / "commitment" / "record_types.json").read_text())
    versions = {
        (validate_record(c["record"]).type, c["record"]["schema_version"]) for c in frozen["cases"]
    }
    assert {v for t, v in versions} == {"1", "2"}
    assert {t for t, v in versions if v == "2"} == {
        "carbon-record",
        "factor-substitution",
        "credit-change",
    }


def test_one_valid_vector_per_type() -> None:
    types = {_load(p.name)["record"]["type"] for p in VECTORS.glob("valid_*.json")}
    assert types == set(RECORD_TYPES)


@pytest.mark.parametrize("path", sorted(VECTORS.glob("invalid_*.json")), ids=lambda p: p.stem)
def test_invalid_vector(path: Path) -> None:
    vector = json.loads(path.read_text(encoding="utf-8"))
    assert vector["description"] and vector["source"]
    expected = vector["expected_error"]
    with pytest.raises(InvalidRecordError) as info:
        validate_record(vector["record"])
    assert info.value.path == expected["path"]
    assert expected["message_contains"] in str(info.value)
    assert str(info.value).startswith(f"record {vector['record']['id']}: {expected['path']}: ")


def test_error_message_names_record_and_path(records: dict[str, dict[str, Any]]) -> None:
    bad = copy.deepcopy(records[ex.CR_TANK])
    bad["body"]["lines"][3]["quantity"] = 12.5
    with pytest.raises(MalformedError) as info:
        validate_record(bad)
    assert str(info.value) == (
        f"record {ex.CR_TANK}: body.lines[3].quantity: "
        'expected a decimal string like "12.50", got a number'
    )
    assert info.value.path == "body.lines[3].quantity"


@pytest.mark.parametrize("value", [None, [], "record", 1, True])
def test_non_object_is_malformed(value: Any) -> None:
    with pytest.raises(MalformedError) as info:
        validate_record(value)
    assert "expected an object" in str(info.value)


def test_record_gives_typed_access(records: dict[str, dict[str, Any]]) -> None:
    record = validate_record(records[ex.CR_TANK])
    assert isinstance(record, Record)
    assert record.subject == "88.118.8/ST-TK-0101"
    assert record.issued_at.isoformat() == "2026-01-25T08:00:00+00:00"
    assert record.body["lines"][0]["line_id"] == "L01"
    assert {r.rel for r in refs_of(record)} == {"factor-set"}


def test_record_is_a_private_copy(records: dict[str, dict[str, Any]]) -> None:
    raw = copy.deepcopy(records[ex.CR_TANK])
    record = validate_record(raw)
    raw["body"]["lines"][0]["quantity"] = "999"
    assert record.body["lines"][0]["quantity"] == "13.2"


def test_refs_of_substitution_cover_the_closure(records: dict[str, dict[str, Any]]) -> None:
    record = validate_record(records[ex.SUB_TANK_UK])
    refs = {(r.rel, r.id) for r in refs_of(record)}
    assert ("source", ex.CR_TANK) in refs
    assert ("rule", ex.RULE_UK) in refs
    for set_id in (ex.FS_DESNZ_2025, ex.FS_SUPPLIER, ex.FS_ILLUSTRATIVE):
        assert ("factor-set", set_id) in refs


def test_supersession_chain(records: dict[str, dict[str, Any]]) -> None:
    revised = validate_record(records[ex.CR_TANK_REVISED])
    original = validate_record(records[ex.CR_TANK])
    assert revised.supersedes is not None
    assert revised.supersedes.reason == "maintenance-cycle-shortened"
    chain = supersession_chain(revised, {original.id: original})
    assert [r.id for r in chain] == [ex.CR_TANK_REVISED, ex.CR_TANK]
    assert supersession_chain(original, {revised.id: revised}) == [original]


def test_supersession_across_types_is_rejected(records: dict[str, dict[str, Any]]) -> None:
    revised = validate_record(records[ex.CR_TANK_REVISED])
    impostor = validate_record(records[ex.BIM_TANK_INSPECTION])
    fake = Record(**{**impostor.__dict__, "id": ex.CR_TANK})
    with pytest.raises(MalformedError, match="supersedes"):
        supersession_chain(revised, {ex.CR_TANK: fake})


@pytest.mark.parametrize(
    ("scheme", "value"),
    [
        ("ifc_globalid", "2odIvDaWbEyQfLdVSBzoV!"),
        ("ifc_globalid", "2odIvDaWbEyQfLdVSBzoV_x"),
        ("handle", "88.118.8/"),
        ("handle", "/TI-HX-0042"),
        ("handle", "88.ABC.8/TI-HX-0042"),
        ("gs1_giai", "urn:epc:id:sgtin:0614141.812345.6789"),
        ("ecode", "12-34"),
        ("ecode", "ABCD1234"),
        ("oid", "1.2.0156"),
        ("oid", "3.1"),
    ],
)
def test_identifier_rules(records: dict[str, dict[str, Any]], scheme: str, value: str) -> None:
    bad = copy.deepcopy(records[ex.CR_HX])
    bad["body"]["equipment"]["identifiers"].append({"scheme": scheme, "value": value})
    index = len(bad["body"]["equipment"]["identifiers"]) - 1
    with pytest.raises(MalformedError) as info:
        validate_record(bad)
    assert info.value.path == f"body.equipment.identifiers[{index}].value"


@pytest.mark.parametrize(
    "guid", ["0K9m3$Zy5Fvw8Qe1RbT3aH", "3zzzzzzzzzzzzzzzzzzzz$", "0000000000000000000000"]
)
def test_ifc_globalids_accepted(records: dict[str, dict[str, Any]], guid: str) -> None:
    ok = copy.deepcopy(records[ex.BIM_TANK_INSPECTION])
    ok["body"]["ifc"]["global_ids"] = [guid]
    assert validate_record(ok).body["ifc"]["global_ids"] == [guid]


@pytest.mark.parametrize(
    "stamp",
    ["2026-01-25T08:00:00.5Z", "2026-01-25T08:00:00.123456789Z", "2024-02-29T23:59:59Z"],
)
def test_timestamps_accepted(records: dict[str, dict[str, Any]], stamp: str) -> None:
    ok = copy.deepcopy(records[ex.CR_TANK])
    ok["issued_at"] = stamp
    validate_record(ok)


@pytest.mark.parametrize(
    "stamp", ["2026-01-25 08:00:00Z", "2026-01-25T08:00:00z", "2026-13-01T00:00:00Z"]
)
def test_timestamps_rejected(records: dict[str, dict[str, Any]], stamp: str) -> None:
    bad = copy.deepcopy(records[ex.CR_TANK])
    bad["issued_at"] = stamp
    with pytest.raises(MalformedError) as info:
        validate_record(bad)
    assert info.value.path == "issued_at"


def test_reference_data_subject_is_a_slug(records: dict[str, dict[str, Any]]) -> None:
    bad = copy.deepcopy(records[ex.FS_DESNZ_2025])
    bad["subject"] = "DESNZ 2025"
    with pytest.raises(MalformedError) as info:
        validate_record(bad)
    assert info.value.path == "subject"


@pytest.mark.parametrize(
    ("scheme", "value"), [("oid", "1.2.156.3001.1.42"), ("ecode", "10012345678900042")]
)
@pytest.mark.parametrize("example", [ex.CR_TANK, ex.BIM_TANK_INSPECTION])
def test_oid_and_ecode_subjects_where_a_handle_is_accepted(
    records: dict[str, dict[str, Any]], example: str, scheme: str, value: str
) -> None:
    rec = copy.deepcopy(records[example])
    equipment = rec["body"]["equipment"]
    equipment["identifiers"] = [i for i in equipment["identifiers"] if i["scheme"] != "handle"] + [
        {"scheme": scheme, "value": value}
    ]
    rec["subject"] = value
    assert validate_record(rec).subject == value
    rec["subject"] = "1.2.156.3001.1.43" if scheme == "oid" else "10012345678900043"
    with pytest.raises(MalformedError, match="Handle, OID or Ecode") as info:
        validate_record(rec)
    assert info.value.path == "subject"


def test_equipment_needs_a_handle_oid_or_ecode(records: dict[str, dict[str, Any]]) -> None:
    rec = copy.deepcopy(records[ex.CR_TANK])
    equipment = rec["body"]["equipment"]
    equipment["identifiers"] = [i for i in equipment["identifiers"] if i["scheme"] != "handle"]
    with pytest.raises(MalformedError, match="handle, oid or ecode") as info:
        validate_record(rec)
    assert info.value.path == "body.equipment.identifiers"


@pytest.mark.parametrize(
    ("subject", "reason"),
    [
        ("88.ABC.8/TI-HX-0042", "canonical spelling '88.abc.8/TI-HX-0042'"),
        ("desnz-2025", "expected a Handle"),
        ("10012345678900042999999999999999999", "Ecode version 1"),
    ],
)
def test_substitution_subject_is_an_identifier(
    records: dict[str, dict[str, Any]], subject: str, reason: str
) -> None:
    bad = copy.deepcopy(records[ex.SUB_TANK_EU])
    bad["subject"] = subject
    with pytest.raises(MalformedError) as info:
        validate_record(bad)
    assert info.value.path == "subject"
    assert reason in info.value.reason


def test_bad_id_is_not_echoed_as_record_id(records: dict[str, dict[str, Any]]) -> None:
    bad = copy.deepcopy(records[ex.CR_TANK])
    bad["id"] = "not a urn"
    with pytest.raises(InvalidRecordError) as info:
        validate_record(bad)
    assert info.value.record_id is None
    assert info.value.path == "id"


def test_substitution_action_shapes(records: dict[str, dict[str, Any]]) -> None:
    bad = copy.deepcopy(records[ex.SUB_TANK_EU])
    bad["body"]["lines"][1]["action"] = "keep"
    with pytest.raises(MalformedError) as info:
        validate_record(bad)
    assert info.value.path.startswith("body.lines[1].")


def test_credit_change_subject_is_the_enterprise(records: dict[str, dict[str, Any]]) -> None:
    bad = copy.deepcopy(records[ex.CC_ENTERPRISE_2025])
    bad["subject"] = "urn:carbonledger:enterprise:someone-else"
    with pytest.raises(MalformedError) as info:
        validate_record(bad)
    assert info.value.path == "subject"


def test_decimal_digit_limit(records: dict[str, dict[str, Any]]) -> None:
    ok = copy.deepcopy(records[ex.CR_TANK])
    ok["body"]["lines"][0]["quantity"] = "0.000" + "1" * 34
    validate_record(ok)
    ok["body"]["lines"][0]["quantity"] = "1" * 35
    with pytest.raises(MalformedError, match="34 significant digits"):
        validate_record(ok)
