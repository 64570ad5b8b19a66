"""Logs an operator can search: one JSON object a line, with a timestamp, the level, the
logger, the message and the request id of the request it belongs to (docs/OPERATIONS.md §8).

The service (``carbonledger serve``, ``carbonledger up --serve``) logs this way by default;
one-shot commands write short human lines (``LEVEL logger: message``) unless the setting
``log_format`` says ``json``. The access log is the logger ``carbonledger.access``: one
event per request (``api.middleware.ObservabilityMiddleware``).
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TextIO

__all__ = [
    "ACCESS_LOGGER",
    "REQUEST_ID",
    "JsonFormatter",
    "configure_logging",
    "current_request_id",
]

#: The id of the request being served (set by the middleware, read by the formatter and
#: by the 500 problem, whose correlation id it is).
REQUEST_ID: ContextVar[str | None] = ContextVar("carbonledger_request_id", default=None)
ACCESS_LOGGER = "carbonledger.access"
#: Attributes of a log record that a formatter shows as fields of their own when present.
_FIELDS = ("method", "path", "route", "status", "duration_ms", "client", "bytes", "principal")


def current_request_id() -> str | None:
    return REQUEST_ID.get()


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ``ts`` (RFC 3339 UTC, milliseconds), ``level``,
    ``logger``, ``message``, ``request_id`` when inside a request, the access fields, and
    ``exception`` (the formatted traceback) when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created, UTC)
        out: dict[str, Any] = {
            "ts": moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or current_request_id()
        if request_id:
            out["request_id"] = request_id
        for name in _FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                out[name] = value
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, separators=(",", ":"), default=str)


class _TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(levelname)s %(name)s: %(message)s")


def configure_logging(*, level: int, json_lines: bool, stream: TextIO | None = None) -> None:
    """Send every log record to ``stream`` (stderr) at ``level``, as JSON or as text."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if json_lines else _TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
