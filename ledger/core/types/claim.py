"""`claim` body (docs/RECORDS.md §3.11): one unit's embedded emissions declared into one
regime by a declarant, resting on the carbon record or conversion that states them."""

from __future__ import annotations

import re
from typing import Any

from ledger.core.claims import REGIMES
from ledger.core.identifiers import parse_identifier
from ledger.core.types import fields as f
from ledger.core.types.carbon import BodyLink

# Economic Operators Registration and Identification number: country code and up to 15
# characters (Commission Implementing Regulation (EU) 2015/2447 Art. 1).
EORI_RE = re.compile(r"^[A-Z]{2}[0-9A-Za-z]{1,15}$")


def validate_claim_body(body: Any, path: str, subject: str) -> list[BodyLink]:
    o = f.obj(body, path, ("regime", "year", "declarant", "source"), ("reference",))
    # The unit is named by its serial number: a Handle (docs/RECORDS.md §1.4).
    if parse_identifier(subject, "subject").scheme != "handle":
        raise f.fail("subject", "a claim names its unit by its serial number: a Handle")
    f.enum(o["regime"], f.sub(path, "regime"), tuple(REGIMES))
    f.integer(o["year"], f.sub(path, "year"), lo=2023, hi=2100)
    d_path = f.sub(path, "declarant")
    declarant = f.obj(o["declarant"], d_path, ("id", "name"), ("eori",))
    f.urn(declarant["id"], f.sub(d_path, "id"))
    f.text(declarant["name"], f.sub(d_path, "name"), max_len=256)
    if "eori" in declarant:
        f.matching(declarant["eori"], f.sub(d_path, "eori"), EORI_RE, "an EORI number")
    source_id, digest = f.link(o["source"], f.sub(path, "source"))
    if "reference" in o:
        f.text(o["reference"], f.sub(path, "reference"), max_len=256)
    return [("source", source_id, digest, f.sub(path, "source"))]
