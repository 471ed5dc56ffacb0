"""What other apps read from the patients app: the patient a user may act on, a portal account's patient,
and the charts that make up one patient after a merge.

A chart merged into another (`Patient.merged_into`, `patients.merging`) is never answered itself: every
lookup here by public id, MRN or portal account answers the surviving chart, and `chart_ids(patient)`
names every chart whose records are the patient's (the survivor's first). Other apps' selectors filter
`patient_id__in=chart_ids(patient)` instead of `patient=patient` where records of an absorbed chart
must be read (signed notes and visits cannot be moved).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404

from triggerpoint.accounts.policy import audit_refusal, require_audited
from triggerpoint.patients.folding import fold
from triggerpoint.patients.models import Allergy, AllergyStatus, Patient


def get_patient_for_user(user: Any, public_id: Any, action: str = "patient.view") -> Patient:
    """The patient, if this user may `action` it; 404 when missing or out of scope, 403 for the wrong role."""
    try:
        patient = surviving_chart(Patient.objects.select_related("clinic").get(public_id=public_id))
    except (Patient.DoesNotExist, ValidationError, ValueError) as exc:
        audit_refusal(user, Patient, public_id, action, None)
        raise Http404("No such patient.") from exc
    require_audited(user, action, patient, public_id)
    return patient


def surviving_chart(patient: Patient | None) -> Patient | None:
    """The chart that stands for `patient`: itself, or the chart it was merged into."""
    if patient is None or not patient.merged_into_id:
        return patient
    # Merges are refused when they would chain, so one step is the rule; the bound only guards bad data.
    for _ in range(5):
        patient = Patient.all_objects.select_related("clinic").get(pk=patient.merged_into_id)
        if not patient.merged_into_id:
            break
    return patient


def chart_ids(patient: Patient) -> list[int]:
    """The primary keys of every chart that makes up this patient: the surviving chart first, then the
    charts merged into it. Records of all of them are this patient's."""
    if not isinstance(patient, Patient):  # a primary key
        patient = Patient.all_objects.get(pk=patient)
    survivor = surviving_chart(patient)
    cached = getattr(survivor, "_chart_ids", None)
    if cached is None:
        absorbed = Patient.all_objects.filter(merged_into_id=survivor.pk).order_by("pk").values_list("pk", flat=True)
        cached = survivor._chart_ids = [survivor.pk, *absorbed]
    return list(cached)


def chart_ids_by_patient(patient_ids: Iterable[int]) -> dict[int, list[int]]:
    """`chart_ids` for many charts at once (a day's worklist): each given pk -> the pks of every chart of that
    patient, the survivor's first. Two queries however many; a pk that names no chart maps to itself."""
    asked = list(dict.fromkeys(patient_ids))
    survivor_of = {pk: merged_into or pk for pk, merged_into in
                   Patient.all_objects.filter(pk__in=asked).values_list("pk", "merged_into_id")}
    charts: dict[int, list[int]] = {pk: [pk] for pk in set(survivor_of.values())}
    for pk, survivor in (Patient.all_objects.filter(merged_into_id__in=list(charts)).order_by("pk")
                         .values_list("pk", "merged_into_id")):
        charts[survivor].append(pk)
    return {pk: list(charts.get(survivor_of.get(pk, pk), [pk])) for pk in asked}


def is_chart_of(patient_public_id: Any, chart_pk: int) -> bool:
    """Does the public id in an address (`/patients/<id>/…`) name the patient whose chart `chart_pk` is (the
    chart itself, its survivor, or another chart merged into that survivor)? For a record looked up by its own
    id and then checked against the address it was asked under."""
    try:
        return Patient.all_objects.filter(pk__in=chart_ids(chart_pk), public_id=patient_public_id).exists()
    except (ValidationError, ValueError, Patient.DoesNotExist):
        return False


def chart_ids_named(public_ids: Iterable[Any], **filters: Any) -> list[int]:
    """The pks of every chart of the patients these public ids name (a survivor's id or a merged chart's),
    narrowed by `filters` (clinic_id…): the FHIR `patient=` search and `$everything`. Two queries."""
    named = list(Patient.objects.filter(public_id__in=list(public_ids), **filters)
                 .values_list("pk", "merged_into_id"))
    survivors = {merged_into or pk for pk, merged_into in named}
    absorbed = Patient.all_objects.filter(merged_into_id__in=list(survivors)).values_list("pk", flat=True)
    return sorted(survivors | set(absorbed))


def absorbed_charts(patient: Patient) -> list[Patient]:
    """The charts merged into this one (for "merged from MRN …" on the chart), oldest merge first."""
    return list(Patient.all_objects.filter(merged_into=patient).order_by("merged_at", "pk"))


def portal_patient_of(user: Any) -> Patient | None:
    """The patient record a portal account belongs to, or None (accounts' `User.portal_patient`).

    An account of a chart that was merged reaches the surviving chart."""
    return surviving_chart(Patient.objects.filter(portal_user=user).first())


def patient_by_mrn(clinic: Any, mrn: str) -> Patient | None:
    """The clinic's patient with exactly this MRN (the front desk books by the number on the card), or None.

    The MRN of a merged chart answers the chart it was merged into."""
    mrn = (mrn or "").strip()
    return surviving_chart(Patient.objects.filter(clinic=clinic, mrn__iexact=mrn).first()) if mrn else None


def allergies_asked(patient: Patient) -> bool:
    """Has anyone recorded the patient's allergy status ("no known drug allergies" counts; "unknown" does not)?"""
    return patient.allergy_status != AllergyStatus.UNKNOWN


def birth_dates_and_sexes(clinic_id: int) -> Iterator[tuple[int, Any, str]]:
    """(patient pk, date of birth, sex) of every patient of the clinic, deleted ones too (a research export
    keeps their history), streamed in chunks: one query however many patients."""
    return Patient.all_objects.filter(clinic_id=clinic_id).values_list("pk", "date_of_birth", "sex").iterator(
        chunk_size=20000
    )


def patient_table() -> type[Patient]:
    """For a bulk loader of synthetic patients (the outcomes registry, `triggerpoint demo --procedures N`) only:
    it writes rows column by column at a scale `services.create_patient` is not for."""
    return Patient


def is_patient(value: Any) -> bool:
    """Is this value a patient record (a worklist row that is the patient itself)?"""
    return isinstance(value, Patient)


def recently_updated(clinic: Any, count: int = 10) -> list[Patient]:
    """The clinic's patients whose records changed most recently, newest first."""
    return list(Patient.objects.filter(clinic=clinic).order_by("-updated_at")[:count])


def has_patients_outside_demo() -> bool:
    """Does the database hold any patient (deleted ones too) of a clinic that is not a demo clinic?"""
    return Patient.all_objects.exclude(clinic__is_demo=True).exists()


def patient_ids_matching(clinic: Any, *, public_id: str = "", text: str = ""):
    """A query of the ids of the clinic's patients with that public id, or whose MRN is exactly `text` or whose
    given or family name holds every word of it ("last, first" works too); for another app's filter
    (`patient__in=`), run as a subquery of that one query."""
    patients = Patient.objects.filter(clinic=clinic)
    if public_id:
        patients = patients.filter(public_id=public_id)
    if text:
        patients = patients.filter(_patient_match(text))
    return patients.values("pk")


def _patient_match(text: str) -> Q:
    """MRN exactly, or every word of the text in the given or family name."""
    match = Q(mrn__iexact=text)
    words = [w for w in text.replace(",", " ").split() if w]
    if words:
        name = Q()
        for word in words:
            name &= Q(given_name__icontains=word) | Q(family_name__icontains=word)
        match |= name
    return match


def patients(**filters):
    """The clinic's patients narrowed by `filters` (clinic_id, pk__in, public_id__in…), with their clinic loaded.

    The FHIR interface asks here so what a chart is (soft-deleted ones are not, nor one merged into another:
    its records are read through the surviving chart, `chart_ids`) stays in this app."""
    return Patient.objects.select_related("clinic").filter(merged_into__isnull=True, **filters)


def merged_charts(**filters):
    """Charts merged into another (`merged_into` loaded), narrowed by `filters`: the FHIR read of a merged chart's
    id answers it as replaced by the survivor; nothing lists them."""
    return Patient.objects.select_related("clinic", "merged_into").filter(merged_into__isnull=False, **filters)


def name_starts_with(queryset, text: str):
    """Patients one of whose name words starts with `text`, accents and case ignored (FHIR `name` search)."""
    key = fold(text)
    if not key:
        return queryset.none()
    return queryset.filter(Q(search_name__startswith=key) | Q(search_name__contains=f" {key}"))


def allergies(**filters):
    """Recorded allergies (one row per substance) of charts that are not deleted, narrowed by `filters`."""
    return Allergy.objects.select_related("patient", "patient__clinic").filter(patient__deleted_at__isnull=True,
                                                                               **filters)


def patients_without_known_drug_allergies(**filters):
    """Patients whose recorded answer is "no known drug allergies" (asked, none), narrowed by `filters`."""
    return patients(allergy_status=AllergyStatus.NKDA, **filters)


def patients_with_sex(queryset, codes):
    """Patients recorded with one of these sexes (female, male, other, unknown)."""
    return queryset.filter(sex__in=list(codes))
