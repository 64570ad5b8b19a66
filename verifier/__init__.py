"""The auditor's verifier: checks an evidence bundle against the chain.

Imports only the pure core of ``ledger`` and read-only chain code. Shipped as the
distribution ``carbon-verify`` together with ``ledger.core`` (packaging/carbon-verify).
"""

__version__ = "0.1.0"
