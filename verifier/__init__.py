"""The auditor's verifier: checks an evidence bundle against the chain.

Imports only the pure core of ``ledger`` and read-only chain code.
"""
