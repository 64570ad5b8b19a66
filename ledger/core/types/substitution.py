"""`factor-substitution` body, schema versions 1 and 3 (docs/RECORDS.md §3.4, §3.4.1;
docs/CALC.md §6, §6.1)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ledger.core.calc import units
from ledger.core.types import fields as f
from ledger.core.types import vocab
from ledger.core.types.carbon import (
    BodyLink,
    validate_factor_use,
    validate_line,
    validate_totals,
)

GWP_TREATMENTS = ("none", "recharacterised", "not-recharacterised")

_DIFFERENCE_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "stage-removed": (("stage", "legal_ref"), ()),
    "stage-not-in-source": (("stage",), ()),
    "channel-removed": (("channel", "legal_ref"), ()),
    "factor-replaced": (("line_id", "original", "replacement"), ()),
    "gwp-changed": (("from", "to"), ()),
    "gwp-not-recharacterised": (("line_id", "from", "to"), ()),
    # schema version 3 (boundary adaptation, docs/CALC.md §6.1)
    "stage-added": (("stage", "lines"), ()),
    "stage-allocated": (("stage", "key", "product_kg", "total_kg"), ()),
}


def _validate_action(value: Any, path: str, links: list[BodyLink], boundary: bool) -> str:
    if not isinstance(value, dict):
        raise f.fail(path, f"expected an object, got {f.kind_of(value)}")
    action = f.enum(value.get("action"), f.sub(path, "action"), vocab.SUBSTITUTION_ACTIONS)
    common = ("line_id", "action", "stage", "channel")
    # Schema 3: a line from supplementary data says so; an allocated line keeps its
    # figure before allocation.
    extra = ("supplied", "unallocated_kg") if boundary else ()
    if action == "drop":
        o = f.obj(value, path, (*common, "reason", "legal_ref"))
        f.enum(o["reason"], f.sub(path, "reason"), vocab.DROP_REASONS)
        f.text(o["legal_ref"], f.sub(path, "legal_ref"), max_len=1000)
    elif action == "keep":
        o = f.obj(value, path, (*common, "factor", "gwp_treatment", "emissions_kg"), extra)
        validate_factor_use(o["factor"], f.sub(path, "factor"), links)
    else:
        o = f.obj(
            value,
            path,
            (*common, "original", "replacement", "gwp_treatment", "emissions_kg"),
            extra,
        )
        validate_factor_use(o["original"], f.sub(path, "original"), links)
        validate_factor_use(o["replacement"], f.sub(path, "replacement"), links)
    if action != "drop":
        f.enum(o["gwp_treatment"], f.sub(path, "gwp_treatment"), GWP_TREATMENTS)
        f.decimal(o["emissions_kg"], f.sub(path, "emissions_kg"))
        if "supplied" in o and f.boolean(o["supplied"], f.sub(path, "supplied")) is not True:
            raise f.fail(f.sub(path, "supplied"), "expected true, or no member at all")
        if "unallocated_kg" in o:
            f.decimal(o["unallocated_kg"], f.sub(path, "unallocated_kg"))
    f.enum(o["stage"], f.sub(path, "stage"), vocab.STAGES)
    f.enum(o["channel"], f.sub(path, "channel"), vocab.CHANNELS)
    return f.matching(o["line_id"], f.sub(path, "line_id"), f.LINE_ID_RE, "a line id")


def validate_difference(value: Any, path: str, *, boundary: bool = False) -> None:
    if not isinstance(value, dict):
        raise f.fail(path, f"expected an object, got {f.kind_of(value)}")
    kinds = vocab.DIFFERENCE_KINDS_BOUNDARY if boundary else vocab.DIFFERENCE_KINDS
    kind = f.enum(value.get("kind"), f.sub(path, "kind"), kinds)
    required, optional = _DIFFERENCE_FIELDS[kind]
    o = f.obj(value, path, ("kind", *required), optional)
    for key in required:
        p = f.sub(path, key)
        if key in ("original", "replacement"):
            d = f.obj(o[key], p, ("set", "entry", "value", "unit"))
            f.urn(d["set"], f.sub(p, "set"))
            f.text(d["entry"], f.sub(p, "entry"), max_len=128)
            f.decimal(d["value"], f.sub(p, "value"))
            units.parse_factor_unit(f.text(d["unit"], f.sub(p, "unit")), f.sub(p, "unit"))
        elif key == "stage":
            f.enum(o[key], p, vocab.STAGES)
        elif key == "channel":
            f.enum(o[key], p, vocab.CHANNELS)
        elif key in ("from", "to"):
            f.enum(o[key], p, units.GWP_SETS)
        elif key == "lines":
            for i, line_id in enumerate(f.array(o[key], p, min_items=1)):
                f.matching(line_id, f.sub(p, i), f.LINE_ID_RE, "a line id")
        elif key == "key":
            f.enum(o[key], p, vocab.ALLOCATION_KEYS)
        elif key in ("product_kg", "total_kg"):
            f.decimal(o[key], p, positive=True)
        else:
            f.text(o[key], p, max_len=1000)


def validate_rule_links(o: Mapping[str, Any], path: str) -> list[BodyLink]:
    """The `source`, `rule` and `factor_sets` links of a body computed under a region
    rule (a factor substitution, a risk assessment)."""
    links: list[BodyLink] = []
    src_id, src_digest = f.link(o["source"], f.sub(path, "source"))
    links.append(("source", src_id, src_digest, f.sub(path, "source")))
    rule_id, rule_digest = f.link(o["rule"], f.sub(path, "rule"))
    links.append(("rule", rule_id, rule_digest, f.sub(path, "rule")))
    fs_path = f.sub(path, "factor_sets")
    for i, item in enumerate(f.array(o["factor_sets"], fs_path, max_items=20)):
        set_id, digest = f.link(item, f.sub(fs_path, i))
        links.append(("factor-set", set_id, digest, f.sub(fs_path, i)))
    return links


def validate_substitution_body(body: Any, path: str, subject: str) -> list[BodyLink]:
    """Schema version 1."""
    return _validate_substitution_body(body, path, boundary=False)


def validate_substitution_body_with_boundary(body: Any, path: str, subject: str) -> list[BodyLink]:
    """Version 1 with `supplements` and `allocations` (boundary adaptation beyond
    dropping, docs/CALC.md §6.1); schema version 3 adds version 2's validity exceptions
    to it (``ledger.core.types.schema2``)."""
    return _validate_substitution_body(body, path, boundary=True)


def _allocations(value: Any, path: str) -> None:
    stages: list[str] = []
    for i, item in enumerate(f.array(value, path, max_items=len(vocab.STAGES))):
        p = f.sub(path, i)
        o = f.obj(item, p, ("stage", "key", "product_kg", "total_kg", "basis"))
        stages.append(f.enum(o["stage"], f.sub(p, "stage"), vocab.STAGES))
        f.enum(o["key"], f.sub(p, "key"), vocab.ALLOCATION_KEYS)
        product = f.decimal(o["product_kg"], f.sub(p, "product_kg"), positive=True)
        total = f.decimal(o["total_kg"], f.sub(p, "total_kg"), positive=True)
        if product > total:
            raise f.fail(f.sub(p, "product_kg"), "the product's share exceeds the total")
        f.text(o["basis"], f.sub(p, "basis"), max_len=1000)
    f.unique(stages, path, "stage")


def _validate_substitution_body(body: Any, path: str, *, boundary: bool) -> list[BodyLink]:
    members: tuple[str, ...] = (
        "source",
        "rule",
        "factor_sets",
        "gwp",
        "lines",
        "result",
        "differences",
    )
    if boundary:
        members = (*members, "supplements", "allocations")
    o = f.obj(body, path, members)
    links = validate_rule_links(o, path)
    g_path = f.sub(path, "gwp")
    gwp = f.obj(o["gwp"], g_path, ("from", "to"))
    f.enum(gwp["from"], f.sub(g_path, "from"), units.GWP_SETS)
    f.enum(gwp["to"], f.sub(g_path, "to"), units.GWP_SETS)
    if boundary:
        s_path = f.sub(path, "supplements")
        supplied = [
            validate_line(line, f.sub(s_path, i), set(vocab.STAGES), links, substances=True)
            for i, line in enumerate(f.array(o["supplements"], s_path, max_items=1000))
        ]
        f.unique(supplied, s_path, "line_id")
        _allocations(o["allocations"], f.sub(path, "allocations"))
    l_path = f.sub(path, "lines")
    line_ids = [
        _validate_action(item, f.sub(l_path, i), links, boundary)
        for i, item in enumerate(f.array(o["lines"], l_path, min_items=1))
    ]
    f.unique(line_ids, l_path, "line_id")
    validate_totals(o["result"], f.sub(path, "result"), vocab.OUTPUT_UNITS)
    d_path = f.sub(path, "differences")
    for i, item in enumerate(f.array(o["differences"], d_path, max_items=1000)):
        validate_difference(item, f.sub(d_path, i), boundary=boundary)
    return links
