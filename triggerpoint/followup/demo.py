"""Demo follow-up: an on-call rota per clinic, some answered check-ins, one open urgent alert, one acknowledged.

Check-ins are created by the `procedure_signed` receiver when a note is signed. Check-ins
are only useful in the first days after a procedure, so when the procedures demo has no
note from the last two days this signs a few more (through the procedures services, with
the procedures demo's own note builder, the portal patient first so the portal shows a
check-in to answer). A few check-ins are then answered the way patients would (same
service, same triage), so every disposition and alert in the demo is what the rules say.
Deterministic from ctx.rng.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from triggerpoint.core.context import acting_as
from triggerpoint.followup.calls import add_call_note
from triggerpoint.followup.checkins import report_problem, submit_checkin
from triggerpoint.followup.models import (
    Alert,
    AnsweredVia,
    CheckIn,
    CheckInStatus,
    OnCallSchedule,
    OnCallSlot,
)
from triggerpoint.procedures import demo as procedures_demo
from triggerpoint.procedures.selectors import signed_procedures

ROTAS = {
    0: (("nurse.okafor", "(555) 010-2101"), ("dr.rivera", "(555) 010-2102"), ("dr.chen", "(555) 010-2103")),
    1: (("nurse.adams", "(555) 010-3101"), ("dr.berg", "(555) 010-3102")),
}
QUIET_ANSWERS = (
    {"symptoms": ["site_soreness"], "pain_now": 3, "relief_percent": 50, "free_text": ""},
    {"symptoms": ["bruising"], "pain_now": 2, "relief_percent": 70, "free_text": "small bruise on the left side"},
    {"symptoms": [], "pain_now": 1, "relief_percent": 80, "free_text": "feeling much better, no fever"},
    {"symptoms": ["other_concern"], "pain_now": 5, "relief_percent": 20,
     "free_text": "can I go back to the gym this week?"},
)
URGENT_ANSWER = {"symptoms": ["site_redness", "fever"], "temperature": {"value": 101.8, "unit": "F"}, "pain_now": 6,
                 "relief_percent": 10, "free_text": "the spot on my shoulder is red and warm since this morning"}
ACKNOWLEDGED_ANSWER = {"symptoms": ["hives", "itching"], "pain_now": 3, "relief_percent": 40,
                       "free_text": "itchy bumps on my arms after the shot"}


def _rotas(ctx) -> None:
    for index, people in ROTAS.items():
        schedule, _ = OnCallSchedule.objects.get_or_create(clinic=ctx.clinics[index])
        for position, (username, phone) in enumerate(people):
            if username in ctx.staff:
                OnCallSlot.objects.create(schedule=schedule, user=ctx.staff[username], position=position, phone=phone)


def _open_checkins(clinic, now):
    return list(CheckIn.objects.filter(clinic=clinic, status=CheckInStatus.DUE, due_at__lte=now, expires_at__gt=now)
                .select_related("procedure", "patient").order_by("due_at", "id"))


def _recent_procedures(clinic, now, within_days: int):
    earliest = timezone.localtime(now, clinic.zone).date() - timedelta(days=within_days)
    return list(signed_procedures(clinic=clinic, procedure_date__gte=earliest)
                .select_related("patient").order_by("-procedure_date", "id"))


def _sign_recent_procedures(ctx, now) -> int:
    """Sign up to four notes from yesterday and the day before, if the demo has none that recent."""
    clinic_a, clinic_b = ctx.clinics[0], ctx.clinics[1]
    if len(_recent_procedures(clinic_a, now, within_days=2)) >= 3:
        return 0
    today = timezone.localtime(now, clinic_a.zone).date()
    busy = set(_recent_procedures(clinic_a, now, 14)) | set(_recent_procedures(clinic_b, now, 14))
    busy_patients = {p.patient_id for p in busy}
    candidates = [p for p in ctx.patients if p.weight_kg and p.pk not in busy_patients]
    if ctx.portal_patient is not None and ctx.portal_patient in candidates:
        candidates.remove(ctx.portal_patient)
        candidates.insert(0, ctx.portal_patient)
    plan = [  # (clinic, physician, days ago, sites)
        (clinic_a, "dr.rivera", 1, [("upper_trapezius", "left"), ("levator_scapulae", "left")]),
        (clinic_a, "dr.chen", 1, [("upper_trapezius", "right"), ("rhomboids", "right")]),
        (clinic_a, "dr.rivera", 2, [("quadratus_lumborum", "left"), ("gluteus_medius", "left")]),
        (clinic_b, "dr.berg", 1, [("infraspinatus", "right"), ("upper_trapezius", "right")]),
    ]
    signed = 0
    for index, (clinic, username, days_ago, sites) in enumerate(plan):
        on = today - timedelta(days=days_ago)
        patient = next((p for p in candidates
                        if p.clinic_id == clinic.pk and procedures_demo._dated_weight_ok(p, on)), None)
        if patient is None or username not in ctx.staff:
            continue
        candidates.remove(patient)
        document = procedures_demo._note(ctx, sites, index)
        procedures_demo._procedure(ctx, ctx.staff[username], patient, on, document)
        signed += 1
    return signed


def extend(ctx) -> None:
    _rotas(ctx)
    extra_signed = _sign_recent_procedures(ctx, timezone.now())
    now = timezone.now()
    clinic = ctx.clinics[0]
    portal_id = ctx.portal_patient.pk if ctx.portal_patient is not None else None
    # The portal patient's check-ins stay unanswered, so the portal shows one to answer.
    open_checkins = [c for c in _open_checkins(clinic, now) if c.patient_id != portal_id]
    ctx.rng.shuffle(open_checkins)
    recent = [p for p in _recent_procedures(clinic, now, within_days=4) if p.patient_id != portal_id]
    answered = 0

    # Acknowledged: a patient reported hives 50 minutes ago; the nurse called 6 minutes later.
    reporter = recent[-1] if recent else None
    if reporter is not None:
        checkin = report_problem(reporter, ACKNOWLEDGED_ANSWER, via=AnsweredVia.PORTAL,
                                          now=now - timedelta(minutes=50))[0]
        answered += 1
        alert = Alert.objects.filter(checkin=checkin).first()
        if alert is not None:
            nurse = ctx.staff["nurse.okafor"]
            with acting_as(nurse):
                add_call_note(nurse, alert.patient, outcome="reached", alert=alert,
                                       now=alert.raised_at + timedelta(minutes=6),
                                       note="Hives on both forearms, no lip or throat swelling, breathing fine. "
                                            "Advised an oral antihistamine; will call back in 2 hours.")

    # Open: a check-in answered a few minutes ago with a fever and a red, warm site.
    target = next((c for c in open_checkins if reporter is None or c.procedure_id != reporter.pk), None)
    if target is not None:
        open_checkins.remove(target)
        submit_checkin(target, URGENT_ANSWER, via=AnsweredVia.LINK, now=max(target.due_at, now))
        answered += 1
    elif recent:
        report_problem(recent[0], URGENT_ANSWER, via=AnsweredVia.PORTAL, now=now)
        answered += 1

    # A few quiet answers: expected soreness, a bruise, a question for the team.
    for index, checkin in enumerate(open_checkins[:3]):
        submit_checkin(checkin, QUIET_ANSWERS[index % len(QUIET_ANSWERS)], via=AnsweredVia.LINK,
                                now=max(checkin.due_at, now))
        answered += 1

    total = CheckIn.objects.filter(clinic__in=ctx.clinics).count()
    open_alerts = Alert.objects.filter(clinic__in=ctx.clinics, status="open").count()
    acked = Alert.objects.filter(clinic__in=ctx.clinics, status="acknowledged").count()
    ctx.notes.append(
        f"followup: {total} check-ins ({answered} answered), {open_alerts} open and {acked} acknowledged alert(s); "
        f"on-call rotas for {len(ROTAS)} clinics"
        + (f"; signed {extra_signed} notes from the last two days so check-ins are current" if extra_signed else "")
    )
