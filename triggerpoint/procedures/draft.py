"""What a procedure note implies: the amounts given, the inputs of the dose check and the coder, what signing needs.

The document itself is `note` (parsed from its JSON contract by `note_schema.parse_note`,
re-exported here). This module decides:

* how much of each drug was given: a shared-mix component's total is its
  volume per site times the number of sites that received the mix, scaled at a
  site whose mix volume was adjusted; per-site injectates add as written;
* the inputs of `dosing.check_doses` and `coding.code_session` for the document;
* what a note must have before it is signed.

Pure: no Django, no ORM. Catalogues are passed in (or loaded from the data files).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from triggerpoint.procedures.coding import CodesInput, CodingInjectate, SessionHistory, Site
from triggerpoint.procedures.dosing import DoseCheckInput, DoseInjectate
from triggerpoint.procedures.drugs import DrugCatalog, load_drugs
from triggerpoint.procedures.note import (
    HEADER_FIELDS,
    MASS_DOSED_CLASSES,
    SITE_MARKED,
    SKIN_PREP_AGENTS,
    STERILE_TECHNIQUES,
    UNIT_DOSED_CLASSES,
    YES_NO,
    Dose,
    NoteDocument,
)
from triggerpoint.procedures.note_schema import parse_note

__all__ = [
    "HEADER_FIELDS",
    "SITE_MARKED",
    "SKIN_PREP_AGENTS",
    "STERILE_TECHNIQUES",
    "YES_NO",
    "NoteDocument",
    "codes_input",
    "completeness_problems",
    "dose_check_input",
    "dose_problems",
    "given_doses",
    "parse_note",
]

# ---------------------------------------------------------------------------------------------
# Amounts given


@dataclass(frozen=True)
class GivenDose:
    """One injectate row as stored: a shared-mix total (site_index None) or one site's own."""

    dose: Dose
    volume_ml: Decimal | None
    site_index: int | None = None
    ml_per_site: Decimal | None = None
    sites_receiving: int = 0

    @property
    def dose_mg(self) -> Decimal | None:
        if self.dose.mg_per_ml is None or self.volume_ml is None:
            return None
        return self.dose.mg_per_ml * self.volume_ml

    @property
    def dose_units(self) -> Decimal | None:
        if self.dose.concentration_units_per_ml is None or self.volume_ml is None:
            return None
        return self.dose.concentration_units_per_ml * self.volume_ml


def given_doses(note: NoteDocument) -> list[GivenDose]:
    """Every injectate row of the note with its total volume.

    A shared-mix component's total is its mL per site at each site that received
    the mix, scaled where a site's mix volume was adjusted (2 mL of a 1 mL mix =
    twice each component).
    """
    standard = note.standard_mix_volume_ml
    receiving = [site for site in note.sites if site.receives_mix]
    rows: list[GivenDose] = []
    for component in note.mix:
        total: Decimal | None = None
        if component.ml_per_site is not None:
            total = Decimal(0)
            for site in receiving:
                scale = site.mix_volume_ml / standard if site.mix_volume_ml is not None and standard else Decimal(1)
                total += component.ml_per_site * scale
        rows.append(
            GivenDose(
                dose=component,
                volume_ml=total,
                ml_per_site=component.ml_per_site,
                sites_receiving=len(receiving),
            )
        )
    for index, site in enumerate(note.sites):
        for injectate in site.injectates:
            rows.append(GivenDose(dose=injectate, volume_ml=injectate.volume_ml, site_index=index))
    return rows


# ---------------------------------------------------------------------------------------------
# Inputs of the dose check and the coder


def dose_problems(note: NoteDocument, drugs: DrugCatalog | None = None) -> list[str]:
    """Why the given doses cannot be checked yet (missing concentration or volume)."""
    drugs = drugs or load_drugs()
    problems: list[str] = []
    for row in given_doses(note):
        drug = drugs.get(row.dose.drug)
        where = f"{drug.name} ({'shared mix' if row.site_index is None else _site_label(note, row.site_index)})"
        if row.site_index is None and row.ml_per_site is None:
            problems.append(f"{where}: enter the mL per site")
        elif row.volume_ml is None:
            problems.append(f"{where}: enter the volume")
        elif row.volume_ml == 0 and row.site_index is None:
            problems.append(f"{where}: no injected site receives the shared mix")
        if drug.drug_class in MASS_DOSED_CLASSES and row.dose.mg_per_ml is None:
            problems.append(f"{where}: enter the concentration (percent or mg/mL)")
        if drug.drug_class in UNIT_DOSED_CLASSES and row.dose.concentration_units_per_ml is None:
            problems.append(f"{where}: enter the concentration in units/mL")
    return problems


def _site_label(note: NoteDocument, index: int) -> str:
    site = note.sites[index]
    return f"{site.side} {site.muscle.replace('_', ' ')}"


def dose_check_input(
    note: NoteDocument, weight_kg: Decimal | None, weight_measured_on: date | None
) -> DoseCheckInput:
    """The dose check's input; call `dose_problems` first (rows without an amount are skipped)."""
    injectates = tuple(
        DoseInjectate(
            drug=row.dose.drug,
            volume_ml=row.volume_ml,
            concentration_mg_per_ml=row.dose.mg_per_ml,
            concentration_units_per_ml=row.dose.concentration_units_per_ml,
            with_epinephrine=row.dose.with_epinephrine,
        )
        for row in given_doses(note)
        if row.volume_ml
    )
    return DoseCheckInput(weight_kg=weight_kg, injectates=injectates, weight_measured_on=weight_measured_on)


def codes_input(
    note: NoteDocument,
    *,
    service_date: date | None,
    history: SessionHistory | None = None,
    drugs: DrugCatalog | None = None,
) -> CodesInput:
    """The coder's input: sites, guidance, drug doses (mg or units, by drug class) and diagnoses."""
    drugs = drugs or load_drugs()
    injectates: list[CodingInjectate] = []
    for row in given_doses(note):
        drug = drugs.get(row.dose.drug)
        vial = {"single_dose_vial": row.dose.single_dose_vial, "discarded": row.dose.discarded, "ndc": row.dose.ndc}
        if drug.drug_class in UNIT_DOSED_CLASSES:
            if row.dose_units:
                injectates.append(CodingInjectate(drug=drug.id, dose_units=row.dose_units, **vial))
        elif drug.drug_class == "corticosteroid":
            if row.dose_mg:
                injectates.append(CodingInjectate(drug=drug.id, dose_mg=row.dose_mg, **vial))
        elif row.volume_ml:
            injectates.append(CodingInjectate(drug=drug.id, dose_mg=row.dose_mg, **vial))
    return CodesInput(
        sites=tuple(
            Site(muscle=site.muscle, side=site.side, technique=site.technique, insertions=site.insertions)
            for site in note.sites
        ),
        guidance=note.guidance,
        injectates=tuple(injectates),
        payer=note.payer or None,
        diagnoses=note.diagnosis_codes,
        service_date=service_date,
        history=history or SessionHistory(),
    )


def completeness_problems(note: NoteDocument, drugs: DrugCatalog | None = None) -> list[str]:
    """What a note must have before it is signed, every item listed."""
    problems: list[str] = []
    if not note.sites:
        problems.append("add at least one treated site")
    if any(site.receives_mix for site in note.sites) and not note.mix and not any(
        site.injectates for site in note.sites
    ):
        problems.append("enter the injectate (the shared mix or a per-site injectate), or mark the sites as dry needling")
    if note.pre_nrs is None:
        problems.append("enter the pre-procedure pain score (NRS 0-10)")
    if note.post_nrs is None:
        problems.append("enter the post-procedure pain score (NRS 0-10)")
    if note.observation_minutes is None:
        problems.append("enter the observation time in minutes")
    if not note.discharge_condition:
        problems.append("enter the discharge condition")
    if "other" in note.complications and not note.complication_notes:
        problems.append("describe the 'other' complication")
    if not note.timeout_performed:
        problems.append("record whether the time-out was performed (Universal Protocol)")
    elif note.timeout_performed == "yes" and note.timeout_time is None:
        problems.append("enter the time the time-out was performed")
    elif note.timeout_performed == "no" and not note.notes:
        problems.append("the time-out was not performed: say why in the notes")
    if not note.site_marked:
        problems.append("record whether the site was marked")
    if not note.skin_prep_agent:
        problems.append("enter the skin preparation agent")
    elif note.skin_prep_agent == "other" and not note.notes:
        problems.append("name the 'other' skin preparation agent in the notes")
    if not note.sterile_technique:
        problems.append("enter the sterile technique used")
    problems.extend(dose_problems(note, drugs))
    return problems
