"""The seam of the export lock: every export of this service asks it first.

A red risk assessment locks the exports of its subject for its region (docs/PACT.md §8,
docs/CBAM.md §5): no PACT footprint, CBAM package or webhook carrying its figures may
leave while the lock holds. Every exporter (``ledger.service.exchange``,
``ledger.service.cbam``) calls :func:`locked_subjects` and nothing else; the service wires
in ``ledger.service.locks.store_lock_check``, the locks of the risk assessments in force.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ledger.core.errors import ConflictError

__all__ = ["ExportLockedError", "LockCheck", "locked_subjects", "no_lock", "require_unlocked"]

#: (subjects, region or None for any region) -> {locked subject: reason}.
LockCheck = Callable[[Iterable[str], str | None], dict[str, str]]


class ExportLockedError(ConflictError):
    """An export refused because a red risk assessment locks its subject."""

    def __init__(self, subject: str, reason: str) -> None:
        super().__init__(f"exports of {subject} are locked: {reason}")
        self.subject = subject


def no_lock(subjects: Iterable[str], region: str | None) -> dict[str, str]:
    """No lock at all: for an exporter built without the store's risk assessments."""
    return {}


def locked_subjects(
    check: LockCheck, subjects: Iterable[str], region: str | None
) -> dict[str, str]:
    """The locked ones among ``subjects`` for ``region`` (None: locked for any region)."""
    return dict(check(list(dict.fromkeys(subjects)), region))


def require_unlocked(check: LockCheck, subject: str, region: str | None) -> None:
    """Raises ``ExportLockedError`` when ``subject`` is locked for ``region``."""
    found = locked_subjects(check, [subject], region)
    if subject in found:
        raise ExportLockedError(subject, found[subject])
