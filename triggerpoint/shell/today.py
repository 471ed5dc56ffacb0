"""The worklist's "Today": the clinic's appointments in time order, each patient's readiness at a glance.

Each chip is ok / attention / not applicable, with the reason (read on hover and on keyboard focus)
and a link to where it is fixed. The facts come from each app's public reads, a fixed number of
queries for the whole day (appointments, screenings with their consent, open alerts, notes):
a 30-row day costs what a 3-row day does. The front desk sees one neutral chip instead of the
clinical ones (`patient.view_clinical`): whether a clinician needs to look, never why.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse

from triggerpoint.accounts.policy import can
from triggerpoint.atlas.catalog import BODY_REGION_LABELS
from triggerpoint.core.worklist import WorklistSection
from triggerpoint.followup.selectors import open_alerts
from triggerpoint.outcomes.services import repeat_timing_for_day
from triggerpoint.patients.selectors import allergies_asked, chart_ids_by_patient
from triggerpoint.procedures.note_reads import NOTE_DOSING_POLICY
from triggerpoint.procedures.selectors import notes_for_appointments
from triggerpoint.scheduling import rules, selectors
from triggerpoint.scheduling.day_table import STEP_BUTTONS, status_time
from triggerpoint.scheduling.services import clinician_name
from triggerpoint.screening.selectors import screening_readiness, screenings_for_day

OK, ATTENTION, NOT_APPLICABLE = "ok", "attention", "na"
# Only the first steps of the day are one click from the worklist; done/no-show stay on the day view.
ONE_CLICK = {rules.ARRIVED, rules.IN_ROOM}


@dataclass(frozen=True)
class Chip:
    label: str
    state: str
    reason: str
    fix_url: str = ""


# Right after follow-up's urgent alerts (priority 0), before every other section.
TODAY_PRIORITY = 1


def sections(user, mine: bool = False) -> list[WorklistSection]:
    """The "Today" section for staff who work the worklist (physicians, nurses, front desk)."""
    if not user.clinic_id or not can(user, "worklist.view"):
        return []
    clinic = user.clinic
    day = selectors.clinic_today(clinic)
    appointments = list(selectors.appointments_for_day(clinic, day, clinician=user if mine else None))
    clinical = can(user, "patient.view_clinical")
    patient_ids = {a.patient_id for a in appointments}
    screenings = screenings_for_day(patient_ids, day)
    alerts: dict[int, list] = {}
    asked_by: dict[int, list[int]] = {}  # every chart of the day's patients (a merge) -> the booked chart's pk
    for asked, charts in chart_ids_by_patient(patient_ids).items():
        for chart in charts:
            asked_by.setdefault(chart, []).append(asked)
    for alert in open_alerts(clinic).filter(patient_id__in=list(asked_by)).order_by("created_at"):
        for asked in asked_by[alert.patient_id]:
            alerts.setdefault(asked, []).append(alert)
    # The repeat rule by area (outcomes), for the areas the day's screening plans.
    timing = repeat_timing_for_day({a.patient_id: _planned_muscles(screenings.get(a.patient_id)) for a in appointments
                                    if selectors.is_procedure_visit(a)}, day)
    notes = notes_for_appointments([a.pk for a in appointments]) if can(user, "procedure.view") else {}
    zone, step_base = clinic.zone, reverse("scheduling:day")
    rows = []
    for a in appointments:
        patient = a.patient
        procedure = selectors.is_procedure_visit(a)
        chips = _chips(patient, procedure, screenings.get(patient.pk), alerts.get(patient.pk, []), day, a.public_id)
        chips.insert(4, _repeat_chip(patient, procedure, timing.get(patient.pk), day))
        if not clinical:
            chips = [_neutral(chips)]
        rows.append({
            "a": a, "patient": patient, "chips": chips,
            "start": a.starts_at.astimezone(zone).strftime("%H:%M"),
            "clinician": clinician_name(a.clinician),
            "status_at": status_time({"status": a.status, "arrived_at": a.arrived_at, "in_room_at": a.in_room_at,
                                      "cancel_reason": a.cancel_reason}, zone),
            "chart": reverse("patients:chart", args=[patient.public_id]),
            "step_url": f"{step_base}patients/{patient.public_id}/appointments/{a.public_id}/status/",
            "steps": [(t, label) for t, label in STEP_BUTTONS.get(a.status, []) if t in ONE_CLICK],
            "note_url": notes.get(a.pk, ""),
        })
    return [WorklistSection(
        title="Today", template="core/_today.html", priority=TODAY_PRIORITY, count=len(rows),
        context={"rows": rows, "day": day, "mine": mine, "clinical": clinical,
                 "next": reverse("core:worklist") + ("?mine=1" if mine else "")})]


def _chips(patient, procedure: bool, screening, alerts: list, day, appointment_id=None) -> list[Chip]:
    """The readiness of one patient for one visit; screening and consent only matter before a procedure.
    A new screening opened from here is for this appointment (its date is prefilled from it)."""
    chips = []
    new_screening = reverse("screening:create", args=[patient.public_id])
    if appointment_id is not None:
        new_screening += f"?appointment={appointment_id}"
    if not procedure:
        chips.append(Chip("Screening", NOT_APPLICABLE, "Not a procedure visit: no screening needed."))
        chips.append(Chip("Consent", NOT_APPLICABLE, "Not a procedure visit: no consent needed."))
    elif screening is None:
        chips.append(Chip("Screening", ATTENTION, "No screening for this procedure yet.", new_screening))
        chips.append(Chip("Consent", ATTENTION, "No consent: it is generated from the screening.", new_screening))
    else:
        url = reverse("screening:detail", args=[patient.public_id, screening.public_id])
        chips.append(_screening_chip(screening, url))
        chips.append(Chip("Consent", OK, "Consent signed.", url) if screening.consent_signed
                     else Chip("Consent", ATTENTION, "Consent not signed yet.", url))
    chart = reverse("patients:chart", args=[patient.public_id])
    if allergies_asked(patient):
        chips.append(Chip("Allergies", OK, f"Allergies recorded: {patient.get_allergy_status_display()}.", chart))
    else:
        chips.append(Chip("Allergies", ATTENTION, "Allergy status not recorded (never asked).", chart))
    chips.append(_weight_chip(patient, procedure, day))
    if alerts:
        alert = alerts[0]
        chips.append(Chip("Alerts", ATTENTION, f"{len(alerts)} open follow-up alert{'s' if len(alerts) > 1 else ''}.",
                          reverse("followup:alert", args=[patient.public_id, alert.public_id])))
    else:
        chips.append(Chip("Alerts", OK, "No open follow-up alerts."))
    return chips


def _screening_chip(screening, url: str) -> Chip:
    ready, reason = screening_readiness(screening)
    return Chip("Screening", OK if ready else ATTENTION, reason, url)


def _weight_chip(patient, procedure: bool, day) -> Chip:
    """The dose check's own recency rule (procedures' note dosing policy), so both say the same."""
    edit = reverse("patients:edit", args=[patient.public_id])
    limit = NOTE_DOSING_POLICY.weight_max_age_days
    measured = patient.weight_measured_on
    if patient.weight_kg and measured and (day - measured).days <= limit:
        return Chip("Weight", OK, f"Weight measured {measured.isoformat()}.", edit)
    state = ATTENTION if procedure else NOT_APPLICABLE
    if not patient.weight_kg or not measured:
        return Chip("Weight", state, "No dated weight: the dose check needs one.", edit)
    return Chip("Weight", state, f"Weight from {measured.isoformat()} is older than {limit} days.", edit)


def _planned_muscles(screening) -> list[str]:
    plan = (screening.plan or {}) if screening is not None else {}
    return [site.get("muscle") for site in plan.get("sites", []) if isinstance(site, dict) and site.get("muscle")]


def _repeat_chip(patient, procedure: bool, timing, day) -> Chip:
    """Too soon, or one session too many? The repeat rule of outcomes (`outcomes.services.repeat_timing_for_day`:
    the payer policy's interval in the same area and sessions in a rolling year), for the areas the day's
    screening plans — or, with nothing planned yet, the areas of the last session. The link goes to the
    screening, where the plan and the full check by area are."""
    if not procedure:
        return Chip("Repeat", NOT_APPLICABLE, "Not a procedure visit: no repeat interval to check.")
    screening_url = reverse("screening:patient_screenings", args=[patient.public_id])
    if timing is None or timing.last_session is None:
        return Chip("Repeat", OK, "No earlier signed procedure.", screening_url)
    days = (day - timing.last_session).days
    areas = " and ".join(BODY_REGION_LABELS.get(region, region) for region in timing.regions)
    which = (f"No areas planned yet; checked for the areas of the last session ({areas})" if timing.assumed
             else f"Planned areas: {areas}")
    if timing.ok:
        return Chip("Repeat", OK, f"{which}: the payer policy's interval and session limits are met "
                                  f"(last procedure {timing.last_session.isoformat()}, {days} days ago).", screening_url)
    problems = "; ".join(finding.message for finding in timing.not_met)
    return Chip("Repeat", ATTENTION, f"{which}: {problems}.", screening_url)


def _neutral(chips: list[Chip]) -> Chip:
    """What the front desk may see: whether a clinician needs to look, not what they will find."""
    if any(chip.state == ATTENTION for chip in chips):
        return Chip("Needs clinician review", ATTENTION, "A clinician needs to check this patient before the visit.")
    return Chip("Ready", OK, "Nothing for a clinician to check before the visit.")
