"""What the cross-border routes call (docs/API.md §3.7): pre-assessments, conversions on
request and export locks, over ``ledger.service.crossborder.CrossBorderDesk``.

Who may call what: an assessment or a conversion reads the source record's lines, so
the caller must see it in full (its producer, an auditor granted its subject, a
regulator); a draft is assessed for any authenticated caller and never stored. Locks
are public: they say only that a subject may not be exported into a region, and why.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from api.auth import Caller, access_for, require_role
from api.declaration import render_declaration
from api.problems import ForbiddenError
from api.settings import CarbonLedgerSettings
from ledger.core.clock import Clock
from ledger.core.errors import MalformedError
from ledger.service.crossborder import CrossBorderDesk, Signer
from ledger.service.locks import ExportLock
from ledger.service.query import LedgerQueries
from ledger.service.service_key import read_key_file

__all__ = ["CrossBorderApi", "signers_from_settings"]

_ROLES = ("producer", "auditor", "regulator")


def _signer(producer: str | None, key_file: Path | None, what: str) -> Signer | None:
    if producer is None and key_file is None:
        return None
    if producer is None or key_file is None:
        raise MalformedError(f"set both {what}_producer and {what}_key_file", path=what)
    return Signer(producer, read_key_file(key_file))


def signers_from_settings(settings: CarbonLedgerSettings) -> tuple[Signer | None, Signer | None]:
    """The assessor and the converter the settings name (each optional)."""
    return (
        _signer(settings.assessor_producer, settings.assessor_key_file, "assessor"),
        _signer(settings.converter_producer, settings.converter_key_file, "converter"),
    )


def _date(value: str, path: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise MalformedError(f"{value!r} is not a date (YYYY-MM-DD)", path=path) from None


class CrossBorderApi:
    def __init__(self, desk: CrossBorderDesk, queries: LedgerQueries, clock: Clock) -> None:
        self.desk = desk
        self.queries = queries
        self.clock = clock

    def _source(self, caller: Caller, source_id: str) -> str:
        """The subject of ``source_id``, which the caller must see in full (404 when it
        sees nothing of it)."""
        access = access_for(caller)
        summary = self.queries.record(source_id, access).summary
        if not access.sees_full(summary.producer, summary.subject):
            raise ForbiddenError(
                f"principal {caller.name} does not see {source_id} in full: an assessment, "
                "a conversion or a declaration reads its lines"
            )
        return summary.subject

    def assess(
        self,
        caller: Caller,
        *,
        region: str,
        import_date: str,
        source: str | None,
        draft: Any,
        choices: Any,
        origin_price: dict[str, Any] | None,
        store: bool,
    ) -> dict[str, Any]:
        require_role(caller, *_ROLES)
        subject = None if source is None else self._source(caller, source)
        out = self.desk.assess(
            region=region,
            import_date=_date(import_date, "import_date"),
            assessed_at=self.clock(),
            source_id=source,
            draft=draft,
            choices=choices,
            origin_price=origin_price,
            store=store,
        )
        found = None if subject is None else self.desk.lock(subject, region)
        return {
            "stored": out.receipt is not None,
            "record_id": None if out.record is None else out.record["id"],
            "receipt": None if out.receipt is None else out.receipt.to_json(),
            "subject": subject,
            "assessment": out.body,
            "lock": None if found is None else found.to_json(),
        }

    def convert(
        self,
        caller: Caller,
        *,
        region: str,
        source: str,
        choices: Any,
        supplements: list[dict[str, Any]] | None,
        allocations: list[dict[str, Any]] | None,
        body: str | None = None,
    ) -> dict[str, Any]:
        require_role(caller, "producer", "regulator")
        self._source(caller, source)
        warning = None if body is None else self.desk.body_warning(body, region, self.clock())
        out = self.desk.convert(
            source_id=source,
            region=region,
            issued_at=self.clock(),
            choices=choices,
            supplements=supplements,
            allocations=allocations,
        )
        return {
            "record_id": out.record["id"],
            "receipt": out.receipt.to_json(),
            "record": out.record,
            "warnings": [] if warning is None else [warning],
        }

    def declaration(self, caller: Caller, conversion_id: str, fmt: str) -> bytes:
        """The declaration of a conversion the caller sees in full, with its source."""
        require_role(caller, *_ROLES)
        self._source(caller, conversion_id)
        conversion, source, rule = self.desk.declaration_inputs(conversion_id)
        self._source(caller, source.id)
        return render_declaration(conversion, source, rule, fmt=fmt)

    def locks(self, subject: str, region: str | None) -> list[ExportLock]:
        found = self.desk.locks(subject)
        return [lock for lock in found if region is None or lock.region == region]
