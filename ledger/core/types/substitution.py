"""`factor-substitution` body (docs/RECORDS.md §3.4, docs/CALC.md §6)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ledger.core.calc import units
from ledger.core.types import fields as f
from ledger.core.types import vocab
from ledger.core.types.carbon import BodyLink, validate_factor_use, validate_totals

GWP_TREATMENTS = ("none", "recharacterised", "not-recharacterised")

_DIFFERENCE_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "stage-removed": (("stage", "legal_ref"), ()),
    "stage-not-in-source": (("stage",), ()),
    "channel-removed": (("channel", "legal_ref"), ()),
    "factor-replaced": (("line_id", "original", "replacement"), ()),
    "gwp-changed": (("from", "to"), ()),
    "gwp-not-recharacterised": (("line_id", "from", "to"), ()),
}


def _validate_action(value: Any, path: str, links: list[BodyLink]) -> str:
    if not isinstance(value, dict):
        raise f.fail(path, f"expected an object, got {f.kind_of(value)}")
    action = f.enum(value.get("action"), f.sub(path, "action"), vocab.SUBSTITUTION_ACTIONS)
    common = ("line_id", "action", "stage", "channel")
    if action == "drop":
        o = f.obj(value, path, (*common, "reason", "legal_ref"))
        f.enum(o["reason"], f.sub(path, "reason"), vocab.DROP_REASONS)
        f.text(o["legal_ref"], f.sub(path, "legal_ref"), max_len=1000)
    elif action == "keep":
        o = f.obj(value, path, (*common, "factor", "gwp_treatment", "emissions_kg"))
        validate_factor_use(o["factor"], f.sub(path, "factor"), links)
    else:
        o = f.obj(
            value, path, (*common, "original", "replacement", "gwp_treatment", "emissions_kg")
        )
        validate_factor_use(o["original"], f.sub(path, "original"), links)
        validate_factor_use(o["replacement"], f.sub(path, "replacement"), links)
    if action != "drop":
        f.enum(o["gwp_treatment"], f.sub(path, "gwp_treatment"), GWP_TREATMENTS)
        f.decimal(o["emissions_kg"], f.sub(path, "emissions_kg"))
    f.enum(o["stage"], f.sub(path, "stage"), vocab.STAGES)
    f.enum(o["channel"], f.sub(path, "channel"), vocab.CHANNELS)
    return f.matching(o["line_id"], f.sub(path, "line_id"), f.LINE_ID_RE, "a line id")


def validate_difference(value: Any, path: str) -> None:
    if not isinstance(value, dict):
        raise f.fail(path, f"expected an object, got {f.kind_of(value)}")
    kind = f.enum(value.get("kind"), f.sub(path, "kind"), vocab.DIFFERENCE_KINDS)
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
    o = f.obj(
        body, path, ("source", "rule", "factor_sets", "gwp", "lines", "result", "differences")
    )
    links = validate_rule_links(o, path)
    g_path = f.sub(path, "gwp")
    gwp = f.obj(o["gwp"], g_path, ("from", "to"))
    f.enum(gwp["from"], f.sub(g_path, "from"), units.GWP_SETS)
    f.enum(gwp["to"], f.sub(g_path, "to"), units.GWP_SETS)
    l_path = f.sub(path, "lines")
    line_ids = [
        _validate_action(item, f.sub(l_path, i), links)
        for i, item in enumerate(f.array(o["lines"], l_path, min_items=1))
    ]
    f.unique(line_ids, l_path, "line_id")
    validate_totals(o["result"], f.sub(path, "result"), vocab.OUTPUT_UNITS)
    d_path = f.sub(path, "differences")
    for i, item in enumerate(f.array(o["differences"], d_path, max_items=1000)):
        validate_difference(item, f.sub(d_path, i))
    return links
