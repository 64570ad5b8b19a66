"""The API's request models name exactly the record types the core validates."""

from __future__ import annotations

from typing import get_args

from api.routes.schemas import RecordType
from ledger.core.records import RECORD_TYPES


def test_the_record_type_literal_lists_every_record_type() -> None:
    assert sorted(get_args(RecordType)) == sorted(RECORD_TYPES)
