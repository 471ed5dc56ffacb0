from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from triggerpoint.accounts.decorators import staff_required
from triggerpoint.accounts.policy import can
from triggerpoint.audit import services as audit
from triggerpoint.core.errors import StaleVersion
from triggerpoint.patients import merging, registration, search, services
from triggerpoint.patients.forms import (
    AllergyForm,
    MedicationForm,
    PatientForm,
    RegistrationForm,
    RiskFactorForm,
)
from triggerpoint.patients.importing import items_needing_classification, mark_classified
from triggerpoint.patients.selectors import absorbed_charts, get_patient_for_user
from triggerpoint.patients.timeline import actions_for, entries_for, entries_html

TIMELINE_SHOWN = 40  # newest first; the rest behind "show all"


@staff_required("patient.list")
def patient_search(request):
    query = request.GET.get("q", "")
    patients = search.find_patients(request.user, query)
    audit.record_patient_views("patients.patient.listed", patients, details={"via": "search"})
    template = "patients/_results.html" if request.headers.get("HX-Request") else "patients/search.html"
    return render(request, template, {"patients": patients, "query": query})


@staff_required("patient.view")
def patient_chart(request, public_id):
    patient = get_patient_for_user(request.user, public_id, "patient.view")
    if str(patient.public_id) != str(public_id):  # a merged chart's address: its survivor's, under its own address
        return redirect("patients:chart", public_id=patient.public_id)
    services.view_patient(request.user, patient)
    clinical = can(request.user, "patient.view_clinical", patient)
    context = {
        "patient": patient,
        "merged_from": absorbed_charts(patient),
        "age": patient.age_on(patient.clinic.today()),
        "clinical": clinical,
        "allergies": list(patient.allergies.all()) if clinical else [],
        "medications": list(patient.medications.filter(active=True)) if clinical else [],
        "risk_factors": list(patient.risk_factors.all()) if clinical else [],
        # Received from another system (fhir import) and recognised by none of our vocabularies.
        "to_classify": list(items_needing_classification(patient)) if clinical else [],
        "chart_actions": actions_for(patient, request.user) if clinical else [],
        "can_edit": can(request.user, "patient.update", patient),
        "can_edit_clinical": can(request.user, "patient.update_clinical", patient),
    }
    return render(request, "patients/chart.html", context)


@staff_required("patient.view_clinical")
def patient_timeline(request, public_id):
    """The chart's timeline, loaded after the banner so allergies and medications show at once."""
    patient = get_patient_for_user(request.user, public_id, "patient.view_clinical")
    timeline = entries_for(patient, request.user)
    show_all = request.GET.get("all") == "1"
    audit.record("patients.timeline.viewed", obj=patient, details={"entries": len(timeline)})
    # The chart loads the fragment with htmx; a plain visit (the no-script link) gets a whole page.
    template = "patients/_timeline.html" if request.headers.get("HX-Request") else "patients/timeline.html"
    return render(request, template, {
        "patient": patient,
        "timeline_html": entries_html(timeline if show_all else timeline[:TIMELINE_SHOWN]),
        "timeline_hidden": 0 if show_all else max(len(timeline) - TIMELINE_SHOWN, 0),
    })


@staff_required("patient.create")
@require_http_methods(["GET", "POST"])
def patient_create(request):
    """Register a patient; likely duplicates are shown first, with "open this chart" or "this is a different person"."""
    form = RegistrationForm(request.POST or None)
    candidates = []
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k not in ("version", "confirm_not_duplicate")}
        try:
            patient = registration.register_patient(
                request.user, request.user.clinic, data,
                confirm_not_duplicate=form.cleaned_data.get("confirm_not_duplicate", False),
            )
        except registration.LikelyDuplicates as exc:
            candidates = exc.candidates
        except services.DuplicateMRN as exc:
            form.add_error("mrn", str(exc))
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"{patient.full_name} added (MRN {patient.mrn}).")
            return redirect("patients:chart", public_id=patient.public_id)
    return render(request, "patients/form.html", {"form": form, "creating": True, "candidates": candidates})


@staff_required("patient.update")
@require_http_methods(["GET", "POST"])
def patient_edit(request, public_id):
    patient = get_patient_for_user(request.user, public_id, "patient.update")
    if request.method == "POST":
        form = PatientForm(request.POST, instance=patient)
        # ModelForm validation writes into the instance; keep a pristine copy for the service.
        pristine = get_patient_for_user(request.user, public_id, "patient.update")
        if form.is_valid():
            expected = form.cleaned_data.get("version") or pristine.version
            changes = {
                name: form.cleaned_data[name]
                for name in services.DEMOGRAPHIC_FIELDS
                if form.cleaned_data.get(name) != getattr(pristine, name)
            }
            try:
                if changes:
                    services.update_patient(request.user, pristine, expected, changes)
            except StaleVersion as exc:
                form.add_error(None, str(exc))
            except (services.DuplicateMRN, ValidationError) as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, "Patient details saved.")
                return redirect("patients:chart", public_id=patient.public_id)
    else:
        form = PatientForm(instance=patient, initial={"version": patient.version})
    services.view_patient(request.user, patient, channel="edit")  # the form shows the demographics
    return render(request, "patients/form.html", {"form": form, "patient": patient, "creating": False})


@staff_required("patient.update_clinical")
@require_http_methods(["GET", "POST"])
def patient_add_clinical(request, public_id, kind):
    """GET: the small add form (loaded into the chart on demand); POST: add the item."""
    patient = get_patient_for_user(request.user, public_id, "patient.update_clinical")
    form_class, add = {
        "allergy": (AllergyForm, lambda d: services.add_allergy(request.user, patient, **d)),
        "medication": (MedicationForm, lambda d: services.add_medication(request.user, patient, **d)),
        "risk": (RiskFactorForm, lambda d: services.add_risk_factor(request.user, patient, **d)),
    }.get(kind, (None, None))
    if kind == "nkda":
        return _record_nkda(request, patient)
    if form_class is None:
        raise Http404("Unknown item type.")
    if request.method == "GET":
        services.view_patient(request.user, patient, channel=f"add_{kind}")  # the form names the patient
        return render(request, "patients/_add_form.html", {"form": form_class(), "patient": patient, "kind": kind})
    form = form_class(request.POST)
    if form.is_valid():
        add(form.cleaned_data)
        messages.success(request, "Saved.")
    else:
        messages.error(request, "Not saved: " + "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items()))
    return redirect("patients:chart", public_id=patient.public_id)


def _record_nkda(request, patient):
    """POST only: the clinician asked and the patient has no known drug allergies."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        services.record_no_known_allergies(request.user, patient)
    except services.AllergyStatusConflict as exc:
        messages.error(request, f"Not saved: {exc}")
    else:
        messages.success(request, "Recorded: no known drug allergies.")
    return redirect("patients:chart", public_id=patient.public_id)


@staff_required("patient.merge")
@require_http_methods(["GET", "POST"])
def patient_merge(request):
    """Merge a duplicate chart into the one that survives (clinic admin): two MRNs, then both charts side by
    side with their record counts, then the merge. Nothing is merged without the confirmation step."""
    absorbed_mrn = request.POST.get("absorbed_mrn", "").strip()
    survivor_mrn = request.POST.get("survivor_mrn", "").strip()
    context = {"absorbed_mrn": absorbed_mrn, "survivor_mrn": survivor_mrn, "problem": ""}
    if request.method == "GET":
        return render(request, "patients/merge.html", context)
    try:
        if not absorbed_mrn or not survivor_mrn:
            raise merging.MergeRefused("Enter the MRN of the duplicate chart and the MRN of the chart that stays.")
        absorbed = merging.chart_for_merge(request.user, absorbed_mrn)
        survivor = merging.chart_for_merge(request.user, survivor_mrn)
        if request.POST.get("step") == "merge":
            merging.merge_charts(request.user, absorbed, survivor)
            messages.success(request, f"Chart {absorbed.mrn} was merged into {survivor.mrn}. Its records are read "
                                      f"through {survivor.mrn}, and its links and MRN lead there.")
            return redirect("patients:merge")
        context["sides"] = merging.preview(request.user, absorbed, survivor)
    except merging.MergeRefused as exc:
        context["problem"] = str(exc)
        return render(request, "patients/merge.html", context, status=422)
    return render(request, "patients/merge.html", context)


@staff_required("patient.update_clinical")
@require_http_methods(["POST"])
def imported_item_classified(request, public_id, item_id):
    """A person looked at an item received from another system and recorded what it means (or that it does not matter)."""
    patient = get_patient_for_user(request.user, public_id, "patient.update_clinical")
    item = items_needing_classification(patient).filter(public_id=item_id).first()
    if item is None:
        raise Http404("No such item to classify on this chart.")
    mark_classified(request.user, patient, item, request.POST.get("note", ""))
    messages.success(request, f"Marked as classified: {item.text}.")
    return redirect("patients:chart", public_id=patient.public_id)
