"""The calculators' response bodies, published in /api/v1/openapi.json: ``POST /dose-check`` and ``/codes``.

They describe `DoseCheckResult.as_dict` and `CodesResult.as_dict` field for field, in their
key order, so validating an answer against them changes nothing in the JSON (the operations
declare ``exclude_unset=True``: keys `as_dict` leaves out stay out). Numbers are the rounded
display values; the decisions were made on the unrounded ones.
"""

from __future__ import annotations

from pydantic import BaseModel

from triggerpoint.core.rule_schemas import RuleFindingOut, RuleRefOut


class DoseItemOut(BaseModel):
    """One drug of the session: its total against its maximum."""

    drug: str
    drug_class: str
    with_epinephrine: bool
    volume_ml: float | None
    total_mg: float | None
    total_units: float | None
    max_mg: float | None
    fraction_of_max: float | None
    max_basis: str
    units: str
    max_units: float | None
    triamcinolone_equivalent_mg: float | None


class LastToxinDoseOut(BaseModel):
    """The patient's latest botulinum toxin dose before this session."""

    date: str
    drug: str
    units: float | None


class DoseCheckOut(BaseModel):
    """The dose check: per-drug totals and maxima, the combined local-anaesthetic fraction, the findings.

    The four exposure fields (steroid, magnesium, toxin history) are present when the check ran
    with the patient's exposure, absent otherwise.
    """

    ok: bool
    blocks_signing: bool
    items: list[DoseItemOut]
    combined_local_anesthetic_fraction: float | None
    weight_kg: float | None
    weight_measured_on: str | None
    corticosteroid_totals_mg: dict[str, float | None]
    botulinum_toxin_totals_units: dict[str, float | None]
    triamcinolone_equivalent_mg: float | None = None
    steroid_12_month_triamcinolone_equivalent_mg: float | None = None
    magnesium_total_mg: float | None = None
    last_toxin_dose: LastToxinDoseOut | None = None
    findings: list[RuleFindingOut]
    rules: list[RuleRefOut]


class CptLineOut(BaseModel):
    """A CPT line with the muscles it counts and the rule that chose it."""

    code: str
    units: int
    modifiers: list[str]
    description: str
    muscle_count: int
    muscles: list[str]
    rule: str
    version: int
    basis: str


class HcpcsLineOut(BaseModel):
    """A HCPCS drug line: billed units for the dose given, with the NDC when recorded."""

    code: str
    units: int
    modifiers: list[str]
    ndc: str | None
    drug: str
    dose: float
    dose_unit: str
    billed_dose: float
    description: str
    rule: str
    version: int
    basis: str


class CodesOut(BaseModel):
    """The session's codes: CPT and HCPCS lines, the payer's warnings, the regions treated."""

    cpt: list[CptLineOut]
    hcpcs: list[HcpcsLineOut]
    warnings: list[RuleFindingOut]
    service_date: str
    payer: str | None
    body_regions: list[str]
