"""The interpreter's recursion limit, which a dependency raises and the service puts back.

``py_ecc`` (imported by ``eth_keyfile``, which web3 and eth-account import) and ``eth``
(py-evm, the memory chain) raise ``sys.setrecursionlimit`` to 100,000 and more when they
are imported. At that limit, recursive code over untrusted input no longer stops at a
``RecursionError``: it runs until the C stack overflows and the whole process (API,
anchorer and, under ``carbonledger up``, the chain it started) dies of a segmentation
fault. Request bodies are parsed without recursion (``api.routes.body``), and every
process of the service puts the limit back to CPython's default after importing those
modules, so recursive code elsewhere fails with an exception instead.
"""

from __future__ import annotations

import contextlib
import importlib
import sys

from ledger.core.errors import LedgerError

__all__ = [
    "SAFE_RECURSION_LIMIT",
    "RecursionLimitError",
    "check_recursion_limit",
    "restore_recursion_limit",
]

#: CPython's default (``sys.getrecursionlimit()`` of a fresh interpreter): deep enough for
#: every code path of the service, shallow enough that the C stack of any thread outlasts it.
SAFE_RECURSION_LIMIT = 1000
#: Modules known to raise the limit on import: imported first, so that no later import of
#: theirs can undo the restoration.
_RAISERS = ("py_ecc", "eth")


def restore_recursion_limit() -> None:
    """Import the modules that raise the limit, then set it to ``SAFE_RECURSION_LIMIT``."""
    for name in _RAISERS:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    sys.setrecursionlimit(SAFE_RECURSION_LIMIT)


class RecursionLimitError(LedgerError):
    """The recursion limit is above ``SAFE_RECURSION_LIMIT`` at start-up."""


def check_recursion_limit() -> None:
    """Raise ``RecursionLimitError`` unless the limit is at most ``SAFE_RECURSION_LIMIT``
    (start-up asserts it once everything is imported)."""
    current = sys.getrecursionlimit()
    if current > SAFE_RECURSION_LIMIT:
        raise RecursionLimitError(
            f"the interpreter's recursion limit is {current}, above {SAFE_RECURSION_LIMIT}: "
            "a module imported after start-up raised it; refusing to serve"
        )
