"""Revocation reason codes (docs/API.md §3.5) and attestation verdicts: the documented
vocabularies of the codes the registries carry.

AnchorRegistry ``revoke`` takes any non-zero ``uint16`` (docs/CONTRACTS.md §3); carbonledger
gives the first codes a fixed meaning, with English and Chinese text, shared by the API,
the pages and the verifier's report. A code outside the table still names a revocation (a
registry may be written by other tools): it is shown as "unlisted reason code N", never
dropped.

Codes are stable: a code keeps its meaning for ever; a new reason gets a new code.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.core.errors import MalformedError

__all__ = ["REASONS", "VERDICT_CODES", "VERDICT_NAMES", "Reason", "describe_reason", "reason_for"]


@dataclass(frozen=True)
class Reason:
    """One reason: its code (the ``uint16`` on-chain), a slug for JSON, English and
    Chinese text, and whether a producer may give it for its own records (the other
    reasons are a regulator's to give)."""

    code: int
    slug: str
    en: str
    zh: str
    producer_may_use: bool


REASONS: tuple[Reason, ...] = (
    Reason(1, "data-error", "The record's data is wrong", "记录数据有误", True),
    Reason(2, "duplicate", "The record duplicates another record", "记录与其他记录重复", True),
    Reason(
        3,
        "withdrawn-by-producer",
        "Withdrawn by its producer",
        "由生产方撤回",
        True,
    ),
    Reason(
        4,
        "key-compromise",
        "The producer's signing key was compromised",
        "生产方签名密钥已泄露",
        True,
    ),
    Reason(
        5,
        "input-withdrawn",
        "A record it relies on (reference data, a source) was withdrawn",
        "所依据的记录（参考数据或来源记录）已被撤销",
        True,
    ),
    Reason(6, "fraud", "The record is fraudulent or falsified", "记录涉嫌欺诈或造假", False),
    Reason(
        7,
        "regulatory-order",
        "Revoked by order of a regulator or a court",
        "依监管机构或法院命令撤销",
        False,
    ),
    Reason(
        8,
        "verification-failed",
        "An accredited verification found it does not conform",
        "经认可的核查机构认定其不符合要求",
        False,
    ),
)

_BY_CODE = {r.code: r for r in REASONS}
_BY_SLUG = {r.slug: r for r in REASONS}


def reason_for(code_or_slug: int | str, *, path: str = "reason") -> Reason:
    """The listed reason for a code or a slug; ``MalformedError`` naming ``path`` otherwise
    (requests must use the vocabulary; reading the chain uses ``describe_reason``)."""
    found = (
        _BY_SLUG.get(code_or_slug)
        if isinstance(code_or_slug, str)
        else _BY_CODE.get(code_or_slug)
        if not isinstance(code_or_slug, bool)
        else None
    )
    if found is None:
        listed = ", ".join(f"{r.code} ({r.slug})" for r in REASONS)
        raise MalformedError(f"unknown reason {code_or_slug!r}: use one of {listed}", path=path)
    return found


def describe_reason(code: int) -> dict[str, object]:
    """JSON-ready text of any on-chain code: the listed reason, or an "unlisted" entry."""
    reason = _BY_CODE.get(code)
    if reason is None:
        return {
            "code": code,
            "slug": None,
            "en": f"Unlisted reason code {code}",
            "zh": f"未列出的原因代码 {code}",
        }
    return {"code": reason.code, "slug": reason.slug, "en": reason.en, "zh": reason.zh}


#: Attestation verdicts: the name in the API and the ``uint8`` TrustRegistry ``attest``
#: takes (docs/CONTRACTS.md §4).
VERDICT_CODES: dict[str, int] = {
    "conforms": 1,
    "conforms-with-findings": 2,
    "does-not-conform": 3,
}
VERDICT_NAMES: dict[int, str] = {code: name for name, code in VERDICT_CODES.items()}
