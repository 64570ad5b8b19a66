"""The ledger service over core and store: the accept path, the
submission wire format, the service's receipt-signing key and the injected clock.

It imports ``ledger.core`` and ``ledger.store`` only; never ``anchoring`` or ``api``.
"""

from ledger.core.clock import Clock, ManualClock, system_clock
from ledger.service.accept import AFTER_COMMIT, LedgerService, receipt_bytes
from ledger.service.service_key import ServiceKey, ServiceKeyError, load_or_create
from ledger.service.submission import (
    BATCH_FORMAT,
    SUBMISSION_FORMAT,
    AcceptLimits,
    ParsedSubmission,
    RecordConflictError,
    RefusedRecordError,
)

__all__ = [
    "AFTER_COMMIT",
    "BATCH_FORMAT",
    "SUBMISSION_FORMAT",
    "AcceptLimits",
    "Clock",
    "LedgerService",
    "ManualClock",
    "ParsedSubmission",
    "RecordConflictError",
    "RefusedRecordError",
    "ServiceKey",
    "ServiceKeyError",
    "load_or_create",
    "receipt_bytes",
    "system_clock",
]
