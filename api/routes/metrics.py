"""Prometheus metrics in the text exposition format (version 0.0.4).

Aggregates only (no record ids), so the endpoint is open to the scraper without a key.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from api.routes.deps import Api
from api.routes.schemas import problems

router = APIRouter(tags=["operations"])

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


@router.get(
    "/metrics",
    operation_id="metrics",
    response_class=Response,
    responses={
        **problems(),
        200: {"content": {"text/plain": {"schema": {"type": "string"}}}},
    },
)
def metrics(api: Api) -> Response:
    m = api.metrics()
    lines = [
        "# HELP carbonledger_records_accepted_total Records accepted by this process.",
        "# TYPE carbonledger_records_accepted_total counter",
        f"carbonledger_records_accepted_total {m['accepted']}",
        "# HELP carbonledger_records_rejected_total Write requests refused, by reason.",
        "# TYPE carbonledger_records_rejected_total counter",
    ]
    for reason, n in sorted(m["rejected"].items()):
        lines.append(f'carbonledger_records_rejected_total{{reason="{_label(reason)}"}} {n}')
    lines += [
        "# HELP carbonledger_records Records in the store, by anchoring status.",
        "# TYPE carbonledger_records gauge",
    ]
    for status in ("pending", "batched", "anchored"):
        lines.append(f'carbonledger_records{{status="{status}"}} {m["by_status"].get(status, 0)}')
    lines += [
        "# HELP carbonledger_records_pending Records accepted and not yet in a batch.",
        "# TYPE carbonledger_records_pending gauge",
        f"carbonledger_records_pending {m['by_status'].get('pending', 0)}",
        "# HELP carbonledger_anchoring_lag_seconds Age of the oldest record not yet anchored.",
        "# TYPE carbonledger_anchoring_lag_seconds gauge",
        f"carbonledger_anchoring_lag_seconds {m['anchoring_lag_s']:.3f}",
    ]
    return Response("\n".join(lines) + "\n", media_type=CONTENT_TYPE)
