"""Closed vocabularies of record bodies (docs/RECORDS.md §3).

Adding a value is a schema change: readers that do not know it reject it.
"""

from __future__ import annotations

from ledger.core import identifiers

# Lifecycle stages of anti-corrosion equipment, cradle to grave. Mapping to the
# GHG Protocol Product Standard stages and EN 15804 modules is in docs/RECORDS.md.
STAGES = (
    "raw_material",
    "manufacturing_surface_treatment",
    "transport",
    "operation_maintenance",
    "end_of_life",
)

# CBAM channel of an activity line: direct (installation's attributed emissions),
# indirect (electricity consumed), precursor (embedded emissions of a precursor
# that is itself a CBAM good), out_of_scope (not counted by CBAM at all).
CHANNELS = ("direct", "indirect", "precursor", "out_of_scope")

EMISSION_CLASSES = (
    "stationary_combustion",
    "mobile_combustion",
    "process",
    "purchased_electricity",
    "purchased_heat",
    "purchased_material",
    "freight",
    "waste_treatment",
    "other",
)

DATA_TYPES = ("primary", "secondary")

IDENTIFIER_SCHEMES = (
    "handle",
    "oid",
    "ecode",
    "ifc_globalid",
    "gs1_giai",
    "gs1_sgtin",
    "internal",
)
# The schemes that may name a record's subject (docs/RECORDS.md §1.1, §1.4).
SUBJECT_SCHEMES = identifiers.SCHEMES

DECLARED_UNITS = ("piece", "kg", "t", "m2")

STANDARDS = (
    "ISO14067",
    "ISO14064-1",
    "ISO14040-44",
    "GHGP-Product",
    "PACT-3.0",
    "EU-CBAM",
    "EN15804",
    "PAS2050",
)

LIFECYCLE_EVENTS = (
    "design",
    "manufacture",
    "anti_corrosion_treatment",
    "transport",
    "installation",
    "inspection",
    "maintenance",
    "scrapping",
)

FACTOR_STATUSES = ("official", "supplier-declared", "illustrative")
PROVENANCES = ("primary", "secondary", "supplier", "none")

ROUNDING_MODES = ("ROUND_HALF_EVEN", "ROUND_HALF_UP", "ROUND_DOWN", "ROUND_UP")
OUTPUT_UNITS = ("kgCO2e", "tCO2e", "kgCO2e/t", "tCO2e/t")

GRADES = ("AAA", "AA", "A", "B", "C")

# The five dimensions of the low-carbon credit system (product-defined scheme).
RATING_DIMENSIONS = (
    "lifecycle_anticorrosion_compliance",
    "dynamic_carbon_governance",
    "green_anticorrosion_materials",
    "low_carbon_technical_investment",
    "industrial_social_responsibility",
)

SUPERSESSION_REASONS = (
    "correction",
    "maintenance-cycle-shortened",
    "maintenance-cycle-extended",
    "factor-update",
    "reclassification",
    "periodic-review",
)

REF_RELS = (
    "source",
    "factor-set",
    "rule",
    "supersedes",
    "archive",
    "carbon-record",
    "template",
    "benchmark",
    "meter-reading",
    # The rating in force before a credit change (credit-change schema 2 only).
    "previous",
)

# Why a factor set is used outside its validity period (schema 2 of carbon-record and
# factor-substitution, docs/RECORDS.md §3.8).
VALIDITY_EXCEPTION_CODES = ("latest-published", "prescribed", "other")

SUBSTITUTION_ACTIONS = ("keep", "drop", "substitute")
DROP_REASONS = ("stage-excluded", "channel-excluded")
DIFFERENCE_KINDS = (
    "stage-removed",
    "stage-not-in-source",
    "channel-removed",
    "factor-replaced",
    "gwp-changed",
    "gwp-not-recharacterised",
)
# Schema version 3 of a factor substitution adds the boundary adaptation's rows.
DIFFERENCE_KINDS_BOUNDARY = (*DIFFERENCE_KINDS, "stage-added", "stage-allocated")
# How a shared stage is allocated to one product (docs/CALC.md §6.1).
ALLOCATION_KEYS = ("mass",)

# Risk levels of a pre-assessment (docs/CALC.md §11.4) and why a level was given, in
# the order a basis lists them.
RISK_LEVELS = ("none", "blue", "yellow", "red", "not-assessable")
RISK_BASES = (
    "above-access-threshold",
    "required-data-late",
    "at-or-below-baseline",
    "below-yellow-band",
    "within-yellow-band",
    "burden-above-acceptable",
    "no-baseline",
)
