"""Schema version 2 of `carbon-record`, `factor-substitution` and `credit-change`
(docs/RECORDS.md §3.8).

Version 2 adds what acceptance-time recomputation needs a record to say, beside version 1
and never in place of it (version-1 records keep validating):

- `carbon-record` and `factor-substitution` may carry ``validity_exceptions``: why a
  factor set is used outside its validity period (docs/CALC.md §10.1), and a ``quality``
  block: data quality and assurance (``ledger.core.types.quality``, docs/RECORDS.md §3.8.1);
- a `credit-change` names the rating it follows with a ``previous`` link in ``refs``,
  present exactly when ``previous_grade`` is not null (the link rule lives with the other
  envelope rules in ``ledger.core.records``); its body is that of version 1.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ledger.core.types import fields as f
from ledger.core.types import vocab
from ledger.core.types.carbon import (
    BodyLink,
    validate_carbon_body,
    validate_carbon_body_with_substances,
)
from ledger.core.types.quality import with_quality
from ledger.core.types.substitution import (
    validate_substitution_body,
    validate_substitution_body_with_boundary,
)
from ledger.core.types.trail import validate_credit_body

__all__ = [
    "VALIDITY_EXCEPTIONS",
    "validate_carbon_body_v2",
    "validate_carbon_body_v3",
    "validate_credit_body_v2",
    "validate_substitution_body_v2",
    "validate_substitution_body_v3",
    "with_validity_exceptions",
]

VALIDITY_EXCEPTIONS = "validity_exceptions"


def _validity_exceptions(value: Any, path: str) -> list[BodyLink]:
    """``[{factor_set: {id, digest}, code, text}]``, at least one, one per factor set."""
    links: list[BodyLink] = []
    seen: list[str] = []
    for i, item in enumerate(f.array(value, path, min_items=1, max_items=100)):
        p = f.sub(path, i)
        o = f.obj(item, p, ("factor_set", "code", "text"))
        set_id, digest = f.link(o["factor_set"], f.sub(p, "factor_set"))
        f.enum(o["code"], f.sub(p, "code"), vocab.VALIDITY_EXCEPTION_CODES)
        f.text(o["text"], f.sub(p, "text"), max_len=1000)
        links.append(("factor-set", set_id, digest, f.sub(p, "factor_set")))
        seen.append(set_id)
    f.unique(seen, path, "factor set")
    return links


def _without_exceptions(body: Any) -> tuple[Any, Any]:
    if isinstance(body, Mapping) and VALIDITY_EXCEPTIONS in body:
        rest = {k: v for k, v in body.items() if k != VALIDITY_EXCEPTIONS}
        return rest, body[VALIDITY_EXCEPTIONS]
    return body, None


BodyValidator = Callable[[Any, str, str], list[BodyLink]]


def with_validity_exceptions(version_1: BodyValidator) -> BodyValidator:
    """Version 1's body plus an optional ``validity_exceptions``."""

    def validate(body: Any, path: str, subject: str) -> list[BodyLink]:
        rest, exceptions = _without_exceptions(body)
        links = version_1(rest, path, subject)
        if exceptions is not None:
            links += _validity_exceptions(exceptions, f.sub(path, VALIDITY_EXCEPTIONS))
        return links

    return validate


validate_carbon_body_v2 = with_validity_exceptions(with_quality(validate_carbon_body))
validate_substitution_body_v2 = with_validity_exceptions(with_quality(validate_substitution_body))
# Schema version 3 of a carbon record: version 2 with `substances` on lines (docs/RECORDS.md
# §3.1.1).
validate_carbon_body_v3 = with_validity_exceptions(
    with_quality(validate_carbon_body_with_substances)
)
# Schema version 3 of a factor substitution: version 2 with `supplements` and
# `allocations` (docs/RECORDS.md §3.4.1).
validate_substitution_body_v3 = with_validity_exceptions(
    with_quality(validate_substitution_body_with_boundary)
)


def validate_credit_body_v2(body: Any, path: str, subject: str) -> list[BodyLink]:
    return validate_credit_body(body, path, subject)
