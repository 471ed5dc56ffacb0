"""A signed note's claim lines, as a practice-management system imports them.

Pure: it reads the codes the physician signed (`Procedure.codes`, the `procedures/codes` result stored
at signing) and never recodes — what is billed is what was signed. One line per CPT or HCPCS code,
with units, modifiers, the NDC for drugs, the note's ICD-10-CM codes as the diagnosis pointers, and
the payer warnings the coder must look at before submitting. No clinical narrative: the note's free
text, complications and findings stay in the chart.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

# The CSV a practice-management system imports: one row per claim line.
CSV_COLUMNS = (
    "service_date", "mrn", "patient_family_name", "patient_given_name", "date_of_birth", "payer",
    "rendering_clinician", "note_id", "line", "code_type", "code", "modifiers", "units", "ndc",
    "drug", "billed_dose", "dose_unit", "icd10_codes", "description", "payer_warnings",
)


@dataclass(frozen=True)
class SignedNote:
    """What billing needs from a signed note (read through `procedures.selectors`)."""

    note_id: str
    service_date: date
    mrn: str
    family_name: str
    given_name: str
    date_of_birth: date
    payer: str
    rendering_clinician: str
    diagnosis_codes: tuple[str, ...]
    codes: dict[str, Any] | None


@dataclass(frozen=True)
class ClaimLine:
    line: int
    code_type: str  # "CPT" or "HCPCS"
    code: str
    modifiers: tuple[str, ...]
    units: int
    description: str
    ndc: str = ""
    drug: str = ""
    billed_dose: str = ""
    dose_unit: str = ""


@dataclass(frozen=True)
class NoteClaim:
    note: SignedNote
    lines: tuple[ClaimLine, ...]
    warnings: tuple[str, ...]

    @property
    def problem(self) -> str:
        """Why the note cannot be billed as it stands ("" when it can)."""
        if not self.lines:
            return "No codes were stored when this note was signed; code it before billing."
        if not self.note.diagnosis_codes:
            return "No ICD-10-CM diagnosis on the note; a claim needs at least one."
        return ""

    def csv_rows(self) -> list[list[str]]:
        n = self.note
        rows = []
        for line in self.lines:
            rows.append([
                n.service_date.isoformat(), n.mrn, n.family_name, n.given_name, n.date_of_birth.isoformat(),
                n.payer, n.rendering_clinician, n.note_id, str(line.line), line.code_type, line.code,
                " ".join(line.modifiers), str(line.units), line.ndc, line.drug, line.billed_dose, line.dose_unit,
                " ".join(n.diagnosis_codes), line.description, " | ".join(self.warnings),
            ])
        return rows


def _dose(value: Any) -> str:
    if value is None or value == "":
        return ""
    text = f"{float(value):.3f}".rstrip("0").rstrip(".")
    return text or "0"


def claim_for(note: SignedNote) -> NoteClaim:
    """The claim lines of one signed note, CPT lines first, in the order they were coded."""
    codes = note.codes or {}
    lines: list[ClaimLine] = []
    for row in codes.get("cpt") or ():
        lines.append(ClaimLine(len(lines) + 1, "CPT", row["code"], tuple(row.get("modifiers") or ()),
                               int(row.get("units") or 1), row.get("description", "")))
    for row in codes.get("hcpcs") or ():
        lines.append(ClaimLine(
            len(lines) + 1, "HCPCS", row["code"], tuple(row.get("modifiers") or ()), int(row.get("units") or 0),
            row.get("description", ""), ndc=row.get("ndc") or "", drug=row.get("drug") or "",
            billed_dose=_dose(row.get("billed_dose")), dose_unit=row.get("dose_unit") or "",
        ))
    warnings = tuple(w.get("message", "") for w in codes.get("warnings") or () if w.get("message"))
    return NoteClaim(note, tuple(lines), warnings)
