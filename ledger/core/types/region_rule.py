"""`region-rule` schema version 2: the region rule knowledge base (docs/RECORDS.md §3.3.1).

Version 2 keeps every member of version 1 (boundary, factor sets, GWP set, rounding,
output unit, template) and adds what the cross-border workflow needs to pre-assess a
record for the region: mandatory factors, required data, gases covered, recognised
accreditation, restricted chemicals, the declaration deadline, tariff parameters,
baselines and access thresholds per CN code, the risk-band edges and the suggestions
per level. Every figure and list cites one of the rule's `sources` and is marked
`official` or `illustrative`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ledger.core.calc import units
from ledger.core.types import fields as f
from ledger.core.types import vocab
from ledger.core.types.carbon import BodyLink, validate_rounding
from ledger.core.types.reference import REGION_RULE_MEMBERS, validate_region_rule_body

FIGURE_STATUSES = ("official", "illustrative")
SOURCE_PROVENANCES = ("primary", "secondary", "none")
LINE_QUANTIFIERS = ("some", "each")
DEADLINE_KINDS = ("annual", "after-import")
LEVELS_WITH_SUGGESTIONS = ("blue", "yellow", "red")
# ISO 4217 alphabetic code.
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")

_V2_MEMBERS = (
    "status",
    "sources",
    "gases",
    "mandatory_factors",
    "required_data",
    "accreditation",
    "restricted_chemicals",
    "declaration",
    "tariff",
    "baselines",
    "risk_bands",
    "suggestions",
)


def _cite(o: Mapping[str, Any], path: str, sources: set[str]) -> None:
    """The `source` (an id of `sources`) and `status` every cited item carries."""
    source = f.matching(o["source"], f.sub(path, "source"), f.SLUG_RE, "a source id")
    if source not in sources:
        raise f.fail(f.sub(path, "source"), f"no source {source!r} in body.sources")
    f.enum(o["status"], f.sub(path, "status"), FIGURE_STATUSES)


def validate_bilingual(value: Any, path: str) -> None:
    """A text in English and Chinese: `{en, zh}`."""
    o = f.obj(value, path, ("en", "zh"))
    f.text(o["en"], f.sub(path, "en"), max_len=2000)
    f.text(o["zh"], f.sub(path, "zh"), max_len=2000)


def _sources(value: Any, path: str) -> set[str]:
    ids: list[str] = []
    for i, item in enumerate(f.array(value, path, min_items=1, max_items=100)):
        p = f.sub(path, i)
        o = f.obj(item, p, ("id", "title", "reference", "provenance"), ("url",))
        ids.append(f.matching(o["id"], f.sub(p, "id"), f.SLUG_RE, "a source id"))
        f.text(o["title"], f.sub(p, "title"), max_len=500)
        f.text(o["reference"], f.sub(p, "reference"), max_len=2000)
        f.enum(o["provenance"], f.sub(p, "provenance"), SOURCE_PROVENANCES)
        if "url" in o:
            url = f.text(o["url"], f.sub(p, "url"), max_len=1000)
            if not url.startswith("https://"):
                raise f.fail(f.sub(p, "url"), "expected an https:// URL")
    f.unique(ids, path, "source id")
    return set(ids)


def _gases(value: Any, path: str, sources: set[str]) -> None:
    o = f.obj(value, path, ("covered", "source", "status"))
    c_path = f.sub(path, "covered")
    gases = [
        f.enum(g, f.sub(c_path, i), units.GASES)
        for i, g in enumerate(
            f.array(o["covered"], c_path, min_items=1, max_items=len(units.GASES))
        )
    ]
    f.unique(gases, c_path, "gas")
    _cite(o, path, sources)


def _mandatory_factors(value: Any, path: str, sources: set[str], set_ids: set[str]) -> None:
    activities: list[str] = []
    for i, item in enumerate(f.array(value, path, max_items=200)):
        p = f.sub(path, i)
        o = f.obj(item, p, ("activity", "set", "entry", "source", "status"))
        activities.append(
            f.matching(o["activity"], f.sub(p, "activity"), f.SLUG_RE, "an activity key")
        )
        set_id = f.urn(o["set"], f.sub(p, "set"))
        if set_id not in set_ids:
            raise f.fail(f.sub(p, "set"), f"{set_id} is not one of body.factor_sets")
        f.text(o["entry"], f.sub(p, "entry"), max_len=128)
        _cite(o, p, sources)
    f.unique(activities, path, "activity")


def _line_filter(value: Any, path: str) -> None:
    o = f.obj(value, path, (), ("stage", "channel", "emission_class", "activity"))
    if not o:
        raise f.fail(path, "expected at least one of stage, channel, emission_class, activity")
    if "stage" in o:
        f.enum(o["stage"], f.sub(path, "stage"), vocab.STAGES)
    if "channel" in o:
        f.enum(o["channel"], f.sub(path, "channel"), vocab.CHANNELS)
    if "emission_class" in o:
        f.enum(o["emission_class"], f.sub(path, "emission_class"), vocab.EMISSION_CLASSES)
    if "activity" in o:
        f.matching(o["activity"], f.sub(path, "activity"), f.SLUG_RE, "an activity key prefix")


def _required_data(value: Any, path: str, sources: set[str]) -> None:
    keys: list[str] = []
    for i, item in enumerate(f.array(value, path, max_items=100)):
        p = f.sub(path, i)
        o = f.obj(
            item,
            p,
            (
                "key",
                "what",
                "lines",
                "where",
                "evidence",
                "lead_time_days",
                "rectification",
                "source",
                "status",
            ),
        )
        keys.append(f.matching(o["key"], f.sub(p, "key"), f.SLUG_RE, "a key"))
        f.text(o["what"], f.sub(p, "what"), max_len=1000)
        quantifier = f.enum(o["lines"], f.sub(p, "lines"), LINE_QUANTIFIERS)
        _line_filter(o["where"], f.sub(p, "where"))
        evidence = f.boolean(o["evidence"], f.sub(p, "evidence"))
        if quantifier == "each" and not evidence:
            raise f.fail(
                f.sub(p, "evidence"), "'each' requires evidence: true (every matching line has it)"
            )
        f.integer(o["lead_time_days"], f.sub(p, "lead_time_days"), lo=0, hi=3650)
        validate_bilingual(o["rectification"], f.sub(p, "rectification"))
        _cite(o, p, sources)
    f.unique(keys, path, "key")


def _accreditation(value: Any, path: str, sources: set[str]) -> None:
    for i, item in enumerate(f.array(value, path, max_items=20)):
        p = f.sub(path, i)
        o = f.obj(item, p, ("scheme", "accreditation_bodies", "source", "status"))
        f.text(o["scheme"], f.sub(p, "scheme"), max_len=256)
        b_path = f.sub(p, "accreditation_bodies")
        names = [
            f.text(b, f.sub(b_path, j), max_len=128)
            for j, b in enumerate(f.array(o["accreditation_bodies"], b_path, min_items=1))
        ]
        f.unique(names, b_path, "accreditation body")
        _cite(o, p, sources)


def _restricted_chemicals(value: Any, path: str, sources: set[str]) -> None:
    o = f.obj(value, path, ("catalogue", "substances", "rectification"))
    f.text(o["catalogue"], f.sub(path, "catalogue"), max_len=1000)
    s_path = f.sub(path, "substances")
    cas_list: list[str] = []
    for i, item in enumerate(f.array(o["substances"], s_path, max_items=1000)):
        p = f.sub(s_path, i)
        sub = f.obj(item, p, ("cas", "name", "legal_ref", "source", "status"))
        cas_list.append(f.cas_number(sub["cas"], f.sub(p, "cas")))
        f.text(sub["name"], f.sub(p, "name"), max_len=256)
        f.text(sub["legal_ref"], f.sub(p, "legal_ref"), max_len=1000)
        _cite(sub, p, sources)
    f.unique(cas_list, s_path, "CAS number")
    validate_bilingual(o["rectification"], f.sub(path, "rectification"))


def _declaration(value: Any, path: str, sources: set[str]) -> None:
    o = f.obj(value, path, ("deadline", "source", "status"))
    d_path = f.sub(path, "deadline")
    if not isinstance(o["deadline"], Mapping):
        raise f.fail(d_path, f"expected an object, got {f.kind_of(o['deadline'])}")
    kind = f.enum(o["deadline"].get("kind"), f.sub(d_path, "kind"), DEADLINE_KINDS)
    if kind == "annual":
        d = f.obj(o["deadline"], d_path, ("kind", "year_offset", "month", "day"))
        f.integer(d["year_offset"], f.sub(d_path, "year_offset"), lo=0, hi=5)
        month = f.integer(d["month"], f.sub(d_path, "month"), lo=1, hi=12)
        # Day 29 of February would not exist every year: at most 28 in February.
        last = 28 if month == 2 else 30 if month in (4, 6, 9, 11) else 31
        f.integer(d["day"], f.sub(d_path, "day"), lo=1, hi=last)
    else:
        d = f.obj(o["deadline"], d_path, ("kind", "days"))
        f.integer(d["days"], f.sub(d_path, "days"), lo=0, hi=3650)
    _cite(o, path, sources)


def _fraction(value: Any, path: str) -> Decimal:
    share = f.decimal(value, path, non_negative=True)
    if share > 1:
        raise f.fail(path, f"expected a share from 0 to 1, got {value!r}")
    return share


def _tariff(value: Any, path: str, sources: set[str]) -> None:
    o = f.obj(
        value,
        path,
        (
            "instrument",
            "currency",
            "goods",
            "price",
            "free_allocation",
            "origin_price_deduction",
            "de_minimis",
            "acceptable_burden_per_t",
            "rounding",
        ),
    )
    f.text(o["instrument"], f.sub(path, "instrument"), max_len=256)
    f.matching(o["currency"], f.sub(path, "currency"), CURRENCY_RE, "an ISO 4217 code like 'EUR'")
    g_path = f.sub(path, "goods")
    goods = f.obj(o["goods"], g_path, ("cn_codes", "source", "status"))
    c_path = f.sub(g_path, "cn_codes")
    codes = [
        f.matching(c, f.sub(c_path, i), f.CN_CODE_RE, "a CN code of 4, 6 or 8 digits")
        for i, c in enumerate(f.array(goods["cn_codes"], c_path, min_items=1, max_items=1000))
    ]
    f.unique(codes, c_path, "CN code")
    _cite(goods, g_path, sources)
    p_path = f.sub(path, "price")
    price = f.obj(o["price"], p_path, ("value", "date", "source", "status"))
    f.decimal(price["value"], f.sub(p_path, "value"), positive=True)
    f.calendar_date(price["date"], f.sub(p_path, "date"))
    _cite(price, p_path, sources)
    fa_path = f.sub(path, "free_allocation")
    previous: int | None = None
    for i, item in enumerate(f.array(o["free_allocation"], fa_path, min_items=1, max_items=100)):
        p = f.sub(fa_path, i)
        year_share = f.obj(item, p, ("year", "share", "source", "status"))
        year = f.integer(year_share["year"], f.sub(p, "year"), lo=2000, hi=2100)
        if previous is not None and year <= previous:
            raise f.fail(f.sub(p, "year"), "years must be listed in increasing order")
        previous = year
        _fraction(year_share["share"], f.sub(p, "share"))
        _cite(year_share, p, sources)
    d_path = f.sub(path, "origin_price_deduction")
    deduction = f.obj(o["origin_price_deduction"], d_path, ("allowed", "source", "status"))
    f.boolean(deduction["allowed"], f.sub(d_path, "allowed"))
    _cite(deduction, d_path, sources)
    m_path = f.sub(path, "de_minimis")
    if o["de_minimis"] is not None:
        dm = f.obj(o["de_minimis"], m_path, ("threshold", "unit", "basis", "source", "status"))
        f.decimal(dm["threshold"], f.sub(m_path, "threshold"), positive=True)
        f.text(dm["unit"], f.sub(m_path, "unit"), max_len=16)
        f.text(dm["basis"], f.sub(m_path, "basis"), max_len=500)
        _cite(dm, m_path, sources)
    a_path = f.sub(path, "acceptable_burden_per_t")
    acceptable = f.obj(o["acceptable_burden_per_t"], a_path, ("value", "source", "status"))
    f.decimal(acceptable["value"], f.sub(a_path, "value"), non_negative=True)
    _cite(acceptable, a_path, sources)
    validate_rounding(o["rounding"], f.sub(path, "rounding"))


def _risk_bands(value: Any, path: str, sources: set[str]) -> Decimal:
    o = f.obj(value, path, ("yellow_from_pct", "yellow_to_pct", "source", "status"))
    low = f.decimal(o["yellow_from_pct"], f.sub(path, "yellow_from_pct"), positive=True)
    high = f.decimal(o["yellow_to_pct"], f.sub(path, "yellow_to_pct"), positive=True)
    if high <= low:
        raise f.fail(f.sub(path, "yellow_to_pct"), "must be greater than yellow_from_pct")
    _cite(o, path, sources)
    return high


def _baselines(value: Any, path: str, sources: set[str], yellow_to_pct: Decimal) -> None:
    codes: list[str] = []
    for i, item in enumerate(f.array(value, path, max_items=1000)):
        p = f.sub(path, i)
        o = f.obj(
            item,
            p,
            ("cn_code", "product", "baseline", "access_threshold", "source", "status"),
            ("benchmark",),
        )
        codes.append(
            f.matching(o["cn_code"], f.sub(p, "cn_code"), f.CN_CODE_RE, "a CN code of 4-8 digits")
        )
        f.text(o["product"], f.sub(p, "product"), max_len=500)
        baseline = f.decimal(o["baseline"], f.sub(p, "baseline"), positive=True)
        threshold = f.decimal(o["access_threshold"], f.sub(p, "access_threshold"), positive=True)
        # Every figure falls in exactly one band (docs/CALC.md §11.4): the access
        # threshold lies above the baseline and at most yellow_to_pct above it. Exact:
        # 100 x threshold <= baseline x (100 + yellow_to_pct), no division.
        if threshold <= baseline or threshold * 100 > baseline * (100 + yellow_to_pct):
            raise f.fail(
                f.sub(p, "access_threshold"),
                f"expected above the baseline and at most {yellow_to_pct} % above it",
            )
        if "benchmark" in o:
            f.decimal(o["benchmark"], f.sub(p, "benchmark"), non_negative=True)
        _cite(o, p, sources)
    f.unique(codes, path, "CN code")


def validate_region_rule_body_v2(body: Any, path: str, subject: str) -> list[BodyLink]:
    o = f.obj(body, path, (*REGION_RULE_MEMBERS, *_V2_MEMBERS), ("notes",))
    v1 = {k: v for k, v in o.items() if k not in _V2_MEMBERS}
    links = validate_region_rule_body(v1, path, subject)
    f.enum(o["status"], f.sub(path, "status"), FIGURE_STATUSES)
    sources = _sources(o["sources"], f.sub(path, "sources"))
    _gases(o["gases"], f.sub(path, "gases"), sources)
    set_ids = {link[1] for link in links}
    _mandatory_factors(o["mandatory_factors"], f.sub(path, "mandatory_factors"), sources, set_ids)
    _required_data(o["required_data"], f.sub(path, "required_data"), sources)
    _accreditation(o["accreditation"], f.sub(path, "accreditation"), sources)
    _restricted_chemicals(o["restricted_chemicals"], f.sub(path, "restricted_chemicals"), sources)
    _declaration(o["declaration"], f.sub(path, "declaration"), sources)
    if o["tariff"] is not None:
        _tariff(o["tariff"], f.sub(path, "tariff"), sources)
    yellow_to = _risk_bands(o["risk_bands"], f.sub(path, "risk_bands"), sources)
    _baselines(o["baselines"], f.sub(path, "baselines"), sources, yellow_to)
    s_path = f.sub(path, "suggestions")
    suggestions = f.obj(o["suggestions"], s_path, LEVELS_WITH_SUGGESTIONS)
    for level in LEVELS_WITH_SUGGESTIONS:
        validate_bilingual(suggestions[level], f.sub(s_path, level))
    return links
