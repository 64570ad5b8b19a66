"""Fixtures of the API suite: the populated template (once per session) and a fresh app
over a copy of it per test come from tests/apifixtures.py (shared with the page and
client suites)."""
