"""The words of the ledger's codes, as a reader sees them: record types, states, reason
codes, difference kinds, rating dimensions, risk levels, lifecycle stages and events
(docs/PAGES.md §2).

Each label is an English gettext msgid, marked with ``N_`` so that ``scripts/messages``
extracts it; the page translates it through the reader's catalogue (``api.pages.i18n``).
A code without a label (a value a newer producer wrote) is shown as the code itself,
never dropped. The revocation reasons keep their one source, ``ledger.core.reasons``: their
English text is the msgid, and the Chinese catalogue must give their Chinese text
(tests/pages/test_i18n.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from ledger.core.reasons import REASONS

__all__ = ["LABELS", "N_", "extra_messages", "labeller"]


def N_(message: str) -> str:  # noqa: N802 (the gettext convention for a deferred msgid)
    """Marks ``message`` for extraction; translated where it is shown."""
    return message


LABELS: dict[str, dict[str, str]] = {
    "type": {
        "carbon-record": N_("Carbon footprint"),
        "bim-archive": N_("BIM archive entry"),
        "factor-substitution": N_("Regional conversion"),
        "credit-change": N_("Credit rating change"),
        "factor-set": N_("Emission factor set"),
        "region-rule": N_("Region rule"),
        "rating-rule": N_("Rating rule"),
        "risk-assessment": N_("Export risk assessment"),
        "equivalence-declaration": N_("Equivalence declaration"),
        "claim": N_("Claim"),
    },
    "state": {
        "pending": N_("Pending"),
        "batched": N_("In a batch, not yet anchored"),
        "anchored": N_("Anchored on-chain"),
        "revoked": N_("Revoked"),
        "superseded": N_("Superseded"),
    },
    "difference": {
        "stage-removed": N_("Stage removed"),
        "stage-not-in-source": N_("Stage added (not in the source)"),
        "channel-removed": N_("Emission channel removed"),
        "factor-replaced": N_("Factor replaced"),
        "gwp-changed": N_("GWP set changed"),
        "gwp-not-recharacterised": N_("GWP not recharacterised"),
    },
    "dimension": {
        "lifecycle_anticorrosion_compliance": N_("Whole-lifecycle anti-corrosion compliance"),
        "dynamic_carbon_governance": N_("Dynamic carbon governance"),
        "green_anticorrosion_materials": N_("Green anti-corrosion materials"),
        "low_carbon_technical_investment": N_("Low-carbon technical investment"),
        "industrial_social_responsibility": N_("Industrial social responsibility"),
    },
    "risk": {
        "none": N_("No risk (at or below the baseline)"),
        "blue": N_("Blue: general reminder"),
        "yellow": N_("Yellow: abnormal"),
        "red": N_("Red: high risk, exports locked"),
        "not-assessable": N_("Not assessable (no baseline)"),
    },
    "stage": {
        "raw_material": N_("Raw materials"),
        "manufacturing_surface_treatment": N_("Manufacturing and anti-corrosion treatment"),
        "transport": N_("Transport"),
        "operation_maintenance": N_("Operation and maintenance"),
        "end_of_life": N_("End of life and recycling"),
    },
    "channel": {
        "direct": N_("Direct emissions"),
        "indirect": N_("Indirect emissions (electricity)"),
        "precursor": N_("Precursors"),
        "out_of_scope": N_("Outside the CBAM scope"),
    },
    "event": {
        "design": N_("Design"),
        "manufacture": N_("Manufacture"),
        "anti_corrosion_treatment": N_("Anti-corrosion treatment"),
        "transport": N_("Transport"),
        "installation": N_("Installation"),
        "inspection": N_("Inspection"),
        "maintenance": N_("Maintenance"),
        "scrapping": N_("Scrapping"),
    },
    "rating-reason": {
        "initial-rating": N_("Initial rating"),
        "periodic-review": N_("Periodic review"),
        "rectification-completed": N_("Rectification completed"),
        "violation-found": N_("Violation found"),
        "data-correction": N_("Data correction"),
    },
    "supersession": {
        "correction": N_("Correction"),
        "maintenance-cycle-shortened": N_("Maintenance cycle shortened"),
        "maintenance-cycle-extended": N_("Maintenance cycle extended"),
        "factor-update": N_("Factor update"),
        "reclassification": N_("Reclassification"),
        "periodic-review": N_("Periodic review"),
    },
    "verdict": {
        "conforms": N_("Conforms"),
        "conforms-with-findings": N_("Conforms, with findings"),
        "does-not-conform": N_("Does not conform"),
    },
    "action": {
        "keep": N_("Kept"),
        "drop": N_("Dropped"),
        "substitute": N_("Factor substituted"),
    },
    "warning": {
        "listed": N_("On the warning list"),
        "overdue": N_("Rectification overdue"),
        "rectified": N_("Rectified"),
    },
    "request-state": {
        "pending": N_("Waiting for a decision"),
        "approved": N_("Granted"),
        "refused": N_("Refused"),
        "expired": N_("Expired"),
        "revoked": N_("Revoked"),
        "withdrawn": N_("Withdrawn"),
    },
    "scope": {
        "ratings": N_("Credit ratings in full (dimension scores, reasons)"),
        "carbon": N_("Equipment records in full (footprints, conversions, archives)"),
        "all": N_("Everything about the enterprise in full"),
    },
    "role": {
        "anonymous": N_("Public"),
        "producer": N_("Producer"),
        "auditor": N_("Auditor"),
        "regulator": N_("Regulator"),
        "admin": N_("Administrator"),
        "enterprise": N_("Enterprise"),
        "bidder": N_("Bidder"),
        "financial-institution": N_("Financial institution"),
    },
    "read": {
        "record": N_("Record"),
        "bundle": N_("Evidence bundle"),
        "enterprise": N_("Enterprise page"),
        "equipment": N_("Equipment page"),
    },
}

#: Revocation reason code -> the English text of ``ledger.core.reasons`` (the msgid).
REVOCATION_REASONS: Mapping[int, str] = {r.code: r.en for r in REASONS}


def extra_messages() -> list[str]:
    """Msgids no extractor sees: the revocation reasons' English texts."""
    return [r.en for r in REASONS]


def labeller(gettext: Callable[[str], str]) -> Callable[[str, object], str]:
    """``label(kind, code)``: the translated word for ``code`` of vocabulary ``kind``; the
    code itself when the vocabulary has no word for it."""

    def label(kind: str, code: object) -> str:
        if kind == "revocation":
            text = REVOCATION_REASONS.get(code) if isinstance(code, int) else None
            return gettext(text) if text else str(code)
        word = LABELS.get(kind, {}).get(str(code))
        return gettext(word) if word else str(code)

    return label
