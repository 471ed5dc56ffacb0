"""Pages of the procedure note: start, edit (autosave + live checks), read, sign, amend, PDF.

Thin: every change goes through `services`, every access decision through the
policy. The editor is one page whose script keeps the note as a JSON document,
autosaves it with the version it read (a conflict is shown, never overwritten),
and asks the `live` view for the running dose total and codes after each change.
"""

from __future__ import annotations

import json
from datetime import date

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from triggerpoint.accounts.decorators import staff_required
from triggerpoint.accounts.policy import can, require
from triggerpoint.assessment import visit_reads
from triggerpoint.atlas.catalog import load_atlas
from triggerpoint.atlas.suggest import suggest as rank_muscles
from triggerpoint.atlas.suggest import validate_drawing
from triggerpoint.core import plausible
from triggerpoint.core.errors import ImmutableRecord, StaleVersion
from triggerpoint.core.rules import RuleInputError
from triggerpoint.patients.selectors import chart_ids, get_patient_for_user, surviving_chart
from triggerpoint.procedures import (
    amendments,
    coding,
    documents,
    drafting,
    images,
    note_links,
    note_reads,
    presentation,
    signing,
)
from triggerpoint.procedures.models import GuidanceImage, Procedure
from triggerpoint.screening.selectors import recent_screenings

MAX_DOCUMENT_BYTES = 256 * 1024


def _procedure_for(user, patient_id, procedure_id, action: str) -> Procedure:
    patient = get_patient_for_user(user, patient_id, action)
    procedure = (
        Procedure.objects.select_related("patient", "clinic", "performed_by", "signed_by", "screening", "consent",
                                         "assessment")
        .filter(public_id=procedure_id, patient_id__in=chart_ids(patient))
        .first()
    )
    if procedure is None:
        raise Http404("No such procedure note.")
    require(user, action, procedure)
    return procedure


# ---------------------------------------------------------------- start a note


@staff_required("procedure.edit")
@require_http_methods(["GET", "POST"])
def new_note(request, patient_id):
    patient = get_patient_for_user(request.user, patient_id, "procedure.edit")

    screenings = recent_screenings(patient, 10)
    assessments = visit_reads.recent_visits(patient, 10)
    errors: list[str] = []
    if request.method == "POST":
        try:
            on = date.fromisoformat(request.POST.get("procedure_date") or note_reads.clinic_today(patient.clinic).isoformat())
        except ValueError:
            errors.append("Enter the procedure date as YYYY-MM-DD.")
            on = None
        if on is not None and (implausible := plausible.problem("scheduled", on)):
            errors.append(f"The procedure date {implausible}.")
            on = None
        links = {}
        for name, rows in (("screening", screenings), ("assessment", assessments)):
            chosen = request.POST.get(name) or ""
            if chosen:
                match = next((row for row in rows if str(row.public_id) == chosen), None)
                if match is None:
                    errors.append(f"Choose a {name} of this patient.")
                links[name] = match
        if not errors:
            try:
                procedure = drafting.create_draft(
                    request.user, patient, procedure_date=on, guidance=request.POST.get("guidance") or None,
                    **links,
                )
            except (RuleInputError, ValidationError) as error:
                errors.extend(getattr(error, "problems", None) or error.messages)
            else:
                return redirect("procedures:edit", patient_id=patient.public_id, procedure_id=procedure.public_id)
    context = {
        "patient": patient,
        "screenings": screenings,
        "assessments": assessments,
        "today": note_reads.clinic_today(patient.clinic),
        "errors": errors,
    }
    return render(request, "procedures/new.html", context)


# ---------------------------------------------------------------- the editor


@staff_required("procedure.edit")
def edit_note(request, patient_id, procedure_id):
    procedure = _procedure_for(request.user, patient_id, procedure_id, "procedure.edit")
    if procedure.is_signed:
        messages.info(request, "This note is signed; corrections are amendments.")
        return redirect("procedures:note", patient_id=patient_id, procedure_id=procedure_id)
    note_reads.view_procedure(request.user, procedure, channel="editor")
    return render(request, "procedures/edit.html", _editor_context(request, procedure))


def _editor_context(request, procedure: Procedure, **extra) -> dict:
    patient_id, procedure_id = procedure.patient.public_id, procedure.public_id
    document = note_reads.note_document(procedure)
    atlas = load_atlas()
    context = {
        "patient": procedure.patient,
        "procedure": procedure,
        "document": document,
        "muscle_catalog": presentation.muscle_catalog(atlas),
        "drug_catalog": presentation.drug_catalog(),
        "planned_sites": presentation.planned_sites(procedure.assessment, atlas),
        # Each field still as prefilled from the plan: its badge, and the value the script compares
        # with what is on screen (the badge goes when the user changes the field).
        "prefilled": procedure.prefilled_from or {},
        "prefilled_values": {name: source.get("value") for name, source in (procedure.prefilled_from or {}).items()},
        "payers": sorted(coding.load_code_tables().payers.values(), key=lambda p: p.name),
        "complication_choices": presentation.COMPLICATION_CHOICES,
        "discharge_choices": presentation.DISCHARGE_CHOICES,
        "site_marked_choices": presentation.SITE_MARKED_CHOICES,
        "skin_prep_choices": presentation.SKIN_PREP_CHOICES,
        "sterile_technique_choices": presentation.STERILE_TECHNIQUE_CHOICES,
        "can_sign": can(request.user, "procedure.sign", procedure),
        "links": presentation.links(procedure),
        "allergies": list(surviving_chart(procedure.patient).allergies.all()),  # moved there by a merge
        "urls": {
            "autosave": reverse("procedures:autosave", args=[patient_id, procedure_id]),
            "live": reverse("procedures:live", args=[patient_id, procedure_id]),
            "suggest": reverse("procedures:suggest", args=[patient_id, procedure_id]),
            "note": reverse("procedures:note", args=[patient_id, procedure_id]),
            "edit": reverse("procedures:edit", args=[patient_id, procedure_id]),
            "image_upload": reverse("procedures:image_upload", args=[patient_id, procedure_id]),
        },
        "images": presentation.guidance_images(procedure),
        "image_errors": [],
        "live": presentation.live_context(note_reads.checks_for(procedure), atlas),
    }
    context.update(extra)
    return context


def _document_from(request) -> dict:
    if len(request.body) > MAX_DOCUMENT_BYTES:
        raise RuleInputError("the note is too large")
    raw = request.POST.get("document") if request.content_type != "application/json" else request.body
    try:
        payload = json.loads(raw or "")
    except (TypeError, ValueError) as error:
        raise RuleInputError("the note is not valid JSON") from error
    if not isinstance(payload, dict):
        raise RuleInputError("the note must be a JSON object")
    return payload


@staff_required("procedure.edit")
@require_POST
def autosave(request, patient_id, procedure_id):
    """JSON in (the note with the version it was read at), JSON out; 409 on a conflict, 422 on bad input."""
    procedure = _procedure_for(request.user, patient_id, procedure_id, "procedure.edit")
    try:
        payload = _document_from(request)
        version = payload.get("version")
        if isinstance(version, bool) or not isinstance(version, int):
            raise RuleInputError("version is required")
        procedure = drafting.autosave_draft(request.user, procedure, version, payload)
    except StaleVersion as error:
        current = Procedure.all_objects.filter(pk=procedure.pk).select_related("updated_by").first()
        by = current.updated_by.get_full_name() or current.updated_by.username if current.updated_by else "someone"
        return JsonResponse(
            {
                "detail": str(error),
                "current_version": error.current,
                "saved_by": by,
                "saved_at": timezone.localtime(current.updated_at, procedure.clinic.zone).strftime("%H:%M:%S"),
            },
            status=409,
        )
    except ImmutableRecord as error:
        return JsonResponse({"detail": str(error)}, status=409)
    except RuleInputError as error:
        return JsonResponse({"detail": error.problems}, status=422)
    return JsonResponse(
        {"version": procedure.version,
         "saved_at": timezone.localtime(procedure.updated_at, procedure.clinic.zone).strftime("%H:%M:%S")}
    )


@staff_required("procedure.edit")
@require_POST
def live(request, patient_id, procedure_id):
    """The running dose total and codes for the note as it is on screen (nothing is stored)."""
    procedure = _procedure_for(request.user, patient_id, procedure_id, "procedure.edit")
    atlas = load_atlas()
    try:
        note = note_reads.parse_document(_document_from(request))
    except RuleInputError as error:
        return render(request, "procedures/_live.html", {"live": {"input_problems": error.problems}})
    checks = note_reads.live_checks(procedure.patient, note, history=note_reads.session_history(procedure, note))
    return render(request, "procedures/_live.html", {"live": presentation.live_context(checks, atlas)})


@staff_required("procedure.edit")
@require_POST
def suggest(request, patient_id, procedure_id):
    """Muscles whose referred pain matches the zones clicked on the body map (atlas ranking)."""
    _procedure_for(request.user, patient_id, procedure_id, "procedure.edit")

    atlas = load_atlas()
    try:
        drawing = json.loads(request.POST.get("drawing") or "[]")
        request_ = validate_drawing({"zones": drawing, "limit": 8}, atlas)
        candidates = rank_muscles(request_.zones, atlas, limit=request_.limit)
        problems = []
    except (ValueError, RuleInputError) as error:
        candidates, problems = [], getattr(error, "problems", ["the drawing could not be read"])
    return render(request, "procedures/_suggestions.html", {"candidates": candidates, "problems": problems,
                                                              "has_drawing": bool(request.POST.get("drawing"))})


# ---------------------------------------------------------------- the note, signing, amendments, PDF


@staff_required("procedure.view")
def note(request, patient_id, procedure_id):
    procedure = _procedure_for(request.user, patient_id, procedure_id, "procedure.view")
    note_reads.view_procedure(request.user, procedure)
    context = presentation.note_context(procedure)
    context.update(
        can_edit=can(request.user, "procedure.edit", procedure) and not procedure.is_signed,
        can_amend=can(request.user, "procedure.amend", procedure) and procedure.is_signed,
        followed_by=note_links.links_for(procedure, request.user) if procedure.is_signed else [],
    )
    return render(request, "procedures/note.html", context)


@staff_required("procedure.sign")
@require_POST
def sign(request, patient_id, procedure_id):
    procedure = _procedure_for(request.user, patient_id, procedure_id, "procedure.sign")
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        messages.error(request, "The note's version is missing; reload the page.")
        return redirect("procedures:edit", patient_id=patient_id, procedure_id=procedure_id)
    try:
        signing.sign_procedure(
            request.user,
            procedure,
            version,
            dose_override_reason=request.POST.get("dose_override_reason", ""),
            screening_override_reason=request.POST.get("screening_override_reason", ""),
            repeat_override_reason=request.POST.get("repeat_override_reason", ""),
        )
    except signing.SigningBlocked as error:
        for problem in error.problems:
            messages.error(request, f"Not signed: {problem}")
        return redirect("procedures:edit", patient_id=patient_id, procedure_id=procedure_id)
    except StaleVersion as error:
        messages.error(request, f"Not signed: {error}")
        return redirect("procedures:edit", patient_id=patient_id, procedure_id=procedure_id)
    except ImmutableRecord:
        messages.info(request, "This note was already signed.")
    else:
        messages.success(request, "Procedure note signed.")
    return redirect("procedures:note", patient_id=patient_id, procedure_id=procedure_id)


@staff_required("procedure.amend")
@require_POST
def amend(request, patient_id, procedure_id):
    procedure = _procedure_for(request.user, patient_id, procedure_id, "procedure.amend")
    try:
        amendments.amend_procedure(
            request.user, procedure, reason=request.POST.get("reason", ""), text=request.POST.get("text", "")
        )
    except RuleInputError as error:
        for problem in error.problems:
            messages.error(request, f"Amendment not saved: {problem}")
    else:
        messages.success(request, "Amendment added; the original note is unchanged.")
    return redirect("procedures:note", patient_id=patient_id, procedure_id=procedure_id)


@staff_required("procedure.edit")
@require_POST
def discard(request, patient_id, procedure_id):
    procedure = _procedure_for(request.user, patient_id, procedure_id, "procedure.edit")
    try:
        drafting.discard_draft(request.user, procedure, int(request.POST.get("version", procedure.version)))
    except (StaleVersion, ImmutableRecord, ValueError) as error:
        messages.error(request, f"Not discarded: {error}")
        return redirect("procedures:note", patient_id=patient_id, procedure_id=procedure_id)
    messages.success(request, "Draft discarded.")
    return redirect("patients:chart", public_id=patient_id)


@staff_required("procedure.view")
def pdf(request, patient_id, procedure_id):
    """The note as a PDF (WeasyPrint): the legal record, so clinical content only.

    Billing codes, payer warnings, rule ids and data-file references stay on the coder's
    web view (`legal_record` hides them in the shared template).
    """
    procedure = _procedure_for(request.user, patient_id, procedure_id, "procedure.view")
    note_reads.view_procedure(request.user, procedure, channel="pdf")
    data = documents.note_pdf(procedure, printed_by=request.user, user=request.user,
                              base_url=request.build_absolute_uri("/"), request=request)
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{documents.note_pdf_filename(procedure)}"'
    return response


# ---------------------------------------------------------------- guidance images (ultrasound stills)


def _image_for(procedure: Procedure, image_id) -> GuidanceImage:
    image = GuidanceImage.objects.filter(public_id=image_id, procedure=procedure).first()
    if image is None:
        raise Http404("No such image.")
    return image


@staff_required("procedure.edit")
@require_POST
def image_upload(request, patient_id, procedure_id):
    """Multipart upload of one still to a draft; a bad file re-renders the editor with a 4xx and writes nothing."""
    procedure = _procedure_for(request.user, patient_id, procedure_id, "procedure.edit")
    if procedure.is_signed:
        messages.error(request, "This note is signed; images cannot be added. Write an amendment instead.")
        return redirect("procedures:note", patient_id=patient_id, procedure_id=procedure_id)
    try:
        images.add_guidance_image(
            request.user, procedure, request.FILES.get("image"), caption=request.POST.get("caption", "")
        )
    except images.ImageRejected as error:
        note_reads.view_procedure(request.user, procedure, channel="editor")
        context = _editor_context(request, procedure, image_errors=error.problems)
        return render(request, "procedures/edit.html", context, status=error.status)
    except ImmutableRecord as error:
        messages.error(request, f"Image not added: {error}")
        return redirect("procedures:note", patient_id=patient_id, procedure_id=procedure_id)
    messages.success(request, "Image added to the draft.")
    return redirect(reverse("procedures:edit", args=[patient_id, procedure_id]) + "#guidance-images")


@staff_required("procedure.edit")
@require_POST
def image_remove(request, patient_id, procedure_id, image_id):
    procedure = _procedure_for(request.user, patient_id, procedure_id, "procedure.edit")
    image = _image_for(procedure, image_id)
    try:
        images.remove_guidance_image(request.user, procedure, image)
    except ImmutableRecord as error:
        messages.error(request, f"Image not removed: {error}")
        return redirect("procedures:note", patient_id=patient_id, procedure_id=procedure_id)
    messages.success(request, "Image removed from the draft.")
    return redirect(reverse("procedures:edit", args=[patient_id, procedure_id]) + "#guidance-images")


@staff_required("procedure.view")
@require_http_methods(["GET"])
def image(request, patient_id, procedure_id, image_id):
    """One still, only through here (never a public media URL): policy-checked, audited, never sniffed."""
    procedure = _procedure_for(request.user, patient_id, procedure_id, "procedure.view")
    stored = _image_for(procedure, image_id)
    try:
        data = images.read_guidance_image(request.user, procedure, stored)
    except FileNotFoundError as error:
        raise Http404("The image file is missing.") from error
    extension = "png" if stored.content_type == "image/png" else "jpg"
    response = HttpResponse(data, content_type=stored.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = f'inline; filename="guidance-{stored.public_id}.{extension}"'
    response["Cache-Control"] = "private, no-store"
    response["Content-Length"] = str(len(data))
    return response
