"""Changes to a draft procedure note: open it, autosave it (version-checked), discard it.

`create_draft` → `autosave_draft` (any number of times) → `signing.sign_procedure`.
`discard_draft` soft-deletes a draft. `locked_for_update` and `refuse_if_signed` are the
gate every change of a note passes (signing, images), so they live with the draft.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from triggerpoint.accounts.policy import require
from triggerpoint.assessment import visit_reads
from triggerpoint.audit import services as audit
from triggerpoint.core.errors import ImmutableRecord, StaleVersion
from triggerpoint.core.rules import RuleInputError
from triggerpoint.patients.selectors import chart_ids
from triggerpoint.procedures import prefill
from triggerpoint.procedures.draft import HEADER_FIELDS, NoteDocument, given_doses
from triggerpoint.procedures.models import Injectate, InjectionSite, Procedure, ProcedureStatus
from triggerpoint.procedures.note_reads import clinic_today, parse_document
from triggerpoint.scheduling.selectors import procedure_appointment_here
from triggerpoint.screening.selectors import screening_planned_for, signed_consent_of


def default_links(patient, on: date) -> dict[str, Any]:
    """The screening for that day, its signed consent and the patient's latest signed assessment."""
    screening = screening_planned_for(patient, on)
    consent = signed_consent_of(screening) if screening is not None else None
    assessment = visit_reads.latest_signed_visit(patient, on)
    return {"screening": screening, "consent": consent, "assessment": assessment}


@transaction.atomic
def create_draft(
    user,
    patient,
    *,
    procedure_date: date | None = None,
    screening=None,
    consent=None,
    assessment=None,
    guidance: str | None = None,
) -> Procedure:
    """Open a draft note for `patient`, linked to the day's screening, its consent and the assessment.

    Links not given are looked up (the screening planned for that day, its signed consent, the
    latest signed assessment). The draft opens with what was planned (`prefill.note_prefill`:
    sites, the shared mix's drugs, guidance, diagnoses, payer), each prefilled field recorded in
    `prefilled_from` with its source. `guidance` given here is the user's choice and wins over the
    screening's; not given, it is the screening's, else landmark.
    """
    require(user, "procedure.edit", patient)
    on = procedure_date or clinic_today(patient.clinic)
    defaults = default_links(patient, on)
    screening = screening if screening is not None else defaults["screening"]
    consent = consent if consent is not None else defaults["consent"]
    assessment = assessment if assessment is not None else defaults["assessment"]
    problems = []
    for label, linked in (("screening", screening), ("consent", consent), ("assessment", assessment)):
        if linked is not None and linked.patient_id not in chart_ids(patient):
            problems.append(f"the {label} belongs to another patient")
    if consent is not None and screening is not None and consent.screening_id != screening.pk:
        problems.append("the consent belongs to another screening")
    if guidance is not None and guidance not in ("landmark", "ultrasound"):
        problems.append(f"guidance must be landmark or ultrasound, got {guidance!r}")
    if problems:
        raise RuleInputError(problems)
    planned = prefill.note_prefill(patient, screening=screening, assessment=assessment, guidance=guidance)
    note = parse_document({"procedure_date": on.isoformat(), "guidance": guidance or "landmark", **planned.document})
    procedure = Procedure(
        clinic=patient.clinic,
        patient=patient,
        performed_by=user,
        procedure_date=on,
        guidance=note.guidance,
        screening=screening,
        consent=consent,
        assessment=assessment,
        diagnosis_codes=list(note.diagnosis_codes),
        payer=note.payer or "",
        prefilled_from=planned.prefilled_from(note),
        appointment=procedure_appointment_here(patient, on),
    )
    procedure.full_clean()
    procedure.save()
    _replace_children(procedure, note)
    audit.record(
        "procedures.procedure.created",
        obj=procedure,
        details={
            "procedure_date": on.isoformat(),
            "screening": str(screening.public_id) if screening else None,
            "consent": str(consent.public_id) if consent else None,
            "assessment": str(assessment.public_id) if assessment else None,
            "appointment": str(procedure.appointment.public_id) if procedure.appointment else None,
            "prefilled": {name: source["source"] for name, source in procedure.prefilled_from.items()},
        },
    )
    return procedure


def locked_for_update(procedure: Procedure) -> Procedure:
    """The note re-read under a row lock, so two changes of one note run one after the other."""
    return Procedure.all_objects.select_for_update().get(pk=procedure.pk)


def refuse_if_signed(procedure: Procedure) -> None:
    """Only a live draft changes: a signed note takes amendments, a discarded draft nothing."""
    if procedure.status == ProcedureStatus.SIGNED:
        raise ImmutableRecord("This procedure note is signed; write an amendment instead.")
    if procedure.deleted_at is not None:
        raise ImmutableRecord("This draft was discarded.")


@transaction.atomic
def autosave_draft(user, procedure: Procedure, expected_version: int, payload: Any) -> Procedure:
    """Replace the draft's content with `payload` if nobody saved it since `expected_version`.

    Raises `StaleVersion` (nothing written) when another clinician saved first, so
    two people editing one draft never overwrite each other silently.
    """
    require(user, "procedure.edit", procedure)
    note = parse_document(payload)
    current = locked_for_update(procedure)
    refuse_if_signed(current)
    if current.version != expected_version:
        raise StaleVersion("procedure note", expected_version, current.version)
    for name in HEADER_FIELDS:
        value = getattr(note, name)
        if name in ("complications", "diagnosis_codes"):
            value = list(value)
        if name == "procedure_date" and value is None:
            value = current.procedure_date
        setattr(current, name, value)
    # A prefilled field the user has changed is theirs: it is no longer marked as prefilled.
    current.prefilled_from = prefill.still_prefilled(current.prefilled_from, note)
    current.save_versioned(expected_version, fields=[*HEADER_FIELDS, "prefilled_from"])
    _replace_children(current, note)
    audit.record(
        "procedures.procedure.autosaved",
        obj=current,
        details={"version": current.version, "sites": len(note.sites), "mix": len(note.mix)},
    )
    return current


def _replace_children(procedure: Procedure, note: NoteDocument) -> None:
    """A draft's sites and injectates are rewritten as a whole on each save (drafts only; the trigger guards signed)."""
    Injectate.objects.filter(procedure=procedure).delete()
    InjectionSite.objects.filter(procedure=procedure).delete()
    site_rows = []
    for position, site in enumerate(note.sites):
        row = InjectionSite(
            procedure=procedure,
            position=position,
            muscle=site.muscle,
            side=site.side,
            trigger_point=site.trigger_point,
            technique=site.technique,
            insertions=site.insertions,
            needle_gauge=site.needle_gauge,
            needle_length_mm=site.needle_length_mm,
            local_twitch=site.local_twitch,
            immediate_response=site.immediate_response,
            uses_shared_mix=site.uses_shared_mix,
            mix_volume_ml=site.mix_volume_ml,
        )
        row.save()
        site_rows.append(row)
    for given in given_doses(note):
        dose = given.dose
        Injectate(
            procedure=procedure,
            site=site_rows[given.site_index] if given.site_index is not None else None,
            drug=dose.drug,
            concentration_percent=dose.concentration_percent,
            concentration_mg_per_ml=dose.concentration_mg_per_ml,
            concentration_units_per_ml=dose.concentration_units_per_ml,
            with_epinephrine=dose.with_epinephrine,
            volume_ml=_quantize(given.volume_ml, "0.01"),
            ml_per_site=given.ml_per_site,
            dose_mg=_quantize(given.dose_mg, "0.01"),
            dose_units=_quantize(given.dose_units, "0.1"),
            lot_number=dose.lot_number,
            expiry=dose.expiry,
            ndc=dose.ndc,
            single_dose_vial=dose.single_dose_vial,
            discarded=_quantize(dose.discarded, "0.01"),
        ).save()


def _quantize(value: Decimal | None, quantum: str) -> Decimal | None:
    return None if value is None else value.quantize(Decimal(quantum))



@transaction.atomic
def discard_draft(user, procedure: Procedure, expected_version: int) -> None:
    """Soft-delete a draft that should not become a note (signed notes are never deleted)."""
    require(user, "procedure.edit", procedure)
    current = locked_for_update(procedure)
    refuse_if_signed(current)
    if current.version != expected_version:
        raise StaleVersion("procedure note", expected_version, current.version)
    current.deleted_at = timezone.now()
    current.save_versioned(expected_version, fields=["deleted_at"])
    audit.record("procedures.procedure.discarded", obj=current, details={"version": current.version})

