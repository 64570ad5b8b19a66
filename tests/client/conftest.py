"""The client suite runs against the same populated ledger as the API suite
(``template`` and ``world``: tests/apifixtures.py)."""
