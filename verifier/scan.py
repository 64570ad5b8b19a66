"""A scanned carbon-efficiency code checked against an evidence bundle (docs/VERIFY.md §6.3).

The code's payload is the URL of an evaluation's public page carrying the evaluation's
record id and digest (docs/RECORDS.md §3.17). ``carbon-verify code PAYLOAD --bundle FILE``
verifies the bundle as ``bundle`` does, then :func:`code_section` says whether the code
holds: the bundle carries a ``carbon-efficiency`` record with exactly the code's digest,
that record's id is the one the page URL names, and none of that record's checks (nor
the bundle's own) failed or stayed undecided. Nothing is fetched: the page is not opened.
"""

from __future__ import annotations

from typing import Any

from ledger.core.bundle import Bundle
from ledger.core.efficiency_code import EfficiencyCode, verify_efficiency_code
from ledger.core.errors import LedgerError
from ledger.core.view import reconstruct
from verifier.model import Status, Verification

__all__ = ["EVALUATION_TYPE", "code_section"]

EVALUATION_TYPE = "carbon-efficiency"
#: A record whose checks include one of these does not verify.
_NOT_VERIFIED = (Status.FAIL, Status.UNKNOWN)


def code_section(
    code: EfficiencyCode, bundle: Bundle, verification: Verification
) -> dict[str, Any]:
    """``{page_url, record_id, digest, subject, matches, problems}``: ``subject`` is the
    bundle entry holding the code's digest (``items[i]`` / ``closure[j]``, or null), and
    ``matches`` is true when ``problems`` is empty."""
    found: tuple[str, dict[str, Any]] | None = None
    same_id: tuple[str, str] | None = None  # (subject, digest hex) of a record with the code's id
    for group, items in (("items", bundle.items), ("closure", bundle.closure)):
        for i, item in enumerate(items):
            digest_hex = item.digest.hex()
            if digest_hex != code.digest_hex and same_id is not None:
                continue
            raw = reconstruct(item.view)
            if digest_hex == code.digest_hex and found is None:
                found = (f"{group}[{i}]", raw)
            elif raw.get("id") == code.record_id and same_id is None:
                same_id = (f"{group}[{i}]", digest_hex)
    problems: list[str] = []
    subject = found[0] if found else None
    if found is None:
        if same_id is not None:
            problems.append(
                f"the bundle's {code.record_id} ({same_id[0]}) has digest {same_id[1]}, the code "
                f"says {code.digest_hex}: the code was altered or is of another evaluation"
            )
        else:
            problems.append(
                f"no record of the bundle has the code's digest {code.digest_hex}: the bundle "
                f"does not carry the evaluation the code names ({code.record_id})"
            )
    else:
        raw = found[1]
        record_type, record_id = raw.get("type"), raw.get("id")
        if record_type != EVALUATION_TYPE:
            problems.append(
                f"{subject}, the record with the code's digest, is "
                f"{_shown(record_type)}, not a {EVALUATION_TYPE} evaluation"
            )
        if not isinstance(record_id, str):
            problems.append(f"{subject} hides its id: the code's page id cannot be compared")
        else:
            try:
                verify_efficiency_code(code, record_id, code.digest_hex)
            except LedgerError:
                problems.append(
                    f"the code's page names {code.record_id}, but the record with its digest "
                    f"({subject}) is {record_id}"
                )
        problems += _unverified(verification, subject)
    return {
        "page_url": code.page_url,
        "record_id": code.record_id,
        "digest": code.digest_hex,
        "subject": subject,
        "matches": not problems,
        "problems": problems,
    }


def _shown(value: object) -> str:
    return f"a {value}" if isinstance(value, str) else "of a type its view hides"


def _unverified(verification: Verification, subject: str | None) -> list[str]:
    """One line per check of the bundle or of ``subject`` that failed or stayed undecided."""
    return [
        f"check {c.number} ({c.name}) of {c.subject} is {c.status.value}: {c.reason}"
        for c in verification.checks
        if c.subject in ("bundle", subject) and c.status in _NOT_VERIFIED
    ]
