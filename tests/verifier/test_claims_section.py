"""The claims section of carbon-verify (docs/VERIFY.md §7) on hand-made bundle entries:
claims listed per unit, hidden fields shown as hidden, and two claims of one unit in
excluding regimes flagged as a conflict (the attack: a ledger, or two ledgers, letting the
same unit be declared twice)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from verifier.claims import claims_section

pytestmark = pytest.mark.verifier_dist

UNIT = "88.118.8/ST-TK-0101"


@dataclass
class _Entry:
    raw: dict[str, object]
    record_id: str | None

    @property
    def record_type(self) -> str | None:
        value = self.raw.get("type")
        return value if isinstance(value, str) else None


def _claim(rid: str, regime: str, *, declarant: bool = True) -> _Entry:
    body: dict[str, object] = {
        "regime": regime,
        "year": 2026,
        "source": {"id": "urn:x:source", "digest": "00" * 32},
    }
    if declarant:
        body["declarant"] = {"id": "urn:x:importer", "name": "Importer"}
    return _Entry({"type": "claim", "subject": UNIT, "id": rid, "body": body}, rid)


def test_claims_are_listed_per_unit_with_hidden_fields_marked() -> None:
    record = _Entry({"type": "carbon-record", "subject": UNIT, "body": {}}, "urn:x:cr")
    other = _Entry({"type": "carbon-record", "subject": "88.118.8/TI-HX-0042"}, "urn:x:hx")
    section = claims_section([record, other, _claim("urn:x:c1", "EU-CBAM", declarant=False)])
    assert section[0]["unit"] == UNIT
    assert section[0]["claims"] == [
        {
            "record_id": "urn:x:c1",
            "regime": "EU-CBAM",
            "year": 2026,
            "source": "urn:x:source",
            "declarant": "(hidden)",
        }
    ]
    assert section[1] == {"unit": "88.118.8/TI-HX-0042", "claims": [], "conflicts": []}


def test_double_declaration_in_excluding_regimes_is_a_conflict() -> None:
    section = claims_section(
        [
            _claim("urn:x:c1", "EU-CBAM"),
            _claim("urn:x:c2", "UK-CBAM"),
            _claim("urn:x:c3", "GHGP-SCOPE3"),
        ]
    )
    assert section[0]["conflicts"] == [
        f"urn:x:c2 (UK-CBAM) and urn:x:c1 (EU-CBAM) both claim {UNIT} in group border-levy"
    ]
