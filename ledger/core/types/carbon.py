"""`carbon-record` body (docs/RECORDS.md §3.1)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ledger.core.calc import units
from ledger.core.types import fields as f
from ledger.core.types import vocab

# (rel, id, digest, path) of a reference made inside a body; the envelope's refs
# must list each one so that the closure of a record is visible without
# knowing its body format (docs/RECORDS.md §1.3).
BodyLink = tuple[str, str, str, str]


def validate_identifiers(value: Any, path: str) -> dict[str, list[str]]:
    """Equipment identifiers; at least one Handle, OID or Ecode and one IFC GlobalId.

    Handle, OID and Ecode values must be in their canonical spelling (docs/RECORDS.md §1.4).
    """
    items = f.array(value, path, min_items=1, max_items=50)
    by_scheme: dict[str, list[str]] = {}
    checks = {
        "ifc_globalid": (f.IFC_GLOBALID_RE, "a 22-character IFC GlobalId"),
        "gs1_giai": (f.GS1_GIAI_RE, "a GS1 EPC URI 'urn:epc:id:giai:...'"),
        "gs1_sgtin": (f.GS1_SGTIN_RE, "a GS1 EPC URI 'urn:epc:id:sgtin:...'"),
    }
    for i, item in enumerate(items):
        p = f.sub(path, i)
        o = f.obj(item, p, ("scheme", "value"))
        scheme = f.enum(o["scheme"], f.sub(p, "scheme"), vocab.IDENTIFIER_SCHEMES)
        if scheme in vocab.SUBJECT_SCHEMES:
            ident = f.identifier(o["value"], f.sub(p, "value"), scheme).canonical
        elif scheme in checks:
            pattern, what = checks[scheme]
            ident = f.matching(o["value"], f.sub(p, "value"), pattern, what)
        else:
            ident = f.text(o["value"], f.sub(p, "value"), max_len=256)
        by_scheme.setdefault(scheme, []).append(ident)
    if not any(s in by_scheme for s in vocab.SUBJECT_SCHEMES):
        raise f.fail(path, "expected at least one identifier with scheme handle, oid or ecode")
    if "ifc_globalid" not in by_scheme:
        raise f.fail(path, "expected at least one identifier with scheme 'ifc_globalid'")
    return by_scheme


def check_subject_is_listed(subject: str, ids: dict[str, list[str]]) -> None:
    """The record's subject must be one of the equipment's Handle, OID or Ecode identifiers."""
    if not any(subject in ids.get(s, ()) for s in vocab.SUBJECT_SCHEMES):
        raise f.fail("subject", "expected one of the equipment's Handle, OID or Ecode identifiers")


def validate_equipment(value: Any, path: str) -> dict[str, list[str]]:
    o = f.obj(value, path, ("name", "identifiers", "declared_unit"), ("cn_code", "mass_kg"))
    f.text(o["name"], f.sub(path, "name"), max_len=256)
    ids = validate_identifiers(o["identifiers"], f.sub(path, "identifiers"))
    du_path = f.sub(path, "declared_unit")
    du = f.obj(o["declared_unit"], du_path, ("unit", "amount"))
    f.enum(du["unit"], f.sub(du_path, "unit"), vocab.DECLARED_UNITS)
    f.decimal(du["amount"], f.sub(du_path, "amount"), positive=True)
    if "cn_code" in o:
        f.matching(
            o["cn_code"], f.sub(path, "cn_code"), f.CN_CODE_RE, "a CN code of 4, 6 or 8 digits"
        )
    if "mass_kg" in o:
        f.decimal(o["mass_kg"], f.sub(path, "mass_kg"), positive=True)
    return ids


def validate_rounding(value: Any, path: str) -> None:
    o = f.obj(value, path, ("mode", "places"))
    f.enum(o["mode"], f.sub(path, "mode"), vocab.ROUNDING_MODES)
    f.integer(o["places"], f.sub(path, "places"), lo=0, hi=12)


def validate_per_gas(value: Any, path: str) -> None:
    o = f.obj(value, path, (), units.GASES)
    if not o:
        raise f.fail(path, "expected at least one gas")
    for gas, amount in o.items():
        f.decimal(amount, f.sub(path, gas))


def validate_factor_use(value: Any, path: str, links: list[BodyLink]) -> units.FactorUnit:
    """A factor as a line uses it: which factor-set entry, and its value."""
    o = f.obj(value, path, ("set", "entry", "activity", "value", "unit", "gwp_set"), ("per_gas",))
    set_id, digest = f.link(o["set"], f.sub(path, "set"))
    links.append(("factor-set", set_id, digest, f.sub(path, "set")))
    f.text(o["entry"], f.sub(path, "entry"), max_len=128)
    f.matching(o["activity"], f.sub(path, "activity"), f.SLUG_RE, "an activity key")
    f.decimal(o["value"], f.sub(path, "value"))
    unit = units.parse_factor_unit(f.text(o["unit"], f.sub(path, "unit")), f.sub(path, "unit"))
    validate_factor_basis(o, path, unit)
    return unit


def validate_factor_basis(o: Mapping[str, Any], path: str, unit: units.FactorUnit) -> None:
    """A CO2e figure names its GWP set; a CO2-only figure has none."""
    gwp_path = f.sub(path, "gwp_set")
    if unit.basis == "CO2":
        if o["gwp_set"] is not None:
            raise f.fail(gwp_path, "a CO2-only factor has no GWP set: expected null")
    else:
        f.enum(o["gwp_set"], gwp_path, units.GWP_SETS)
    if "per_gas" in o:
        validate_per_gas(o["per_gas"], f.sub(path, "per_gas"))
        if unit.basis == "CO2" and set(o["per_gas"]) != {"CO2"}:
            raise f.fail(f.sub(path, "per_gas"), "a CO2-only factor can list CO2 only")


def validate_substances(value: Any, path: str) -> None:
    """What a material line contains, by CAS number (schema version 3): the substances
    its safety data sheet declares, so a region's restricted list can be screened."""
    cas_list = []
    for i, item in enumerate(f.array(value, path, min_items=1, max_items=100)):
        p = f.sub(path, i)
        o = f.obj(item, p, ("cas", "name"))
        cas_list.append(f.cas_number(o["cas"], f.sub(p, "cas")))
        f.text(o["name"], f.sub(p, "name"), max_len=256)
    f.unique(cas_list, path, "CAS number")


def validate_line(
    value: Any, path: str, stages: set[str], links: list[BodyLink], *, substances: bool = False
) -> str:
    optional = ("data_type", "evidence", "substances") if substances else ("data_type", "evidence")
    o = f.obj(
        value,
        path,
        (
            "line_id",
            "stage",
            "process",
            "emission_class",
            "cbam_channel",
            "quantity",
            "unit",
            "factor",
        ),
        optional,
    )
    line_id = f.matching(o["line_id"], f.sub(path, "line_id"), f.LINE_ID_RE, "a line id like 'L01'")
    stage = f.enum(o["stage"], f.sub(path, "stage"), vocab.STAGES)
    if stage not in stages:
        raise f.fail(f.sub(path, "stage"), f"stage {stage!r} is not in boundary.stages")
    f.text(o["process"], f.sub(path, "process"), max_len=256)
    f.enum(o["emission_class"], f.sub(path, "emission_class"), vocab.EMISSION_CLASSES)
    f.enum(o["cbam_channel"], f.sub(path, "cbam_channel"), vocab.CHANNELS)
    f.decimal(o["quantity"], f.sub(path, "quantity"))
    unit = f.enum(o["unit"], f.sub(path, "unit"), units.UNITS)
    factor_unit = validate_factor_use(o["factor"], f.sub(path, "factor"), links)
    if units.dimension(unit) != units.dimension(factor_unit.per):
        raise f.fail(
            f.sub(path, "unit"),
            f"quantity unit {unit!r} cannot be converted to the factor's unit {factor_unit.per!r}",
        )
    if "data_type" in o:
        f.enum(o["data_type"], f.sub(path, "data_type"), vocab.DATA_TYPES)
    if "evidence" in o:
        ev_path = f.sub(path, "evidence")
        for i, item in enumerate(f.array(o["evidence"], ev_path, max_items=100)):
            p = f.sub(ev_path, i)
            ev = f.obj(item, p, ("kind", "sha256"), ("ref",))
            f.text(ev["kind"], f.sub(p, "kind"), max_len=64)
            f.sha256_hex(ev["sha256"], f.sub(p, "sha256"))
            if "ref" in ev:
                f.text(ev["ref"], f.sub(p, "ref"), max_len=256)
    if "substances" in o:
        validate_substances(o["substances"], f.sub(path, "substances"))
    return line_id


def validate_figures(value: Any, path: str, keys: tuple[str, ...]) -> None:
    o = f.obj(value, path, (), keys)
    for key, amount in o.items():
        f.decimal(amount, f.sub(path, key))


def validate_totals(value: Any, path: str, unit_choices: tuple[str, ...]) -> None:
    o = f.obj(value, path, ("unit", "by_stage", "by_channel", "by_gas", "total"), ("total_exact",))
    f.enum(o["unit"], f.sub(path, "unit"), unit_choices)
    validate_figures(o["by_stage"], f.sub(path, "by_stage"), vocab.STAGES)
    validate_figures(o["by_channel"], f.sub(path, "by_channel"), vocab.CHANNELS)
    validate_figures(o["by_gas"], f.sub(path, "by_gas"), (*units.GASES, "unattributed"))
    f.decimal(o["total"], f.sub(path, "total"))
    if "total_exact" in o:
        f.decimal(o["total_exact"], f.sub(path, "total_exact"))


def validate_carbon_body(body: Any, path: str, subject: str) -> list[BodyLink]:
    """Schema version 1."""
    return _validate_carbon_body(body, path, subject, substances=False)


def validate_carbon_body_with_substances(body: Any, path: str, subject: str) -> list[BodyLink]:
    """Version 1 with `substances` (CAS numbers) on lines; schema version 3 adds
    version 2's validity exceptions to it (``ledger.core.types.schema2``)."""
    return _validate_carbon_body(body, path, subject, substances=True)


def _validate_carbon_body(
    body: Any, path: str, subject: str, *, substances: bool
) -> list[BodyLink]:
    o = f.obj(
        body,
        path,
        ("equipment", "reference_period", "boundary", "methodology", "rounding", "lines", "totals"),
    )
    links: list[BodyLink] = []
    ids = validate_equipment(o["equipment"], f.sub(path, "equipment"))
    check_subject_is_listed(subject, ids)
    rp_path = f.sub(path, "reference_period")
    rp = f.obj(o["reference_period"], rp_path, ("start", "end"))
    start = f.timestamp(rp["start"], f.sub(rp_path, "start"))
    end = f.timestamp(rp["end"], f.sub(rp_path, "end"))
    if end <= start:
        raise f.fail(f.sub(rp_path, "end"), "the end (exclusive) must come after the start")
    b_path = f.sub(path, "boundary")
    boundary = f.obj(o["boundary"], b_path, ("stages",), ("exclusions",))
    stage_list = [
        f.enum(s, f.sub(f.sub(b_path, "stages"), i), vocab.STAGES)
        for i, s in enumerate(f.array(boundary["stages"], f.sub(b_path, "stages"), min_items=1))
    ]
    f.unique(stage_list, f.sub(b_path, "stages"), "stage")
    if "exclusions" in boundary:
        ex_path = f.sub(b_path, "exclusions")
        for i, item in enumerate(f.array(boundary["exclusions"], ex_path, max_items=100)):
            ex = f.obj(item, f.sub(ex_path, i), ("what", "reason"))
            f.text(ex["what"], f.sub(f.sub(ex_path, i), "what"), max_len=256)
            f.text(ex["reason"], f.sub(f.sub(ex_path, i), "reason"), max_len=512)
    m_path = f.sub(path, "methodology")
    method = f.obj(o["methodology"], m_path, ("standards", "gwp_set"))
    std_path = f.sub(m_path, "standards")
    standards = [
        f.enum(s, f.sub(std_path, i), vocab.STANDARDS)
        for i, s in enumerate(f.array(method["standards"], std_path, min_items=1))
    ]
    f.unique(standards, std_path, "standard")
    f.enum(method["gwp_set"], f.sub(m_path, "gwp_set"), units.GWP_SETS)
    validate_rounding(o["rounding"], f.sub(path, "rounding"))
    lines_path = f.sub(path, "lines")
    line_ids = [
        validate_line(line, f.sub(lines_path, i), set(stage_list), links, substances=substances)
        for i, line in enumerate(f.array(o["lines"], lines_path, min_items=1))
    ]
    f.unique(line_ids, lines_path, "line_id")
    validate_totals(o["totals"], f.sub(path, "totals"), ("kgCO2e",))
    return links
