"""Reference-data bodies: `factor-set`, `region-rule`, `rating-rule`
(docs/RECORDS.md §3.2, §3.3, §3.5)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ledger.core.calc import units
from ledger.core.types import fields as f
from ledger.core.types import vocab
from ledger.core.types.carbon import BodyLink, validate_factor_basis, validate_rounding


def validate_factor_entry(value: Any, path: str) -> str:
    o = f.obj(
        value,
        path,
        ("id", "activity", "name", "unit", "value", "gwp_set"),
        ("per_gas", "native_id", "note"),
    )
    entry_id = f.text(o["id"], f.sub(path, "id"), max_len=128)
    f.matching(
        o["activity"], f.sub(path, "activity"), f.SLUG_RE, "an activity key like 'electricity.grid'"
    )
    f.text(o["name"], f.sub(path, "name"), max_len=256)
    f.decimal(o["value"], f.sub(path, "value"))
    unit = units.parse_factor_unit(f.text(o["unit"], f.sub(path, "unit")), f.sub(path, "unit"))
    validate_factor_basis(o, path, unit)
    for key in ("native_id", "note"):
        if key in o:
            f.text(o[key], f.sub(path, key), max_len=1000)
    return entry_id


def validate_factor_set_body(body: Any, path: str, subject: str) -> list[BodyLink]:
    o = f.obj(
        body,
        path,
        (
            "publisher",
            "dataset",
            "version",
            "year",
            "validity",
            "region",
            "source",
            "license",
            "gwp_basis",
            "status",
            "provenance",
            "entries",
        ),
        ("note",),
    )
    for key in ("publisher", "dataset", "license"):
        f.text(o[key], f.sub(path, key), max_len=256)
    f.text(o["version"], f.sub(path, "version"), max_len=64)
    f.integer(o["year"], f.sub(path, "year"), lo=1990, hi=2100)
    v_path = f.sub(path, "validity")
    validity = f.obj(o["validity"], v_path, ("from", "to"))
    start = f.calendar_date(validity["from"], f.sub(v_path, "from"))
    end = f.calendar_date(validity["to"], f.sub(v_path, "to"))
    if end < start:
        raise f.fail(f.sub(v_path, "to"), "validity ends before it starts")
    f.matching(o["region"], f.sub(path, "region"), f.ISO_REGION_RE, "an ISO 3166 code like 'GB'")
    s_path = f.sub(path, "source")
    source = f.obj(o["source"], s_path, ("url", "file_sha256"), ("retrieved_at", "reference"))
    url = f.text(source["url"], f.sub(s_path, "url"), max_len=1000)
    if not url.startswith("https://"):
        raise f.fail(f.sub(s_path, "url"), "expected an https:// URL")
    if source["file_sha256"] is not None:
        f.sha256_hex(source["file_sha256"], f.sub(s_path, "file_sha256"))
    if "retrieved_at" in source:
        f.timestamp(source["retrieved_at"], f.sub(s_path, "retrieved_at"))
    if "reference" in source:
        f.text(source["reference"], f.sub(s_path, "reference"), max_len=1000)
    if o["gwp_basis"] is not None:
        f.enum(o["gwp_basis"], f.sub(path, "gwp_basis"), units.GWP_SETS)
    f.enum(o["status"], f.sub(path, "status"), vocab.FACTOR_STATUSES)
    f.enum(o["provenance"], f.sub(path, "provenance"), vocab.PROVENANCES)
    if "note" in o:
        f.text(o["note"], f.sub(path, "note"), max_len=4000)
    e_path = f.sub(path, "entries")
    entry_ids = [
        validate_factor_entry(e, f.sub(e_path, i))
        for i, e in enumerate(f.array(o["entries"], e_path, min_items=1))
    ]
    f.unique(entry_ids, e_path, "entry id")
    return []


def _legal_list(value: Any, path: str, key: str, allowed: tuple[str, ...]) -> list[str]:
    names: list[str] = []
    for i, item in enumerate(f.array(value, path, max_items=len(allowed))):
        p = f.sub(path, i)
        o = f.obj(item, p, (key, "legal_ref"))
        names.append(f.enum(o[key], f.sub(p, key), allowed))
        f.text(o["legal_ref"], f.sub(p, "legal_ref"), max_len=1000)
    f.unique(names, path, key)
    return names


# The required members of a region rule of schema version 1 (version 2 adds to them).
REGION_RULE_MEMBERS = (
    "region",
    "regime",
    "regime_version",
    "stages",
    "excluded_stages",
    "channels",
    "excluded_channels",
    "factor_sets",
    "gwp_set",
    "rounding",
    "output_unit",
    "template",
)


def validate_region_rule_body(body: Any, path: str, subject: str) -> list[BodyLink]:
    o = f.obj(body, path, REGION_RULE_MEMBERS, ("notes",))
    f.text(o["region"], f.sub(path, "region"), max_len=64)
    f.text(o["regime"], f.sub(path, "regime"), max_len=128)
    f.text(o["regime_version"], f.sub(path, "regime_version"), max_len=64)
    for inc, exc, key, allowed in (
        ("stages", "excluded_stages", "stage", vocab.STAGES),
        ("channels", "excluded_channels", "channel", vocab.CHANNELS),
    ):
        included = _legal_list(o[inc], f.sub(path, inc), key, allowed)
        excluded = _legal_list(o[exc], f.sub(path, exc), key, allowed)
        if not included:
            raise f.fail(f.sub(path, inc), f"expected at least one {key}")
        both = set(included) & set(excluded)
        if both:
            raise f.fail(
                f.sub(path, exc), f"{key} {sorted(both)[0]!r} is both included and excluded"
            )
        # Every stage and channel is decided with a legal reference, so a dropped
        # line always has a cited reason (docs/CALC.md §6).
        missing = [a for a in allowed if a not in included and a not in excluded]
        if missing:
            raise f.fail(f.sub(path, exc), f"{key} {missing[0]!r} is neither included nor excluded")
    links: list[BodyLink] = []
    fs_path = f.sub(path, "factor_sets")
    for i, item in enumerate(f.array(o["factor_sets"], fs_path, max_items=20)):
        set_id, digest = f.link(item, f.sub(fs_path, i))
        links.append(("factor-set", set_id, digest, f.sub(fs_path, i)))
    f.enum(o["gwp_set"], f.sub(path, "gwp_set"), units.GWP_SETS)
    validate_rounding(o["rounding"], f.sub(path, "rounding"))
    f.enum(o["output_unit"], f.sub(path, "output_unit"), vocab.OUTPUT_UNITS)
    f.matching(o["template"], f.sub(path, "template"), f.SLUG_RE, "a template id")
    if "notes" in o:
        f.text(o["notes"], f.sub(path, "notes"), max_len=4000)
    return links


def validate_rating_rule_body(body: Any, path: str, subject: str) -> list[BodyLink]:
    o = f.obj(
        body,
        path,
        ("scheme", "version", "score_range", "dimensions", "bands", "rounding", "c_grade"),
    )
    f.text(o["scheme"], f.sub(path, "scheme"), max_len=128)
    f.text(o["version"], f.sub(path, "version"), max_len=64)
    r_path = f.sub(path, "score_range")
    rng = f.obj(o["score_range"], r_path, ("min", "max"))
    lo = f.decimal(rng["min"], f.sub(r_path, "min"))
    hi = f.decimal(rng["max"], f.sub(r_path, "max"))
    if hi <= lo:
        raise f.fail(f.sub(r_path, "max"), "max must be greater than min")
    d_path = f.sub(path, "dimensions")
    keys: list[str] = []
    weight_sum = Decimal(0)
    for i, item in enumerate(f.array(o["dimensions"], d_path, min_items=1, max_items=20)):
        p = f.sub(d_path, i)
        dim = f.obj(item, p, ("key", "name", "weight"))
        keys.append(f.enum(dim["key"], f.sub(p, "key"), vocab.RATING_DIMENSIONS))
        f.text(dim["name"], f.sub(p, "name"), max_len=256)
        # Decimal addition of at most 34-digit literals is exact here.
        weight_sum += f.decimal(dim["weight"], f.sub(p, "weight"), positive=True)
    f.unique(keys, d_path, "dimension")
    if sorted(keys) != sorted(vocab.RATING_DIMENSIONS):
        raise f.fail(d_path, f"expected the five dimensions {', '.join(vocab.RATING_DIMENSIONS)}")
    if weight_sum != 1:
        raise f.fail(d_path, f"weights must add up to exactly 1, they add up to {weight_sum}")
    b_path = f.sub(path, "bands")
    bands = f.array(o["bands"], b_path, min_items=len(vocab.GRADES), max_items=len(vocab.GRADES))
    previous: Decimal | None = None
    for i, item in enumerate(bands):
        p = f.sub(b_path, i)
        band = f.obj(item, p, ("grade", "min_inclusive"))
        if f.enum(band["grade"], f.sub(p, "grade"), vocab.GRADES) != vocab.GRADES[i]:
            raise f.fail(f.sub(p, "grade"), f"expected grade {vocab.GRADES[i]!r} at this position")
        floor = f.decimal(band["min_inclusive"], f.sub(p, "min_inclusive"))
        if not lo <= floor <= hi or (previous is not None and floor >= previous):
            raise f.fail(
                f.sub(p, "min_inclusive"), "band floors must fall strictly within the range"
            )
        previous = floor
    if previous != lo:
        raise f.fail(
            f.sub(f.sub(b_path, len(bands) - 1), "min_inclusive"),
            "the lowest band must start at score_range.min",
        )
    validate_rounding(o["rounding"], f.sub(path, "rounding"))
    c_path = f.sub(path, "c_grade")
    c_grade = f.obj(o["c_grade"], c_path, ("warning_list", "rectification_days"))
    f.boolean(c_grade["warning_list"], f.sub(c_path, "warning_list"))
    f.integer(c_grade["rectification_days"], f.sub(c_path, "rectification_days"), lo=1, hi=3650)
    return []
