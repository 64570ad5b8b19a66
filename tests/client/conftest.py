"""The client suite runs against the same populated ledger as the API suite."""

from tests.api.conftest import template, world

__all__ = ["template", "world"]
