"""`credit-change` and `bim-archive` bodies (docs/RECORDS.md §3.6, §3.7)."""

from __future__ import annotations

from typing import Any

from ledger.core.types import fields as f
from ledger.core.types import vocab
from ledger.core.types.carbon import BodyLink, check_subject_is_listed, validate_identifiers

CREDIT_REASONS = (
    "initial-rating",
    "periodic-review",
    "rectification-completed",
    "violation-found",
    "data-correction",
)
IFC_SCHEMAS = ("IFC2X3", "IFC4", "IFC4X3")


def validate_credit_body(body: Any, path: str, subject: str) -> list[BodyLink]:
    o = f.obj(
        body,
        path,
        (
            "enterprise",
            "period",
            "rule",
            "scores",
            "total_exact",
            "total",
            "grade",
            "previous_grade",
            "reason",
            "warning_list",
        ),
        ("rectification_deadline",),
    )
    e_path = f.sub(path, "enterprise")
    enterprise = f.obj(o["enterprise"], e_path, ("id", "name"))
    ent_id = f.text(enterprise["id"], f.sub(e_path, "id"), max_len=256)
    f.text(enterprise["name"], f.sub(e_path, "name"), max_len=256)
    if subject != ent_id:
        raise f.fail("subject", "expected the enterprise id of body.enterprise.id")
    p_path = f.sub(path, "period")
    period = f.obj(o["period"], p_path, ("start", "end"))
    start = f.calendar_date(period["start"], f.sub(p_path, "start"))
    end = f.calendar_date(period["end"], f.sub(p_path, "end"))
    if end <= start:
        raise f.fail(f.sub(p_path, "end"), "the end (exclusive) must come after the start")
    rule_id, rule_digest = f.link(o["rule"], f.sub(path, "rule"))
    s_path = f.sub(path, "scores")
    scores = f.obj(o["scores"], s_path, vocab.RATING_DIMENSIONS)
    for key in vocab.RATING_DIMENSIONS:
        f.decimal(scores[key], f.sub(s_path, key))
    f.decimal(o["total_exact"], f.sub(path, "total_exact"))
    f.decimal(o["total"], f.sub(path, "total"))
    grade = f.enum(o["grade"], f.sub(path, "grade"), vocab.GRADES)
    if o["previous_grade"] is not None:
        f.enum(o["previous_grade"], f.sub(path, "previous_grade"), vocab.GRADES)
    r_path = f.sub(path, "reason")
    reason = f.obj(o["reason"], r_path, ("code", "text"))
    f.enum(reason["code"], f.sub(r_path, "code"), CREDIT_REASONS)
    f.text(reason["text"], f.sub(r_path, "text"), max_len=2000)
    warning = f.boolean(o["warning_list"], f.sub(path, "warning_list"))
    # A C grade puts the enterprise on the warning list with a deadline to
    # rectify (docs/RECORDS.md §3.6); no other grade carries either.
    if grade == "C":
        if not warning:
            raise f.fail(f.sub(path, "warning_list"), "a C grade carries the warning-list flag")
        if "rectification_deadline" not in o:
            raise f.fail(
                f.sub(path, "rectification_deadline"), "missing required field for a C grade"
            )
        f.calendar_date(o["rectification_deadline"], f.sub(path, "rectification_deadline"))
    else:
        if warning:
            raise f.fail(
                f.sub(path, "warning_list"), "only a C grade carries the warning-list flag"
            )
        if "rectification_deadline" in o:
            raise f.fail(f.sub(path, "rectification_deadline"), "only a C grade has a deadline")
    return [("rule", rule_id, rule_digest, f.sub(path, "rule"))]


def validate_documents(value: Any, path: str, *, min_items: int = 0) -> None:
    """``[{name, media_type, size, sha256}]``: documents a record anchors by their hash."""
    for i, item in enumerate(f.array(value, path, min_items=min_items, max_items=1000)):
        p = f.sub(path, i)
        doc = f.obj(item, p, ("name", "media_type", "size", "sha256"))
        f.text(doc["name"], f.sub(p, "name"), max_len=256)
        f.matching(
            doc["media_type"],
            f.sub(p, "media_type"),
            f.MEDIA_TYPE_RE,
            "a media type like 'application/pdf'",
        )
        f.integer(doc["size"], f.sub(p, "size"), lo=0, hi=2**53 - 1)
        f.sha256_hex(doc["sha256"], f.sub(p, "sha256"))


def validate_archive_body(body: Any, path: str, subject: str) -> list[BodyLink]:
    o = f.obj(body, path, ("equipment", "event", "ifc", "documents", "carbon_records"))
    q_path = f.sub(path, "equipment")
    equipment = f.obj(o["equipment"], q_path, ("identifiers",))
    ids = validate_identifiers(equipment["identifiers"], f.sub(q_path, "identifiers"))
    check_subject_is_listed(subject, ids)
    ev_path = f.sub(path, "event")
    event = f.obj(o["event"], ev_path, ("kind", "at"), ("description",))
    f.enum(event["kind"], f.sub(ev_path, "kind"), vocab.LIFECYCLE_EVENTS)
    f.timestamp(event["at"], f.sub(ev_path, "at"))
    if "description" in event:
        f.text(event["description"], f.sub(ev_path, "description"), max_len=4000)
    i_path = f.sub(path, "ifc")
    ifc = f.obj(o["ifc"], i_path, ("schema", "global_ids"))
    f.enum(ifc["schema"], f.sub(i_path, "schema"), IFC_SCHEMAS)
    g_path = f.sub(i_path, "global_ids")
    guids = [
        f.matching(g, f.sub(g_path, i), f.IFC_GLOBALID_RE, "a 22-character IFC GlobalId")
        for i, g in enumerate(f.array(ifc["global_ids"], g_path, min_items=1, max_items=1000))
    ]
    f.unique(guids, g_path, "GlobalId")
    validate_documents(o["documents"], f.sub(path, "documents"))
    links: list[BodyLink] = []
    c_path = f.sub(path, "carbon_records")
    for i, item in enumerate(f.array(o["carbon_records"], c_path, max_items=100)):
        rec_id, digest = f.link(item, f.sub(c_path, i))
        links.append(("carbon-record", rec_id, digest, f.sub(c_path, i)))
    return links
