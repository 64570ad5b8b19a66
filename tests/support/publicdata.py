"""Figures that rest on public data alone: a carbon record quoting only official and
illustrative factor sets (no supplier's declared values) and its UK conversion. The
public sees both in full (docs/RECORDS.md §4), so anyone can recompute them.

Built with the examples' own helpers, on the examples' reference data (their digests are
passed in, as ``ledger.examples.example_records`` passes them)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ledger import examples
from ledger.examples import equipment as eq
from ledger.examples import factors as ref
from ledger.examples import rules
from ledger.examples.builder import activity_line, quote_factor

HANDLE = "88.118.8/ST-TK-0303"
IFC = "1Qd5f8Wq3Bv9Kx2Lm7Np0R"
CR_PUBLIC = "urn:carbonledger:carbon-record:st-tk-0303-2025-v1"
SUB_PUBLIC_UK = "urn:carbonledger:factor-substitution:st-tk-0303-uk-desnz-2025"


def public_carbon_record(digests: Mapping[str, str]) -> dict[str, Any]:
    """A bare steel tank, manufacturing to end of life, on IPCC, Chinese grid and
    illustrative logistics factors only."""
    ipcc, cn, ill = (
        ref.ipcc_2006_factor_set(),
        ref.cn_mee_2023_factor_set(),
        ref.illustrative_factor_set(),
    )
    mst = "manufacturing_surface_treatment"
    lines = [
        activity_line(
            "P01", mst, "Natural gas: forming and heat treatment", "stationary_combustion",
            "direct", "40.5", "GJ", quote_factor(ipcc, "ng-default", digests),
        ),
        activity_line(
            "P02", mst, "Electricity: cutting and welding", "purchased_electricity",
            "indirect", "9120", "kWh", quote_factor(cn, "cn-2023-national", digests),
        ),
        activity_line(
            "P03", "transport", "Road haulage to the port, 420 km", "freight",
            "out_of_scope", "2520", "t.km", quote_factor(ill, "road-hgv-cn", digests),
        ),
        activity_line(
            "P04", "end_of_life", "Dismantling for recycling", "waste_treatment",
            "out_of_scope", "6.0", "t", quote_factor(ill, "steel-dismantling", digests),
        ),
    ]  # fmt: skip
    return eq.carbon_record(
        CR_PUBLIC,
        HANDLE,
        IFC,
        "Bare steel storage tank T-303, 20 m3",
        "7309",
        "6000",
        [mst, "transport", "end_of_life"],
        lines,
        [],
        "2026-02-10T08:00:00Z",
    )


def public_records(
    digests: dict[str, str], digest_of: Callable[[dict[str, Any]], str]
) -> dict[str, dict[str, Any]]:
    """The carbon record and its UK (DESNZ 2025) conversion, in dependency order.
    ``digests`` holds the examples' reference data; ``digest_of`` is called on each new
    record (a caller that submits inside it cites the real digests) and its answer added."""
    carbon = public_carbon_record(digests)
    digests[CR_PUBLIC] = digest_of(carbon)
    conversion = examples.substitution_record(
        SUB_PUBLIC_UK,
        "2026-02-11T09:00:00Z",
        carbon,
        rules.uk_rule(digests),
        [ref.desnz_2025_factor_set()],
        digests,
    )
    digests[SUB_PUBLIC_UK] = digest_of(conversion)
    return {CR_PUBLIC: carbon, SUB_PUBLIC_UK: conversion}
