"""The public page of a carbon-efficiency evaluation (docs/PAGES.md §1, docs/RECORDS.md
§3.17): what the carbon-efficiency code opens. In Chinese and English side by side, for
anyone who scans the code: the enterprise, the period, the grade and the carbon level, the
figures the public may see (L, the industry average, K), the grading rule, the record's
digest and anchoring, the code itself (an SVG image served beside the page at
``/efficiency/code.svg?id=…``), and how to check all of it without trusting this page: the
evidence bundle and the ``carbon-verify`` command.

The code's payload carries the evaluation's digest; when it is not the digest of the record
stored under that id, the page says so first (HTTP 409) and shows what the ledger holds.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from starlette.responses import Response

from api.pages.base import PageRequest, Pages
from api.pages.evidence import bundle_filename, pins_of
from api.pages.i18n import translations
from api.pages.render import SECURITY_HEADERS
from api.pages.views import record_of, status_of
from api.pages.vocab import labeller
from ledger.core.efficiency_code import (
    EfficiencyCode,
    efficiency_code_payload,
    verify_efficiency_code,
)
from ledger.core.errors import DigestMismatchError, MalformedError, NotFoundError
from ledger.core.types.fields import SHA256_HEX_RE
from ledger.service.codes import efficiency_code_svg
from ledger.service.limits import MAX_ID_CHARS

__all__ = [
    "EVALUATION_PAGE",
    "add_efficiency_pages",
    "bilingual",
    "evaluation_page_url",
    "evaluation_values",
]

EVALUATION_PAGE = "/efficiency"
EVALUATION_TYPE = "carbon-efficiency"
#: The carbon level in both languages (docs/CALC.md §14.4).
LEVELS = {"low": "低碳 low", "medium": "中碳 medium", "high": "高碳 high"}
#: The page shows Chinese and English side by side, whatever the reader's language.
_ZH, _EN = labeller(translations("zh").gettext), labeller(translations("en").gettext)


def bilingual(kind: str, code: object) -> str:
    """The word for ``code`` of vocabulary ``kind`` in Chinese then English (the code itself
    when the catalogue has no word for it)."""
    zh, en = _ZH(kind, code), _EN(kind, code)
    return en if zh == en else f"{zh} {en}"


def evaluation_page_url(record_id: str, digest_hex: str) -> str:
    """The page a code opens, relative to the service (docs/RECORDS.md §3.17)."""
    return f"{EVALUATION_PAGE}?id={quote(record_id, safe=':')}&digest={digest_hex}"


def _moment(value: object) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def evaluation_values(page: PageRequest, record_id: str, digest: str | None) -> dict[str, Any]:
    """What the evaluation page shows of ``record_id`` to ``page``'s caller; ``digest`` is
    the one a scanned code states (None when the page was opened without one)."""
    if digest is not None and not SHA256_HEX_RE.fullmatch(digest):
        raise MalformedError("expected 64 lowercase hex digits", path="digest")
    found = page.api.record(page.caller, record_id)
    if found.summary.type != EVALUATION_TYPE:
        raise NotFoundError(f"{record_id} is not a carbon-efficiency evaluation")
    status = page.api.status(page.caller, record_id)
    record = record_of(found.view)
    body = record.get("body", {})
    result = body.get("result", {})
    stored = found.summary.digest_hex
    state = status.state.state
    current = None
    if state in ("superseded", "revoked"):
        # Where a reader of an outdated evaluation should look: the enterprise's latest.
        latest = page.api.registry.latest_evaluation(page.caller, found.summary.subject)
        if latest is not None and latest.record_id != record_id:
            current = {
                "record_id": latest.record_id,
                "grade": latest.grade,
                "period": (latest.period_start, latest.period_end),
                "url": evaluation_page_url(latest.record_id, latest.digest_hex),
            }
    period = body.get("period", {})
    return {
        "rec": found.summary,
        "status": status_of(status.state, status.summary.batch_seq),
        "state_words": bilingual("state", state),
        "outdated": state in ("superseded", "revoked"),
        "current": current,
        "stated_digest": digest,
        "mismatch": digest is not None and not _code_matches(page, record_id, digest, stored),
        "enterprise": body.get("enterprise", {}),
        "industry": body.get("industry", {}),
        "period": period,
        "period_start": _moment(period.get("start")),
        "period_end": _moment(period.get("end")),
        "boundary": body.get("boundary", {}),
        "grade": result.get("grade"),
        "level": LEVELS.get(str(result.get("level")), result.get("level")),
        "intensity": result.get("intensity", {}).get("value"),
        "industry_average": result.get("industry_average"),
        "efficiency_value": result.get("efficiency_value", {}).get("value"),
        "rule": body.get("rule", {}),
        "sources": [bilingual("source", s.get("field")) for s in body.get("sources", [])],
        "code_url": f"{EVALUATION_PAGE}/code.svg?id={quote(record_id, safe=':')}",
        "bundle_url": f"/bundle?id={quote(record_id, safe=':')}",
        "bundle_file": bundle_filename("record", record_id),
        "pins": pins_of(page.api),
    }


def _code_matches(page: PageRequest, record_id: str, digest: str, stored: str) -> bool:
    """Whether the scanned code (this page's URL) names the stored record's digest."""
    code = EfficiencyCode(str(page.request.url), record_id, digest)
    try:
        verify_efficiency_code(code, record_id, stored)
    except DigestMismatchError:
        return False
    return True


def add_efficiency_pages(router: APIRouter, pages: Pages) -> None:
    """Serve the evaluation page at ``/efficiency?id=…&digest=…``."""

    def evaluation(page: PageRequest) -> Response:
        record_id = page.query("id", max_chars=MAX_ID_CHARS)
        digest = page.request.query_params.get("digest")
        values = evaluation_values(page, record_id, digest)
        status = 409 if values["mismatch"] else 200
        return pages.render(page, "efficiency.html", http_status=status, **values)

    @router.get(EVALUATION_PAGE)
    async def get_evaluation(request: Request) -> Response:
        return await pages.serve(request, evaluation)

    def code_svg(page: PageRequest) -> Response:
        record_id = page.query("id", max_chars=MAX_ID_CHARS)
        found = page.api.record(page.caller, record_id)
        if found.summary.type != EVALUATION_TYPE:
            raise NotFoundError(f"{record_id} is not a carbon-efficiency evaluation")
        base = str(page.request.base_url).rstrip("/")
        payload = efficiency_code_payload(base, record_id, found.summary.digest_hex)
        return Response(
            efficiency_code_svg(payload), media_type="image/svg+xml", headers=SECURITY_HEADERS
        )

    @router.get(f"{EVALUATION_PAGE}/code.svg")
    async def get_code(request: Request) -> Response:
        return await pages.serve(request, code_svg)
