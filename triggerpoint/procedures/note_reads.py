"""Reading a procedure note: as the editor/API document, with the checks shown while it is written.

`note_document` is the inverse of `drafting.autosave_draft`; `live_checks` runs the dose check and
the coder on a (possibly unsaved) document; `view_procedure` records a read. The clinical
decisions are the pure modules: `draft` (what the note says and what was given), `dosing` (is it
within the maximum) and `coding` (which codes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from triggerpoint.atlas.catalog import load_atlas
from triggerpoint.audit import services as audit
from triggerpoint.catalogues.drugs import load_drugs
from triggerpoint.core.rules import RuleInputError
from triggerpoint.patients.selectors import surviving_chart
from triggerpoint.procedures import coding, dosing, selectors
from triggerpoint.procedures.draft import (
    NoteDocument,
    codes_input,
    dose_check_input,
    dose_problems,
    parse_note,
)
from triggerpoint.procedures.models import Injectate, Procedure

# The dose check of a stored note needs a dated weight (a calculator may take "today").
NOTE_DOSING_POLICY = dosing.DosingPolicy(require_weight_date=True)


def clinic_today(clinic) -> date:
    """The date at the clinic (procedure dates are the clinic's local days, not UTC days)."""
    return clinic.today()


def note_document(procedure: Procedure) -> dict[str, Any]:
    """The stored note as the editor/API document (the inverse of `drafting.autosave_draft`)."""
    sites = list(procedure.sites.all())
    injectates = list(procedure.injectates.all())
    by_site: dict[int, list[Injectate]] = {}
    for row in injectates:
        if row.site_id is not None:
            by_site.setdefault(row.site_id, []).append(row)
    return {
        "version": procedure.version,
        "procedure_date": procedure.procedure_date.isoformat() if procedure.procedure_date else None,
        "guidance": procedure.guidance,
        "pre_nrs": procedure.pre_nrs,
        "post_nrs": procedure.post_nrs,
        "observation_minutes": procedure.observation_minutes,
        "complications": list(procedure.complications or []),
        "complication_notes": procedure.complication_notes,
        "discharge_condition": procedure.discharge_condition,
        "notes": procedure.notes,
        "payer": procedure.payer,
        "diagnosis_codes": list(procedure.diagnosis_codes or []),
        "timeout_performed": procedure.timeout_performed,
        "timeout_time": procedure.timeout_time.strftime("%H:%M") if procedure.timeout_time else None,
        "site_marked": procedure.site_marked,
        "skin_prep_agent": procedure.skin_prep_agent,
        "sterile_technique": procedure.sterile_technique,
        "mix": [dict(_dose_dict(row), ml_per_site=_num(row.ml_per_site)) for row in injectates if row.site_id is None],
        "sites": [
            {
                "muscle": site.muscle,
                "side": site.side,
                "trigger_point": site.trigger_point,
                "technique": site.technique,
                "insertions": site.insertions,
                "needle_gauge": site.needle_gauge,
                "needle_length_mm": site.needle_length_mm,
                "local_twitch": site.local_twitch,
                "immediate_response": site.immediate_response,
                "uses_shared_mix": site.uses_shared_mix,
                "mix_volume_ml": _num(site.mix_volume_ml),
                "injectates": [
                    dict(_dose_dict(row), volume_ml=_num(row.volume_ml)) for row in by_site.get(site.pk, [])
                ],
            }
            for site in sites
        ],
    }


def _num(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _dose_dict(row: Injectate) -> dict[str, Any]:
    return {
        "drug": row.drug,
        "concentration_percent": _num(row.concentration_percent),
        "concentration_mg_per_ml": _num(row.concentration_mg_per_ml),
        "concentration_units_per_ml": _num(row.concentration_units_per_ml),
        "with_epinephrine": row.with_epinephrine,
        "lot_number": row.lot_number,
        "expiry": row.expiry.isoformat() if row.expiry else None,
        "ndc": row.ndc,
        "single_dose_vial": row.single_dose_vial,
        "discarded": _num(row.discarded),
    }


def parse_document(payload: Any) -> NoteDocument:
    tables = coding.load_code_tables()
    return parse_note(payload, atlas=load_atlas(), drugs=load_drugs(), payers=frozenset(tables.payers))


@dataclass(frozen=True)
class LiveChecks:
    """What the editor shows next to the note: the dose check and the codes (or what is missing)."""

    dose: dosing.DoseCheckResult | None
    dose_missing: tuple[str, ...]
    codes: coding.CodesResult | None
    codes_problems: tuple[str, ...]
    diagnosis_problems: tuple[str, ...] = ()

    @property
    def repeat_findings(self) -> tuple:
        """The payer's same-region interval and 12-month count findings (they stop signing until overridden)."""
        if self.codes is None:
            return ()
        return tuple(w for w in self.codes.warnings if w.rule in coding.REPEAT_RULE_IDS)

    def as_dict(self) -> dict[str, Any]:
        return {
            "dose_check": self.dose.as_dict() if self.dose else None,
            "dose_missing": list(self.dose_missing),
            "codes": self.codes.as_dict() if self.codes else None,
            "codes_problems": list(self.codes_problems),
            "diagnosis_problems": list(self.diagnosis_problems),
            "repeat_findings": [finding.as_dict() for finding in self.repeat_findings],
        }


def live_checks(
    patient,
    note: NoteDocument,
    *,
    service_date: date | None = None,
    history=None,
    dose_history: tuple = (),
) -> LiveChecks:
    """Run the dose check and the coder on a (possibly unsaved) note document. Pure apart from reading the patient.

    `history` is the payer-rule session history, `dose_history` the doses of the patient's
    other signed notes (`selectors.prior_doses`); both are read by the caller.
    """
    # The person's weight: a note written on a chart since merged into another doses by the survivor's chart.
    patient = surviving_chart(patient)
    on = note.procedure_date or service_date or clinic_today(patient.clinic)
    missing = tuple(dose_problems(note))
    dose = None
    if note.sites or note.mix:
        inp = dose_check_input(note, patient.weight_kg, patient.weight_measured_on)
        # A note written up after the patient was weighed again: that weight is no older than the
        # procedure, so its age counts from the later of the two dates.
        measured = patient.weight_measured_on
        check_date = measured if measured is not None and measured > on else on
        if inp.injectates:
            dose = dosing.check_doses(
                inp, today=check_date, policy=NOTE_DOSING_POLICY, history=dose_history, procedure_date=on
            )
    codes = None
    codes_problems: tuple[str, ...] = ()
    if note.sites:
        try:
            codes = coding.code_session(codes_input(note, service_date=on, history=history), today=on)
        except RuleInputError as error:
            codes_problems = tuple(error.problems)
        except KeyError as error:  # a code table without a row for the date
            codes_problems = (f"no code table entry: {error}",)
    else:
        codes_problems = ("add a treated site to see the codes",)
    diagnosis_problems = tuple(coding.diagnosis_problems(note.diagnosis_codes, on))
    return LiveChecks(
        dose=dose,
        dose_missing=missing,
        codes=codes,
        codes_problems=codes_problems,
        diagnosis_problems=diagnosis_problems,
    )


def session_history(procedure: Procedure, note: NoteDocument) -> coding.SessionHistory:
    """The payer-rule history from this patient's earlier signed notes (12 months before the service date)."""
    on = note.procedure_date or procedure.procedure_date
    atlas = load_atlas()
    regions = {
        atlas.muscle(site.muscle).body_region for site in note.sites if site.technique == "injection"
    }
    return selectors.session_history(procedure.patient, on, regions, exclude_pk=procedure.pk)


def checks_for(procedure: Procedure) -> LiveChecks:
    """The checks of a stored note: the snapshot taken at signing, or a live run for a draft."""
    note = parse_document(note_document(procedure))
    return live_checks(
        procedure.patient,
        note,
        history=session_history(procedure, note),
        dose_history=prior_dose_history(procedure, note),
    )


def prior_dose_history(procedure: Procedure, note: NoteDocument) -> tuple:
    """The doses of the patient's other signed notes, for the cumulative dose check of this one."""
    on = note.procedure_date or procedure.procedure_date
    return selectors.prior_doses(procedure.patient, on, exclude_pk=procedure.pk)


def view_procedure(user, procedure: Procedure, *, channel: str = "ui") -> Procedure:
    """Record one read of a procedure note."""
    audit.record("procedures.procedure.viewed", obj=procedure, details={"channel": channel})
    return procedure
