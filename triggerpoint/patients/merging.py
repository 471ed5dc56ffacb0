"""Merging a duplicate chart into the chart that survives (clinic admin; issue 17).

Signed procedure notes, signed visits and signed consents are immutable in the database (triggers), so
their `patient_id` cannot be moved. A merge therefore does not move records: it links the absorbed
chart to the survivor (`Patient.merged_into`, set once) and everything that resolves a patient — by
public id, MRN or portal account — follows that link (`selectors`); a link sent in a message keeps naming
the record it was made for, which stays where it is, so it keeps working. The survivor
reads the records of every chart that makes it up through one selector, `selectors.chart_ids`, which
other apps' selectors use instead of `patient=patient`.

What is moved, in the same transaction: the absorbed chart's allergies, medications and risk factors
(this app's mutable records, which screening and the dose check read from the chart itself, so the
survivor's safety checks see them at once) and the allergy status they imply. The survivor's
demographics are kept as they are: the admin chooses which chart survives, seeing both side by side.
Nothing of the apps above is moved (appointments, drafts, check-ins, messages and their links stay on
the chart they were made for, consistent with the signed records they belong to): reading through
`chart_ids` is one rule for every record, where moving only the mutable ones would split a note from
its check-ins.

Refused, with the reason in words: charts of different clinics (or another clinic's), a chart merged
into itself, a chart that is already merged, a survivor that is itself merged (merge into the chart it
points to), and an absorbed chart that has absorbed others (merge the other way round) — so a link is
never more than one step long. One audit event, `patients.patient.merged`, names both MRNs and public
ids and what each chart held; the survivor's chart shows "merged from MRN …".
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from triggerpoint.accounts.policy import require
from triggerpoint.audit import services as audit
from triggerpoint.patients.models import Allergy, AllergyStatus, Medication, Patient, RiskFactor

# Moved with the chart: mutable and read by the safety checks from the chart itself.
_MOVED = (Allergy, Medication, RiskFactor)


class MergeRefused(ValueError):
    """The merge cannot be done; the message says why, in words for the clinic admin."""


@dataclass(frozen=True)
class ChartSide:
    """One chart as the confirmation page shows it."""

    patient: Patient
    counts: dict[str, int]


def chart_for_merge(user, mrn: str) -> Patient:
    """The chart with exactly this MRN in the admin's clinic, as it is (not followed to a survivor: a chart
    already merged must be named as such). Another clinic's MRN is not found, as every lookup is."""
    chart = (Patient.objects.select_related("merged_into", "clinic")
             .filter(clinic_id=user.clinic_id, mrn__iexact=mrn.strip()).first())
    if chart is None:
        raise MergeRefused(f"No chart with MRN {mrn.strip()} in this clinic.")
    return chart


def record_counts(patient: Patient) -> dict[str, int]:
    """How many records of each kind point at this chart ("Appointments": 3), from every app, by relation.

    Read from the model's reverse relations, so this app names no other app's model; kinds with no
    records are left out.
    """
    counts: dict[str, int] = {}
    for relation in Patient._meta.related_objects:
        model = relation.related_model
        if model is Patient:
            continue
        manager = getattr(model, "all_objects", model._default_manager)
        number = manager.filter(**{relation.field.name: patient}).count()
        if number:
            label = str(model._meta.verbose_name_plural)
            counts[label[:1].upper() + label[1:]] = number
    return counts


def check_merge(user, absorbed: Patient, survivor: Patient) -> None:
    """Raise MergeRefused with the reason when `absorbed` may not be merged into `survivor`."""
    require(user, "patient.merge")
    if absorbed.clinic_id != survivor.clinic_id:
        raise MergeRefused("The two charts belong to different clinics; charts are only merged within one clinic.")
    require(user, "patient.merge", survivor)  # another clinic's pair: not found, as everywhere
    if absorbed.pk == survivor.pk:
        raise MergeRefused(f"Both numbers name the same chart ({survivor.mrn}): a chart cannot be merged into itself.")
    if absorbed.merged_into_id:
        raise MergeRefused(f"Chart {absorbed.mrn} is already merged into {absorbed.merged_into.mrn}.")
    if survivor.merged_into_id:
        raise MergeRefused(
            f"Chart {survivor.mrn} was itself merged into {survivor.merged_into.mrn}: merge into {survivor.merged_into.mrn} instead."
        )
    if Patient.all_objects.filter(merged_into=absorbed).exists():
        raise MergeRefused(
            f"Chart {absorbed.mrn} has absorbed other charts: merge {survivor.mrn} into {absorbed.mrn} instead, "
            "so every merged chart points straight at the one that survives."
        )


def preview(user, absorbed: Patient, survivor: Patient) -> tuple[ChartSide, ChartSide]:
    """Both charts with their record counts, for the confirmation; refused merges raise MergeRefused."""
    check_merge(user, absorbed, survivor)
    audit.record_patient_views("patients.merge.previewed", [absorbed, survivor],
                               details={"absorbed_mrn": absorbed.mrn, "survivor_mrn": survivor.mrn})
    return ChartSide(absorbed, record_counts(absorbed)), ChartSide(survivor, record_counts(survivor))


def merge_charts(user, absorbed: Patient, survivor: Patient) -> Patient:
    """Merge `absorbed` into `survivor` in one transaction with its audit event; returns the survivor."""
    survivor.__dict__.pop("_chart_ids", None)  # chart_ids() cached on the instance before the merge
    with transaction.atomic():
        # Both rows locked in a fixed order, then checked again: two admins merging at once cannot chain.
        locked = {p.pk: p for p in Patient.all_objects.select_for_update(of=("self",)).select_related("merged_into")
                  .filter(pk__in=[absorbed.pk, survivor.pk]).order_by("pk")}
        absorbed, survivor = locked.get(absorbed.pk, absorbed), locked.get(survivor.pk, survivor)
        check_merge(user, absorbed, survivor)
        counts = {"absorbed": record_counts(absorbed), "survivor": record_counts(survivor)}
        moved = {}
        for model in _MOVED:
            moved[model._meta.verbose_name_plural] = model.all_objects.filter(patient=absorbed).update(
                patient=survivor, updated_at=timezone.now())
        _combine_allergy_status(absorbed, survivor)
        absorbed.merged_into, absorbed.merged_at = survivor, timezone.now()
        absorbed.save_versioned(absorbed.version, ["merged_into", "merged_at"])
        audit.record(
            "patients.patient.merged", obj=absorbed, patient=survivor,
            details={
                "absorbed_mrn": absorbed.mrn, "absorbed_id": str(absorbed.public_id),
                "survivor_mrn": survivor.mrn, "survivor_id": str(survivor.public_id),
                "records": counts, "moved": {str(k): v for k, v in moved.items()},
            },
        )
    return survivor


def _combine_allergy_status(absorbed: Patient, survivor: Patient) -> None:
    """After the move the survivor lists both charts' allergies: its status must say what is now true."""
    if survivor.allergies.exists():
        status = AllergyStatus.HAS_ALLERGIES
    elif AllergyStatus.NKDA in (survivor.allergy_status, absorbed.allergy_status):
        status = AllergyStatus.NKDA  # one chart recorded the answer and neither lists an allergy
    else:
        status = AllergyStatus.UNKNOWN
    if status != survivor.allergy_status:
        before = survivor.allergy_status
        survivor.allergy_status = status
        survivor.save_versioned(survivor.version, ["allergy_status"])
        audit.record("patients.allergy_status.recorded", obj=survivor,
                     details={"before": before, "after": status, "via": "merge"})
