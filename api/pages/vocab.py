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

import re
from collections.abc import Callable, Mapping

from ledger.core.reasons import REASONS

__all__ = ["DETAILS", "LABELS", "N_", "extra_messages", "labeller", "translate_detail"]


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
        "meter-reading": N_("Meter readings"),
        "metadata-template": N_("Metadata template"),
        "industry-benchmark": N_("Industry benchmark"),
        "efficiency-grading-rule": N_("Efficiency grading rule"),
        "carbon-efficiency": N_("Carbon-efficiency evaluation"),
    },
    "state": {
        "pending": N_("Pending"),
        "batched": N_("In a batch, not yet anchored"),
        "anchored": N_("Anchored on-chain"),
        "revoked": N_("Revoked"),
        "superseded": N_("Superseded"),
    },
    "batch-state": {
        "sealed": N_("Sealed, waiting for anchoring"),
        "anchoring": N_("Being anchored"),
        "anchored": N_("Anchored on-chain"),
        "failed": N_("Anchoring failed (will be retried)"),
        "disputed": N_("Disputed: the chain disagrees"),
    },
    "tx-state": {
        "pending": N_("Pending"),
        "signed": N_("Signed"),
        "broadcast": N_("Sent, not yet mined"),
        "mined": N_("Mined"),
        "replaced": N_("Replaced"),
        "reverted": N_("Reverted"),
        "failed": N_("Failed"),
    },
    "audit-event": {
        "key_issued": N_("API key issued"),
        "key_requested": N_("API key requested (first of two persons)"),
        "key_confirmed": N_("API key confirmed (second person)"),
        "key_request_cancelled": N_("API key request cancelled"),
        "key_revoked": N_("API key revoked"),
        "session_ended": N_("Session ended"),
        "privileged_read": N_("Records read in full"),
    },
    "basis": {
        "public": N_("Public view"),
        "role:regulator": N_("Standing as regulator"),
        "auditor-grant": N_("Auditor's grant"),
        "own-records": N_("Own records"),
        "own-enterprise": N_("Own enterprise's data"),
    },
    "read-channel": {
        "api": N_("API"),
        "page": N_("Pages"),
        "bundle": N_("Evidence bundle"),
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
    "carbon-level": {
        "low": N_("Low carbon"),
        "medium": N_("Medium carbon"),
        "high": N_("High carbon"),
    },
    # The energy sources of a carbon-efficiency evaluation (the templates' field keys).
    "source": {
        "electricity_import": N_("Grid electricity"),
        "natural_gas": N_("Natural gas"),
        "pv_generation": N_("Own photovoltaic power"),
    },
    "read": {
        "record": N_("Record"),
        "bundle": N_("Evidence bundle"),
        "enterprise": N_("Enterprise page"),
        "equipment": N_("Equipment page"),
    },
    # Risk assessments (docs/CALC.md §11.2, §11.4).
    "level_basis": {
        "above-access-threshold": N_("above the access threshold"),
        "required-data-late": N_("required data cannot be supplied before the deadline"),
        "no-baseline": N_("no baseline: level not assessable"),
        "at-or-below-baseline": N_("at or below the regional baseline"),
        "within-yellow-band": N_("10 % or more above the baseline"),
        "burden-above-acceptable": N_("tariff burden above the acceptable burden"),
        "below-yellow-band": N_("less than 10 % above the baseline"),
    },
    "finding": {
        "required-data-missing": N_("Required data missing"),
        "restricted-chemical": N_("Restricted chemical"),
        "gas-not-covered": N_("Gas the region does not cover"),
        "no-baseline": N_("No baseline for the CN code"),
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


#: The details of refused input the pages show (our own messages, in English in the code),
#: as a pattern of the English text and its msgid with the same named placeholders. A
#: detail no pattern matches is shown as it is.
DETAILS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), msgid)
    for pattern, msgid in (
        (r"the query parameter '(?P<name>[^']{1,64})' is required",
         N_("the query parameter %(name)s is required")),
        (r"at most (?P<n>\d+) characters", N_("at most %(n)s characters")),
        (r"expected a whole number", N_("expected a whole number")),
        (r"out of range \((?P<low>\d+)\.\.(?P<high>\d+)\)",
         N_("out of range (%(low)s to %(high)s)")),
        (r"expected one of (?P<values>.{1,400})", N_("expected one of %(values)s")),
        (r"page must be within 1\.\.(?P<n>\d+)", N_("the page number must be 1 to %(n)s")),
        (r"type a name, an identifier, a record id or a hash",
         N_("type a name, an identifier, a record id or a hash")),
        (r"a transaction hash is 0x and 64 hex digits; this has (?P<n>\d+) characters after 0x",
         N_("a transaction hash is 0x and 64 hex digits; this has %(n)s characters after 0x")),
        (r"a transaction hash is 0x and 64 hex digits; this has (?P<n>\d+) characters after "
         r"0x, not all hex digits",
         N_("a transaction hash is 0x and 64 hex digits; this has %(n)s characters after 0x, "
            "not all hex digits")),
        (r"a SHA-256 digest has 64 hex digits; this has (?P<n>\d+)",
         N_("a SHA-256 digest has 64 hex digits; this has %(n)s")),
        (r"this field is required", N_("this field is required")),
        (r"a whole number of days", N_("a whole number of days")),
        (r"approve or refuse", N_("approve or refuse")),
        (r"the form was posted from another site", N_("the form was posted from another site")),
        (r"expected a form \(application/x-www-form-urlencoded\)",
         N_("expected a form (application/x-www-form-urlencoded)")),
        (r"the form exceeds (?P<n>\d+) bytes", N_("the form exceeds %(n)s bytes")),
        (r"the form is not readable", N_("the form is not readable")),
        (r"the form's security token is missing or stale: reload the page and retry",
         N_("the form's security token is missing or stale: reload the page and retry")),
    )
)  # fmt: skip


def translate_detail(message: str, gettext: Callable[[str], str]) -> str:
    """``message`` (one of our own details) in the reader's words, when it is one the
    catalogue knows; as it is otherwise."""
    for pattern, msgid in DETAILS:
        found = pattern.fullmatch(message)
        if found is not None:
            return gettext(msgid) % found.groupdict()
    return message
