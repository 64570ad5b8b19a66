"""The CBAM package as an XLSX workbook (docs/CBAM.md §4), laid out like the Commission's
communication template for installations: a summary sheet with the installation block, one
row per production route and the carbon price paid, then one sheet per consignment row,
the precursors, and the records every figure comes from.

The workbook only presents a computed package (``ledger.core.cbam``): no figure is
computed here. Figures are written as exact decimals (Excel reads them as numbers).
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

__all__ = ["ROUTE_HEADERS", "SUMMARY_SHEET", "XLSX_MEDIA_TYPE", "package_workbook"]

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SUMMARY_SHEET = "Summary_Communication"
ROUTE_HEADERS = (
    "Production process",
    "Aggregated goods category",
    "CN code",
    "Consignments",
    "Net mass (t)",
    "SEE (direct) tCO2e/t",
    "SEE (indirect) tCO2e/t",
    "SEE (total) tCO2e/t",
    "Embedded emissions, direct (tCO2e)",
    "Embedded emissions, indirect (tCO2e)",
)
CONSIGNMENT_HEADERS = (
    "Unit (serial number)",
    "Production process",
    "Conversion record",
    "Conversion digest",
    "Source record",
    "Source digest",
    "Net mass (t)",
    "SEE attributed direct (tCO2e/t)",
    "SEE precursors (tCO2e/t)",
    "SEE direct (tCO2e/t)",
    "SEE indirect (tCO2e/t)",
    "SEE total (tCO2e/t)",
    "Embedded emissions (tCO2e)",
    "Default values used",
    "Share of emissions by default value (%)",
    "Embedded electricity (MWh/t)",
    "Electricity EF",
    "Electricity EF unit",
    "Source for electricity EF",
    "Free-allocation adjustment (tCO2e)",
)
_BOLD = Font(bold=True)


def _number(value: str) -> Decimal:
    return Decimal(value)


def _header(ws: Worksheet, row: int, values: Sequence[str]) -> None:
    for col, value in enumerate(values, start=1):
        ws.cell(row=row, column=col, value=value).font = _BOLD


def _summary(ws: Worksheet, package: Mapping[str, Any]) -> None:
    request = package["request"]
    inst, op = request["installation"], request["operator"]
    rows: list[tuple[str, Any]] = [
        ("CBAM communication: installation operator to declarant", package["format"]),
        ("Installation name", inst["name"]),
        ("Installation identifier", inst["id"]),
        ("Country", inst["country"]),
        ("Address", inst.get("address", "")),
        ("UN/LOCODE", inst.get("unlocode", "")),
        ("Latitude", inst.get("latitude", "")),
        ("Longitude", inst.get("longitude", "")),
        ("Operator name", op["name"]),
        ("Operator identifier", op["id"]),
        ("Reporting period start", request["period"]["start"]),
        ("Reporting period end", request["period"]["end"]),
        ("CN code", request["cn_code"]),
        ("Total net mass (t)", _number(package["totals"]["net_mass_t"]["value"])),
        (
            "Total embedded emissions (tCO2e)",
            _number(package["totals"]["embedded_total_t"]["value"]),
        ),
    ]
    for r, (label, value) in enumerate(rows, start=1):
        ws.cell(row=r, column=1, value=label).font = _BOLD
        ws.cell(row=r, column=2, value=value)
    r = len(rows) + 2
    ws.cell(row=r, column=1, value="Summary of products").font = _BOLD
    _header(ws, r + 1, ROUTE_HEADERS)
    values: tuple[Any, ...]
    for i, route in enumerate(package["routes"], start=r + 2):
        values = (
            route["route"],
            "Iron or steel products",
            request["cn_code"],
            route["consignments"],
            _number(route["net_mass_t"]["value"]),
            _number(route["see_direct"]["value"]),
            _number(route["see_indirect"]["value"]),
            _number(route["see_total"]["value"]),
            _number(route["embedded_direct_t"]["value"]),
            _number(route["embedded_indirect_t"]["value"]),
        )
        for col, value in enumerate(values, start=1):
            ws.cell(row=i, column=col, value=value)
    r = r + 3 + len(package["routes"])
    ws.cell(row=r, column=1, value="Carbon price due at origin").font = _BOLD
    _header(
        ws, r + 1, ("Type of instrument", "Legal act", "Amount", "Currency", "Per tonne", "Rebate")
    )
    cp = request.get("carbon_price")
    if cp is not None:
        values = (
            cp["instrument"],
            cp["legal_act"],
            _number(cp["amount"]),
            cp["currency"],
            _number(cp["per_tonne"]) if "per_tonne" in cp else "",
            _number(cp["rebate"]) if "rebate" in cp else "",
        )
    else:
        values = ("none stated", "", "", "", "", "")
    for col, value in enumerate(values, start=1):
        ws.cell(row=r + 2, column=col, value=value)
    r += 4
    ws.cell(row=r, column=1, value="Free-allocation adjustment").font = _BOLD
    fa = request.get("free_allocation")
    _header(ws, r + 1, ("Benchmark (tCO2e/t)", "CBAM factor", "Legal basis", "Adjustment (tCO2e)"))
    if fa is not None:
        values = (
            _number(fa["benchmark"]),
            _number(fa["cbam_factor"]),
            fa["legal_ref"],
            _number(package["totals"]["free_allocation_adjustment_t"]["value"]),
        )
    else:
        values = ("none stated", "", "", "")
    for col, value in enumerate(values, start=1):
        ws.cell(row=r + 2, column=col, value=value)
    r += 4
    ws.cell(row=r, column=1, value="Attestation of conformance").font = _BOLD
    _header(ws, r + 1, ("Verifier", "Accreditation number", "Accreditation body", "Link"))
    at = request.get("attestation")
    values = (
        (at["verifier"], at["accreditation_number"], at["accreditation_body"], at["link"])
        if at is not None
        else ("none stated", "", "", "")
    )
    for col, value in enumerate(values, start=1):
        ws.cell(row=r + 2, column=col, value=value)


def _consignments(ws: Worksheet, package: Mapping[str, Any]) -> None:
    _header(ws, 1, CONSIGNMENT_HEADERS)
    for r, c in enumerate(package["consignments"], start=2):
        electricity = c["electricity"][0] if c["electricity"] else None
        values = (
            c["unit"],
            c["route"],
            c["conversion"]["id"],
            c["conversion"]["digest"],
            c["source"]["id"],
            c["source"]["digest"],
            _number(c["net_mass_t"]["value"]),
            _number(c["see_attributed_direct"]["value"]),
            _number(c["see_precursors"]["value"]),
            _number(c["see_direct"]["value"]),
            _number(c["see_indirect"]["value"]),
            _number(c["see_total"]["value"]),
            _number(c["embedded_total_t"]["value"]),
            "yes" if c["default_values"]["used"] else "no",
            _number(c["default_values"]["share_pct"]["value"]),
            _number(electricity["mwh_per_t"]["value"]) if electricity else "",
            _number(electricity["factor"]["value"]) if electricity else "",
            electricity["factor"]["unit"] if electricity else "",
            electricity["factor_source"]["set"] if electricity else "",
            _number(c["free_allocation_t"]["value"]) if "free_allocation_t" in c else "",
        )
        for col, value in enumerate(values, start=1):
            ws.cell(row=r, column=col, value=value)


def _precursors(ws: Worksheet, package: Mapping[str, Any]) -> None:
    _header(
        ws,
        1,
        (
            "Unit",
            "Line",
            "Process",
            "Quantity",
            "Unit of quantity",
            "SEE of precursor",
            "SEE unit",
            "Factor set",
            "Embedded (tCO2e)",
        ),
    )
    r = 2
    for c in package["consignments"]:
        for p in c["precursors"]:
            values = (
                c["unit"],
                p["line_id"],
                p["process"],
                _number(p["quantity"]["value"]),
                p["quantity"]["unit"],
                _number(p["see"]["value"]),
                p["see"]["unit"],
                p["see"]["set"],
                _number(p["embedded_t"]["value"]),
            )
            for col, value in enumerate(values, start=1):
                ws.cell(row=r, column=col, value=value)
            r += 1


def _sources(ws: Worksheet, package: Mapping[str, Any]) -> None:
    _header(ws, 1, ("Record", "Digest", "Role"))
    seen: dict[str, tuple[str, str]] = {}
    for c in package["consignments"]:
        seen.setdefault(c["conversion"]["id"], (c["conversion"]["digest"], "conversion"))
        seen.setdefault(c["source"]["id"], (c["source"]["digest"], "carbon record"))
    for r, (rid, (digest, role)) in enumerate(seen.items(), start=2):
        ws.cell(row=r, column=1, value=rid)
        ws.cell(row=r, column=2, value=digest)
        ws.cell(row=r, column=3, value=role)


def package_workbook(package: Mapping[str, Any]) -> bytes:
    """The XLSX bytes of a computed package."""
    wb = Workbook()
    summary = wb.worksheets[0]
    summary.title = SUMMARY_SHEET
    _summary(summary, package)
    _consignments(wb.create_sheet("Consignments"), package)
    _precursors(wb.create_sheet("Precursors"), package)
    _sources(wb.create_sheet("Sources"), package)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
