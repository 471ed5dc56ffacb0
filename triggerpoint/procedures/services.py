"""Named state changes of the procedure note; each is one transaction with its audit event.

`create_draft` → `autosave_draft` (version-checked, any number of times) →
`sign_procedure` (completeness, dose check, screening and consent gates; sends
`procedure_signed` inside the transaction) → `amend_procedure` (append-only
corrections shown with the original). `discard_draft` soft-deletes a draft.
Reads that show patient data go through `view_procedure` so they are audited.

The clinical decisions are the pure modules: `draft` (what the note says and what
was given), `dosing` (is it within the maximum) and `coding` (which codes).
"""

from __future__ import annotations

import base64
import hashlib
import io
import struct
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from triggerpoint.accounts.policy import can, require
from triggerpoint.atlas.catalog import load_atlas
from triggerpoint.audit import services as audit
from triggerpoint.catalogues.drugs import load_drugs
from triggerpoint.core.errors import ImmutableRecord, StaleVersion
from triggerpoint.core.rules import RuleInputError
from triggerpoint.procedures import coding, dosing, selectors
from triggerpoint.procedures.draft import (
    HEADER_FIELDS,
    NoteDocument,
    codes_input,
    completeness_problems,
    dose_check_input,
    dose_problems,
    given_doses,
    parse_note,
)
from triggerpoint.procedures.models import (
    Amendment,
    Guidance,
    GuidanceImage,
    Injectate,
    InjectionSite,
    Procedure,
    ProcedureStatus,
)
from triggerpoint.procedures.signals import procedure_signed
from triggerpoint.screening import services as screening_services

# The dose check of a stored note needs a dated weight (a calculator may take "today").
NOTE_DOSING_POLICY = dosing.DosingPolicy(require_weight_date=True)


def clinic_today(clinic) -> date:
    """The date at the clinic (procedure dates are the clinic's local days, not UTC days)."""
    return timezone.localdate(timezone=clinic.zone)


class SigningBlocked(RuleInputError):
    """The note cannot be signed yet; `problems` says every reason (422 on the API)."""


# ---------------------------------------------------------------------------------------------
# Reading a note as a document, and the checks shown while it is written


def note_document(procedure: Procedure) -> dict[str, Any]:
    """The stored note as the editor/API document (the inverse of `autosave_draft`)."""
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
        dose_history=_dose_history(procedure, note),
    )


def _dose_history(procedure: Procedure, note: NoteDocument) -> tuple:
    on = note.procedure_date or procedure.procedure_date
    return selectors.prior_doses(procedure.patient, on, exclude_pk=procedure.pk)


# ---------------------------------------------------------------------------------------------
# State changes


def _latest_for_day(queryset, on: date):
    return queryset.filter(planned_procedure_date=on).order_by("-created_at").first()


def _default_links(patient, on: date) -> dict[str, Any]:
    """The screening for that day, its signed consent and the patient's latest signed assessment."""
    from triggerpoint.assessment.models import Visit
    from triggerpoint.screening.models import Consent, ScreeningRecord

    screening = _latest_for_day(ScreeningRecord.objects.filter(patient=patient), on)
    consent = None
    if screening is not None:
        consent = (
            Consent.objects.filter(screening=screening, signed_at__isnull=False).order_by("-signed_at").first()
        )
    assessment = (
        Visit.objects.filter(patient=patient, status="signed", visit_date__lte=on).order_by("-visit_date").first()
    )
    return {"screening": screening, "consent": consent, "assessment": assessment}


def _assessment_diagnoses(assessment) -> list[str]:
    if assessment is None:
        return []
    return [d.code for d in assessment.diagnoses.all()]


@transaction.atomic
def create_draft(
    user,
    patient,
    *,
    procedure_date: date | None = None,
    screening=None,
    consent=None,
    assessment=None,
    guidance: str = "landmark",
) -> Procedure:
    """Open a draft note for `patient`, linked to the day's screening, its consent and the assessment.

    Links not given are looked up (the screening planned for that day, its signed
    consent, the latest signed assessment); the assessment's diagnoses are copied.
    """
    require(user, "procedure.edit", patient)
    on = procedure_date or clinic_today(patient.clinic)
    defaults = _default_links(patient, on)
    screening = screening if screening is not None else defaults["screening"]
    consent = consent if consent is not None else defaults["consent"]
    assessment = assessment if assessment is not None else defaults["assessment"]
    problems = []
    for label, linked in (("screening", screening), ("consent", consent), ("assessment", assessment)):
        if linked is not None and linked.patient_id != patient.pk:
            problems.append(f"the {label} belongs to another patient")
    if consent is not None and screening is not None and consent.screening_id != screening.pk:
        problems.append("the consent belongs to another screening")
    if guidance not in ("landmark", "ultrasound"):
        problems.append(f"guidance must be landmark or ultrasound, got {guidance!r}")
    if problems:
        raise RuleInputError(problems)
    procedure = Procedure(
        clinic=patient.clinic,
        patient=patient,
        performed_by=user,
        procedure_date=on,
        guidance=guidance,
        screening=screening,
        consent=consent,
        assessment=assessment,
        diagnosis_codes=_assessment_diagnoses(assessment),
    )
    procedure.full_clean()
    procedure.save()
    audit.record(
        "procedures.procedure.created",
        obj=procedure,
        details={
            "procedure_date": on.isoformat(),
            "screening": str(screening.public_id) if screening else None,
            "consent": str(consent.public_id) if consent else None,
            "assessment": str(assessment.public_id) if assessment else None,
        },
    )
    return procedure


def _locked(procedure: Procedure) -> Procedure:
    return Procedure.all_objects.select_for_update().get(pk=procedure.pk)


def _refuse_if_signed(procedure: Procedure) -> None:
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
    current = _locked(procedure)
    _refuse_if_signed(current)
    if current.version != expected_version:
        raise StaleVersion("procedure note", expected_version, current.version)
    for name in HEADER_FIELDS:
        value = getattr(note, name)
        if name in ("complications", "diagnosis_codes"):
            value = list(value)
        if name == "procedure_date" and value is None:
            value = current.procedure_date
        setattr(current, name, value)
    current.save_versioned(expected_version, fields=list(HEADER_FIELDS))
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


def screening_allows(screening) -> bool:
    """The screening app decides (`screening.services.screening_allows_procedure`); there is no fallback."""
    return bool(screening_services.screening_allows_procedure(screening))


@transaction.atomic
def sign_procedure(
    user,
    procedure: Procedure,
    expected_version: int,
    *,
    dose_override_reason: str = "",
    screening_override_reason: str = "",
    repeat_override_reason: str = "",
) -> Procedure:
    """Sign the note: complete, with billable diagnosis codes, within the dose limits (or overridden by a
    physician with a reason), within the payer's repeat interval and 12-month count (or overridden),
    cleared by screening (or overridden), with a signed consent if one is linked.

    Stores the dose check and the codes as shown, then sends `procedure_signed` inside
    this transaction so aftercare, follow-up and outcomes rows commit with the signature.
    """
    require(user, "procedure.sign", procedure)
    current = _locked(procedure)
    _refuse_if_signed(current)
    if current.version != expected_version:
        raise StaleVersion("procedure note", expected_version, current.version)
    note = parse_document(note_document(current))
    problems = completeness_problems(note)
    on = current.procedure_date
    if on > clinic_today(current.clinic):
        problems.append("a note cannot be signed before the procedure date")

    history = session_history(current, note)
    checks = live_checks(current.patient, note, history=history, dose_history=_dose_history(current, note))
    if note.sites and checks.codes_problems:
        problems.extend(checks.codes_problems)
    problems.extend(checks.diagnosis_problems)
    dose_override_reason = (dose_override_reason or "").strip()
    screening_override_reason = (screening_override_reason or "").strip()
    repeat_override_reason = (repeat_override_reason or "").strip()
    dose_overridden = False
    if checks.dose is not None and checks.dose.blocks_signing:
        blocking = [f.message for f in checks.dose.findings if f.severity in dosing.SIGNING_SEVERITIES]
        if not dose_override_reason:
            problems.append("dose check: " + " ".join(blocking) + " A physician may override with a reason.")
        elif not can(user, "procedure.override_dose", current):
            problems.append("dose check: only a physician may override the dose check")
        else:
            dose_overridden = True
    repeat_overridden = False
    if checks.repeat_findings:
        messages = " ".join(f.message for f in checks.repeat_findings)
        if not repeat_override_reason:
            problems.append(
                f"repeat injection: {messages} A physician may override with a reason (e.g. the medical necessity)."
            )
        elif not can(user, "procedure.override_dose", current):
            problems.append("repeat injection: only a physician may override the payer's repeat limits")
        else:
            repeat_overridden = True

    screening = current.screening
    if screening is None:
        screening = _default_links(current.patient, on)["screening"]
        if screening is not None:
            current.screening = screening
    screening_overridden = False
    if screening is not None and not screening_allows(screening):
        if not screening_override_reason:
            problems.append(
                f"screening status is {screening.status}: the procedure should not go ahead. "
                "A physician may override with a reason."
            )
        elif not can(user, "screening.override", current):
            problems.append("screening: only a physician may override a deferral or contraindication")
        else:
            screening_overridden = True
    if current.consent is not None and not current.consent.is_signed:
        problems.append("the linked consent is not signed")
    if current.guidance != Guidance.ULTRASOUND and current.images.exists():
        problems.append(
            "ultrasound images are attached but the note records landmark guidance: "
            "set guidance to ultrasound or remove the images"
        )
    if problems:
        raise SigningBlocked(problems)

    now = timezone.now()
    current.status = ProcedureStatus.SIGNED
    current.signed_at = now
    current.signed_by = user
    current.performed_at = current.performed_at or now
    current.weight_kg_used = current.patient.weight_kg
    current.dose_check = checks.dose.as_dict() if checks.dose else None
    current.codes = checks.codes.as_dict() if checks.codes else None
    current.dose_override_reason = dose_override_reason if dose_overridden else ""
    current.screening_override_reason = screening_override_reason if screening_overridden else ""
    current.repeat_override_reason = repeat_override_reason if repeat_overridden else ""
    current.save_versioned(
        expected_version,
        fields=[
            "status",
            "signed_at",
            "signed_by",
            "performed_at",
            "weight_kg_used",
            "dose_check",
            "codes",
            "dose_override_reason",
            "screening_override_reason",
            "repeat_override_reason",
            "screening",
        ],
    )
    if dose_overridden:
        audit.record(
            "procedures.procedure.dose_overridden",
            obj=current,
            details={
                "reason": dose_override_reason,
                "findings": [
                    f.as_dict() for f in checks.dose.findings if f.severity in dosing.SIGNING_SEVERITIES
                ],
            },
        )
    if repeat_overridden:
        audit.record(
            "procedures.procedure.repeat_overridden",
            obj=current,
            details={"reason": repeat_override_reason, "findings": [f.as_dict() for f in checks.repeat_findings]},
        )
    if screening_overridden:
        audit.record(
            "procedures.procedure.screening_overridden",
            obj=current,
            details={"reason": screening_override_reason, "screening_status": screening.status},
        )
    audit.record(
        "procedures.procedure.signed",
        obj=current,
        details={
            "version": current.version,
            "sites": len(note.sites),
            "cpt": [line["code"] for line in (current.codes or {}).get("cpt", [])],
            "dose_ok": checks.dose.ok if checks.dose else None,
        },
    )
    procedure_signed.send(sender=Procedure, procedure=current)
    return current


@transaction.atomic
def amend_procedure(user, procedure: Procedure, *, reason: str, text: str) -> Amendment:
    """Append a correction to a signed note (the original stays as signed)."""
    require(user, "procedure.amend", procedure)
    reason, text = (reason or "").strip(), (text or "").strip()
    problems = []
    if not reason:
        problems.append("give the reason for the amendment")
    if not text:
        problems.append("write the correction")
    if problems:
        raise RuleInputError(problems)
    current = _locked(procedure)
    if current.status != ProcedureStatus.SIGNED:
        raise RuleInputError("only a signed note is amended; edit the draft instead")
    amendment = Amendment(procedure=current, author=user, reason=reason, text=text)
    amendment.save()
    audit.record(
        "procedures.procedure.amended",
        obj=current,
        details={"amendment": str(amendment.public_id), "reason": reason},
    )
    return amendment


@transaction.atomic
def discard_draft(user, procedure: Procedure, expected_version: int) -> None:
    """Soft-delete a draft that should not become a note (signed notes are never deleted)."""
    require(user, "procedure.edit", procedure)
    current = _locked(procedure)
    _refuse_if_signed(current)
    if current.version != expected_version:
        raise StaleVersion("procedure note", expected_version, current.version)
    current.deleted_at = timezone.now()
    current.save_versioned(expected_version, fields=["deleted_at"])
    audit.record("procedures.procedure.discarded", obj=current, details={"version": current.version})


def view_procedure(user, procedure: Procedure, *, channel: str = "ui") -> Procedure:
    """Record one read of a procedure note."""
    audit.record("procedures.procedure.viewed", obj=procedure, details={"channel": channel})
    return procedure


# ---------------------------------------------------------------------------------------------
# Guidance images (ultrasound stills): part of the draft, frozen with the signed note

GUIDANCE_IMAGE_MAX_BYTES = 10 * 1024 * 1024
# 4096 x 4096: far above any ultrasound still, small enough to decode safely.
GUIDANCE_IMAGE_MAX_PIXELS = 4096 * 4096
GUIDANCE_IMAGE_CAPTION_MAX = 200
GUIDANCE_IMAGE_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg"}


class ImageRejected(RuleInputError):
    """The upload is not an acceptable image; `status` is the HTTP status to answer with."""

    def __init__(self, problems: list[str] | str, status: int = 422):
        super().__init__(problems)
        self.status = status


@dataclass(frozen=True)
class CheckedImage:
    data: bytes
    content_type: str
    width: int
    height: int
    sha256: str


def check_image(upload) -> CheckedImage:
    """Read and verify an uploaded still: PNG or JPEG (by content, never by name), size and pixel limits.

    Raises `ImageRejected` (nothing is written) with 400 for no file, 413 for too large,
    415 for anything that is not a PNG or JPEG, 422 for a damaged or oversized image.
    """
    from PIL import Image, UnidentifiedImageError

    if upload is None:
        raise ImageRejected("choose a PNG or JPEG image to upload", status=400)
    limit_mb = GUIDANCE_IMAGE_MAX_BYTES // (1024 * 1024)
    declared = getattr(upload, "size", None)
    if declared is not None and declared > GUIDANCE_IMAGE_MAX_BYTES:
        raise ImageRejected(f"the image is larger than {limit_mb} MB", status=413)
    data = upload.read(GUIDANCE_IMAGE_MAX_BYTES + 1)
    if len(data) > GUIDANCE_IMAGE_MAX_BYTES:
        raise ImageRejected(f"the image is larger than {limit_mb} MB", status=413)
    if not data:
        raise ImageRejected("the file is empty", status=400)
    unreadable = (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error, Image.DecompressionBombError)
    try:
        with Image.open(io.BytesIO(data)) as probe:
            kind = probe.format
            width, height = probe.size
    except (UnidentifiedImageError, *unreadable) as error:
        if data.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")):
            raise ImageRejected("the image is damaged and could not be read", status=422) from error
        raise ImageRejected("the file is not a PNG or JPEG image", status=415) from error
    if kind not in GUIDANCE_IMAGE_TYPES:
        raise ImageRejected(f"only PNG or JPEG images are accepted (this file is {kind or 'unknown'})", status=415)
    if width < 1 or height < 1 or width * height > GUIDANCE_IMAGE_MAX_PIXELS:
        raise ImageRejected(
            f"the image is {width} x {height} pixels; at most {GUIDANCE_IMAGE_MAX_PIXELS:,} pixels are accepted",
            status=422,
        )
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()  # structure and checksums
        with Image.open(io.BytesIO(data)) as image:
            image.load()  # and it decodes to the end (verify does not read JPEG data)
    except unreadable as error:
        raise ImageRejected(f"the {kind} image is damaged and could not be read", status=422) from error
    return CheckedImage(
        data=data,
        content_type=GUIDANCE_IMAGE_TYPES[kind],
        width=width,
        height=height,
        sha256=hashlib.sha256(data).hexdigest(),
    )


def add_guidance_image(user, procedure: Procedure, upload, *, caption: str = "") -> GuidanceImage:
    """Attach a verified ultrasound still to a draft note (refused once signed; nothing written on a bad file)."""
    require(user, "procedure.edit", procedure)
    caption = (caption or "").strip()
    if len(caption) > GUIDANCE_IMAGE_CAPTION_MAX:
        raise ImageRejected(f"the caption is longer than {GUIDANCE_IMAGE_CAPTION_MAX} characters", status=422)
    checked = check_image(upload)
    stored_name = None
    image = None
    try:
        with transaction.atomic():
            current = _locked(procedure)
            _refuse_if_signed(current)
            if current.guidance != Guidance.ULTRASOUND:
                raise ImageRejected(
                    "ultrasound still images belong to an ultrasound-guided note: set guidance to ultrasound first",
                    status=409,
                )
            image = GuidanceImage(
                clinic=current.clinic,
                procedure=current,
                caption=caption,
                uploaded_by=user,
                content_type=checked.content_type,
                size_bytes=len(checked.data),
                sha256=checked.sha256,
                width=checked.width,
                height=checked.height,
            )
            # FileField.save writes the file (random per-clinic path) and then the row.
            image.image.save("upload", ContentFile(checked.data), save=False)
            stored_name = image.image.name
            image.save()
            audit.record(
                "procedures.guidance_image.uploaded",
                obj=image,
                patient=current.patient,
                details={
                    "procedure": str(current.public_id),
                    "content_type": checked.content_type,
                    "size_bytes": len(checked.data),
                    "sha256": checked.sha256,
                    "width": checked.width,
                    "height": checked.height,
                },
            )
    except BaseException:
        if stored_name:
            image.image.storage.delete(stored_name)  # the row was not written: leave no orphan file
        raise
    return image


@transaction.atomic
def remove_guidance_image(user, procedure: Procedure, image: GuidanceImage) -> None:
    """Take an image off a draft note: a soft delete (row and file kept, hidden from the note)."""
    require(user, "procedure.edit", procedure)
    current = _locked(procedure)
    _refuse_if_signed(current)
    if image.procedure_id != current.pk:
        raise RuleInputError("the image belongs to another note")
    image.soft_delete()
    audit.record(
        "procedures.guidance_image.removed",
        obj=image,
        patient=current.patient,
        details={"procedure": str(current.public_id), "sha256": image.sha256},
    )


def read_guidance_image(user, procedure: Procedure, image: GuidanceImage, *, channel: str = "ui") -> bytes:
    """The stored bytes of one image, with the read audited."""
    require(user, "procedure.view", procedure)
    if image.procedure_id != procedure.pk:
        raise RuleInputError("the image belongs to another note")
    with image.image.open("rb") as handle:
        data = handle.read()
    audit.record(
        "procedures.guidance_image.viewed",
        obj=image,
        patient=procedure.patient,
        details={"procedure": str(procedure.public_id), "channel": channel},
    )
    return data


def guidance_image_data_uri(user, procedure: Procedure, image: GuidanceImage, *, channel: str = "pdf") -> str:
    """The image inlined as a data: URI (for the PDF), audited as a read."""
    data = read_guidance_image(user, procedure, image, channel=channel)
    return f"data:{image.content_type};base64,{base64.b64encode(data).decode('ascii')}"
