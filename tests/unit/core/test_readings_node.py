"""Reading signatures made here verify with sm-crypto (and the message built there from the
content alone is the one signed here); docs/FORMAT.md §3.3."""

from __future__ import annotations

import pytest

from ledger.core.keys import ALG_SM2_SM3, public_key_of
from ledger.core.readings import reading_content, sign_reading
from ledger.examples.efficiency import terminals
from tests.js.reference import run_reference

pytestmark = pytest.mark.node


def test_signed_here_verified_by_sm_crypto() -> None:
    items, expected = [], []
    for terminal in terminals():
        public = public_key_of(terminal.key)
        if public.scheme != ALG_SM2_SM3 or public.distinguishing_id is None:
            continue
        body = {
            "metering_point": terminal.metering_point,
            "terminal": {"id": terminal.id},
            "field": terminal.field,
            "unit": terminal.unit,
        }
        for quantity in ("0", "182.5", "3.15", "1234567.891"):
            reading = {
                "start": "2026-01-01T00:00:00Z",
                "end": "2026-01-01T01:00:00Z",
                "quantity": quantity,
            }
            content = reading_content(body, reading)
            signature = sign_reading(terminal.key, content)
            item = {
                "content": content,
                "public_key": public.raw.hex(),
                "signature": signature,
                "user_id": public.distinguishing_id.decode("utf-8"),
            }
            items.append(item)
            expected.append(True)
            # The same signature over a quantity written otherwise must not verify there.
            items.append({**item, "content": {**content, "quantity": quantity + "0"}})
            expected.append(False)
    assert len(items) == 16
    assert run_reference({"op": "reading_verify", "items": items}) == expected
