"""What a patient's signed procedure notes say about earlier exposure and earlier sessions.

Read by the dose check at signing (toxin interval and window, 12-month steroid
total), by the payer repeat check (same region too soon, too many sessions) and by
the screening result, so all three count the same notes the same way:

* only **signed** notes count (a draft may never be given; a discarded draft was not);
* doses come from the dose check stored when each note was signed (what the
  physician signed), in mg for steroids and units for toxins;
* windows count back from the date asked about, inclusive of that day.

The decisions themselves are pure functions (`exposure`, `coding.repeat_findings`);
this module only reads the database.

A patient's notes are those of every chart that makes up the patient (`patients.selectors.chart_ids`):
after a merge the absorbed chart's signed notes stay where they were signed and still count.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, IntegerField, Max, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.urls import reverse

from triggerpoint.accounts.policy import get_record_for_user
from triggerpoint.atlas.catalog import load_atlas
from triggerpoint.catalogues.drugs import load_drugs
from triggerpoint.patients.selectors import chart_ids
from triggerpoint.procedures import coding
from triggerpoint.procedures.exposure import PriorDose, load_limits
from triggerpoint.procedures.models import Amendment, Injectate, InjectionSite, Procedure, ProcedureStatus

# Far enough back for every window in the limits table (toxins 90 days, steroids 365 days).
HISTORY_DAYS = 365


def signed_procedures(**filters):
    """Signed procedure notes (the legal record), narrowed by `filters` (patient, clinic, procedure_date…).

    The one way other apps ask for signed notes: what "signed" means stays in this app.
    """
    return Procedure.objects.filter(status=ProcedureStatus.SIGNED, **filters)


def signed_sites(**filters):
    """Injection sites of signed notes (``filters`` name the site's fields, e.g. ``procedure__patient_id``)."""
    return InjectionSite.objects.filter(procedure__status=ProcedureStatus.SIGNED, procedure__deleted_at__isnull=True,
                                        **filters)


def signed_injectates(**filters):
    """Injectates of signed notes (``filters`` name the injectate's fields, e.g. ``procedure__clinic_id``)."""
    return Injectate.objects.filter(procedure__status=ProcedureStatus.SIGNED, procedure__deleted_at__isnull=True,
                                    **filters)


# ------------------------------------------------------------------ a row's place in its note
# The order of a note's sites and of its injectates, defined once: the FHIR ids `<note>-<n>` and
# `<note>-m<n>` number them in it, so it must never change for a signed note. Sites: by position,
# then entry; injectates: by the site they were given at (none first), then entry.


def site_order(site) -> tuple:
    return (site.position, site.pk)


def injectate_order(injectate) -> tuple:
    return (injectate.site_id or 0, injectate.pk)


def _earlier_in_note(model, earlier: Q, **annotations):
    """How many rows of the same note come before the outer row: a correlated COUNT, so the number
    does not depend on what else the outer query filters out (one query for a page of any size)."""
    rows = model.objects.filter(procedure_id=OuterRef("procedure_id")).annotate(**annotations).filter(earlier)
    counted = rows.order_by().values("procedure_id").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def numbered_sites(**filters):
    """`signed_sites(**filters)`, each with `place`: its place in its note (1-based, `site_order`)."""
    earlier = Q(position__lt=OuterRef("position")) | Q(position=OuterRef("position"), pk__lt=OuterRef("pk"))
    return signed_sites(**filters).annotate(place=_earlier_in_note(InjectionSite, earlier) + 1)


def numbered_injectates(**filters):
    """`signed_injectates(**filters)`, each with `place`: its place in its note (1-based, `injectate_order`)."""
    site_key = Coalesce("site_id", Value(0))
    earlier = Q(site_key__lt=OuterRef("site_key")) | Q(site_key=OuterRef("site_key"), pk__lt=OuterRef("pk"))
    return (signed_injectates(**filters).annotate(site_key=site_key)
            .annotate(place=_earlier_in_note(Injectate, earlier, site_key=site_key) + 1))


def amendments(**filters):
    """Amendments of signed notes (only a signed note is ever amended; the filter says so anyway)."""
    return Amendment.objects.filter(procedure__status=ProcedureStatus.SIGNED, procedure__deleted_at__isnull=True,
                                    **filters)


def _signed_before(patient, on_date: date, exclude_pk: int | None = None, days: int = HISTORY_DAYS):
    queryset = signed_procedures(
        patient_id__in=chart_ids(patient),
        procedure_date__lte=on_date,
        procedure_date__gt=on_date - timedelta(days=days),
    )
    if exclude_pk is not None:
        queryset = queryset.exclude(pk=exclude_pk)
    return queryset


def prior_doses(patient, on_date: date, *, exclude_pk: int | None = None) -> tuple[PriorDose, ...]:
    """Steroid (mg) and toxin (units) doses from the patient's signed notes in the year up to `on_date`."""
    doses: list[PriorDose] = []
    rows = _signed_before(patient, on_date, exclude_pk).order_by("procedure_date").values_list(
        "procedure_date", "dose_check"
    )
    for procedure_date, snapshot in rows:
        snapshot = snapshot or {}
        for key in ("corticosteroid_totals_mg", "botulinum_toxin_totals_units"):
            for drug, amount in (snapshot.get(key) or {}).items():
                if amount:
                    doses.append(PriorDose(on=procedure_date, drug=drug, amount=Decimal(str(amount))))
    return tuple(doses)


@dataclass(frozen=True)
class SteroidExposure:
    """Triamcinolone-equivalent mg from signed notes in the 12 months up to a date."""

    on_date: date
    window_days: int
    total_mg: Decimal
    sessions: tuple[tuple[date, Decimal], ...]

    @property
    def window_start(self) -> date:
        return self.on_date - timedelta(days=self.window_days - 1)

    def as_dict(self) -> dict[str, Any]:
        return {
            "on_date": self.on_date.isoformat(),
            "window_start": self.window_start.isoformat(),
            "triamcinolone_equivalent_mg": float(self.total_mg),
            "sessions": [{"date": d.isoformat(), "triamcinolone_equivalent_mg": float(mg)} for d, mg in self.sessions],
        }


def steroid_exposure_12m(patient, on_date: date, *, exclude_pk: int | None = None) -> SteroidExposure:
    """The patient's corticosteroid total (triamcinolone-equivalent mg) from signed notes in the 12 months to `on_date`."""
    limits = load_limits()
    start = on_date - timedelta(days=limits.steroid_window_days)
    by_day: dict[date, Decimal] = {}
    for dose in prior_doses(patient, on_date, exclude_pk=exclude_pk):
        if dose.on > start and dose.drug in limits.steroid_equivalents:
            tae = limits.triamcinolone_equivalent_mg(dose.drug, dose.amount)
            by_day[dose.on] = by_day.get(dose.on, Decimal(0)) + tae
    sessions = tuple(sorted(by_day.items()))
    return SteroidExposure(
        on_date=on_date,
        window_days=limits.steroid_window_days,
        total_mg=sum((mg for _, mg in sessions), Decimal(0)),
        sessions=sessions,
    )


def toxin_last_dose(patient, on_date: date | None = None, *, exclude_pk: int | None = None) -> PriorDose | None:
    """The latest botulinum toxin dose in the patient's signed notes (up to `on_date` when given)."""
    toxins = set(load_drugs().ids_of_class("botulinum_toxin"))
    queryset = Procedure.objects.filter(patient_id__in=chart_ids(patient), status=ProcedureStatus.SIGNED)
    if on_date is not None:
        queryset = queryset.filter(procedure_date__lte=on_date)
    if exclude_pk is not None:
        queryset = queryset.exclude(pk=exclude_pk)
    for procedure_date, snapshot in queryset.order_by("-procedure_date", "-signed_at").values_list(
        "procedure_date", "dose_check"
    ):
        given = ((snapshot or {}).get("botulinum_toxin_totals_units") or {}).items()
        found = [(drug, amount) for drug, amount in given if drug in toxins and amount]
        if found:
            drug, amount = max(found, key=lambda row: row[1])
            return PriorDose(on=procedure_date, drug=drug, amount=Decimal(str(amount)))
    return None


def session_history(
    patient,
    on_date: date,
    regions: Iterable[str],
    *,
    exclude_pk: int | None = None,
    include_same_day: bool = True,
) -> coding.SessionHistory:
    """The payer-rule history for a session on `on_date` in `regions`, from signed notes in the 12 months before.

    A session is one signed note; a note counts for a region when it injected a muscle of that region.
    `include_same_day` False leaves out notes of `on_date` itself (a screening for a session not yet held).
    """
    atlas = load_atlas()
    regions = set(regions)
    earlier = _signed_before(patient, on_date, exclude_pk, days=365).prefetch_related("sites")
    if not include_same_day:
        earlier = earlier.exclude(procedure_date=on_date)
    same_region_dates = []
    count = 0
    for other in earlier:
        count += 1
        other_regions = {
            atlas.muscle(site.muscle).body_region
            for site in other.sites.all()
            if site.technique == "injection" and atlas.has_muscle(site.muscle)
        }
        if other_regions & regions:
            same_region_dates.append(other.procedure_date)
    return coding.SessionHistory(
        sessions_last_12_months=count,
        sessions_same_region_last_12_months=len(same_region_dates),
        days_since_same_region=(on_date - max(same_region_dates)).days if same_region_dates else None,
    )


def latest_payer(patient, on_date: date) -> str | None:
    """The payer on the patient's latest signed note up to `on_date` (None: the clinic default applies).

    Only payers of the coder's payer table count; a note imported or written with another id
    (e.g. a repeat-policy id) falls back to the clinic default rather than failing.
    """
    known = set(coding.load_code_tables().payers)
    return (
        Procedure.objects.filter(
            patient_id__in=chart_ids(patient), status=ProcedureStatus.SIGNED, procedure_date__lte=on_date, payer__in=known
        )
        .order_by("-procedure_date")
        .values_list("payer", flat=True)
        .first()
    )


@dataclass(frozen=True)
class PlannedSessionChecks:
    """What the screening result shows about a planned session: repeat limits and exposure so far."""

    repeat_findings: tuple
    payer: str | None
    regions: tuple[str, ...]
    steroid: SteroidExposure
    last_toxin: PriorDose | None
    toxin_interval_days: int

    @property
    def toxin_too_soon(self) -> bool:
        return self.last_toxin is not None and (self.steroid.on_date - self.last_toxin.on).days < self.toxin_interval_days

    @property
    def last_toxin_name(self) -> str:
        return "" if self.last_toxin is None else load_drugs().get(self.last_toxin.drug).name

    @property
    def toxin_not_before(self) -> date | None:
        return None if self.last_toxin is None else self.last_toxin.on + timedelta(days=self.toxin_interval_days)


def planned_session_checks(patient, on_date: date, muscles: Iterable[str]) -> PlannedSessionChecks:
    """Repeat-limit findings for the planned muscles and the patient's steroid/toxin history, for the screening result."""
    atlas = load_atlas()
    regions = tuple(sorted({atlas.muscle(m).body_region for m in muscles if atlas.has_muscle(m)}))
    payer = latest_payer(patient, on_date)
    findings: tuple = ()
    if regions:
        # Notes signed on the planned day itself are this session's, not an earlier one.
        history = session_history(patient, on_date, regions, include_same_day=False)
        findings = coding.repeat_findings(payer, history)
    return PlannedSessionChecks(
        repeat_findings=findings,
        payer=payer or coding.load_code_tables().default_payer,
        regions=regions,
        steroid=steroid_exposure_12m(patient, on_date),
        last_toxin=toxin_last_dose(patient, on_date),
        toxin_interval_days=load_limits().toxin_min_days_between_sessions,
    )


def last_toxin_session_before(patient, before: date) -> date | None:
    """The date of the patient's last signed botulinum toxin procedure before `before`, or None (for screening)."""
    toxin_ids = load_drugs().ids_of_class("botulinum_toxin")
    return (
        Procedure.objects.filter(
            patient_id__in=chart_ids(patient), status=ProcedureStatus.SIGNED, procedure_date__lt=before, injectates__drug__in=toxin_ids
        )
        .order_by("-procedure_date")
        .values_list("procedure_date", flat=True)
        .first()
    )


def clinic_steroid_sessions_12m(patient, before: date) -> int:
    """Signed procedures at this clinic with a corticosteroid in the 12 months before `before` (for screening)."""
    steroid_ids = load_drugs().ids_of_class("corticosteroid")
    return (
        Procedure.objects.filter(
            patient_id__in=chart_ids(patient),
            status=ProcedureStatus.SIGNED,
            procedure_date__gte=before - timedelta(days=365),
            procedure_date__lt=before,
            injectates__drug__in=steroid_ids,
        )
        .distinct()
        .count()
    )


def last_procedure_dates(patient_ids: Iterable[int], before: date | None = None) -> dict[int, date]:
    """Each patient's latest signed procedure date (patients.last_visits asks for a page of results);
    with `before`, the latest before that day (today's session left out)."""
    filters: dict[str, Any] = {"patient_id__in": list(patient_ids)}
    if before is not None:
        filters["procedure_date__lt"] = before
    rows = signed_procedures(**filters).values("patient_id").annotate(latest=Max("procedure_date"))
    return {row["patient_id"]: row["latest"] for row in rows}


def procedure_for_patient(patient, public_id, *related: str) -> Procedure | None:
    """This patient's procedure note with that public id (any status), or None — for another app that was
    handed the id by a link or a form and must not reach into this app's table."""
    try:
        key = uuid.UUID(str(public_id))
    except ValueError:
        return None  # a form or link that names no note at all: nothing found, never a 500
    return Procedure.objects.select_related(*related).filter(patient_id__in=chart_ids(patient), public_id=key).first()


def get_procedure_for_user(user, public_id, action: str) -> Procedure:
    """The procedure note if this user may `action` it (404 out of scope, 403 for the wrong role)."""
    return get_record_for_user(user, Procedure, public_id, action)


def notes_for_appointments(appointment_ids: list[int]) -> dict[int, str]:
    """appointment id -> the address of the note written for it (the newest, drafts included), in one query."""
    found: dict[int, str] = {}
    rows = (Procedure.objects.filter(appointment_id__in=appointment_ids)
            .order_by("appointment_id", "-created_at").values_list("appointment_id", "public_id", "patient__public_id"))
    for appointment_id, public_id, patient_id in rows:
        found.setdefault(appointment_id, reverse("procedures:note", args=[patient_id, public_id]))
    return found


def locked_procedure(procedure) -> Procedure:
    """The note read again under a row lock held until the caller's transaction ends (deleted or not), with its
    clinic and patient: another app that makes one thing per note (an aftercare plan) checks and creates under it."""
    return Procedure.all_objects.select_for_update().select_related("clinic", "patient").get(pk=procedure.pk)


@dataclass(frozen=True)
class NoteTables:
    """The tables a procedure note is stored in: the note, its injection sites, its injectates."""

    procedure: type[Procedure]
    site: type[Any]
    injectate: type[Any]


def note_tables() -> NoteTables:
    """For a bulk loader of synthetic notes (the outcomes registry, `triggerpoint demo --procedures N`) only:
    it writes rows consistent by construction, column by column, at a scale the signing services are not for."""
    return NoteTables(procedure=Procedure, site=InjectionSite, injectate=Injectate)


def procedures_with_sites(procedure_ids: Iterable[int]) -> list[Procedure]:
    """These notes (any status) with their clinic, sites and injectates loaded: three queries however many."""
    return list(
        Procedure.objects.filter(pk__in=list(procedure_ids)).select_related("clinic").prefetch_related(
            "sites", "injectates"
        )
    )
