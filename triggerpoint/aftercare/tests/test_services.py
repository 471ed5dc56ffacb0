"""Creating a plan when a procedure note is signed: content from the record, reminders in the
outbox in the same transaction, in the clinic's time zone, by the patient's channel, once."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.utils import timezone

from triggerpoint.aftercare import plan_pages, record_inputs, services
from triggerpoint.aftercare.models import AftercarePlan
from triggerpoint.aftercare.plan_template import load_template
from triggerpoint.aftercare.receivers import create_plan_on_signature
from triggerpoint.aftercare.tests.factories import plan_for, signed_procedure
from triggerpoint.audit.models import AuditEvent
from triggerpoint.notifications import services as outbox
from triggerpoint.notifications.models import ContactPreference, Notification, Status
from triggerpoint.patients.models import Medication, RiskFactor
from triggerpoint.procedures.models import Procedure
from triggerpoint.procedures.signals import procedure_signed

pytestmark = pytest.mark.django_db

TOMORROW = timezone.localdate() + timedelta(days=1)


def task_ids(plan: AftercarePlan) -> set[str]:
    return {task["id"] for day in plan.days for task in day["tasks"]}


def messages_of(plan: AftercarePlan):
    return list(services.reminders_for(plan))


def test_signing_a_procedure_creates_its_plan_from_the_sites_injectates_and_conditions(patient):
    RiskFactor.objects.create(clinic=patient.clinic, patient=patient, kind="diabetes")
    procedure = signed_procedure(
        patient, sites=(("upper_trapezius", "left"), ("upper_trapezius", "right")), drugs=("lidocaine", "triamcinolone")
    )
    plan = plan_for(procedure)
    assert plan.patient == patient and plan.clinic == patient.clinic
    assert plan.procedure_date == procedure.procedure_date
    assert {"steroid_flare", "steroid_blood_glucose", "warning_chest", "stretch"} <= task_ids(plan)
    stretch = next(t for t in plan.days[1]["tasks"] if t["id"] == "stretch")
    assert stretch["muscle"] == "upper_trapezius" and stretch["sides"] == ["left", "right"]
    assert plan.inputs["patient"]["conditions"] == ["diabetes"]
    assert plan.template_id == "default" and plan.template_version == load_template().version
    assert plan.plan["activity_restriction_until"] == (procedure.procedure_date + timedelta(days=3)).isoformat()


def test_an_antidiabetic_medication_counts_as_diabetes_and_no_steroid_means_no_glucose_note(patient):
    Medication.objects.create(clinic=patient.clinic, patient=patient, name="Metformin", drug_class="antidiabetic")
    assert record_inputs.patient_conditions(patient) == ["diabetes"]
    plan = plan_for(signed_procedure(patient, drugs=("lidocaine",)))
    assert "steroid_blood_glucose" not in task_ids(plan)
    assert "warning_chest" not in task_ids(plan)  # masseter is not over the thorax


def test_a_stopped_antidiabetic_does_not_count(patient):
    Medication.objects.create(
        clinic=patient.clinic, patient=patient, name="Metformin", drug_class="antidiabetic", active=False
    )
    assert record_inputs.patient_conditions(patient) == []


def test_botulinum_toxin_gives_its_notes(patient):
    plan = plan_for(signed_procedure(patient, drugs=("onabotulinumtoxinA",)))
    assert {"botulinum_toxin_onset", "botulinum_toxin_spread"} <= task_ids(plan)


def test_a_spanish_speaking_patient_gets_a_spanish_plan_and_messages(patient):
    patient.preferred_language = "es"
    patient.save()
    plan = plan_for(signed_procedure(patient, on=TOMORROW))
    assert plan.language == "es"
    assert plan.days[0]["tasks"][0]["text"].startswith("Hoy ponga hielo")
    first = messages_of(plan)[0]
    assert first.subject.startswith("Su plan de cuidados")
    assert "Abra su plan" in first.body


def test_receiver_is_connected_to_procedure_signed():
    # Public Signal API only: disconnect answers whether that receiver was connected.
    was_connected = procedure_signed.disconnect(dispatch_uid="aftercare.create_plan_on_signature")
    procedure_signed.connect(create_plan_on_signature, dispatch_uid="aftercare.create_plan_on_signature")
    assert was_connected, "AftercareConfig.ready() did not connect create_plan_on_signature"


def test_running_the_receiver_again_creates_nothing_new(patient):
    procedure = signed_procedure(patient, on=TOMORROW)
    plan = plan_for(procedure)
    before = Notification.objects.count()
    with transaction.atomic():
        create_plan_on_signature(sender=Procedure, procedure=procedure)
    assert services.create_plan_for_procedure(procedure) == plan
    assert AftercarePlan.objects.filter(procedure=procedure).count() == 1
    assert Notification.objects.count() == before


def test_a_draft_note_gets_no_plan(patient):
    procedure = signed_procedure(patient, signed=False)
    with pytest.raises(services.PlanRefused, match="signed"):
        services.create_plan_for_procedure(procedure)
    assert not AftercarePlan.objects.exists()


def test_a_plan_that_cannot_be_built_does_not_block_the_signature_and_is_audited(patient):
    procedure = signed_procedure(patient, sites=(), send_signal=False)  # no treated site
    with transaction.atomic():
        create_plan_on_signature(sender=Procedure, procedure=procedure)
    assert not AftercarePlan.objects.exists()
    event = AuditEvent.objects.get(action="aftercare.plan.not_created")
    assert "sites" in " ".join(event.details["problems"])


@pytest.mark.django_db(transaction=True)
def test_plan_and_reminders_roll_back_with_a_failed_signature(clinic_a):
    from triggerpoint.conftest import make_patient

    patient = make_patient(clinic_a, "TX-9")
    procedure = signed_procedure(patient, send_signal=False, on=TOMORROW)
    with pytest.raises(RuntimeError), transaction.atomic():
        create_plan_on_signature(sender=Procedure, procedure=procedure)
        assert AftercarePlan.objects.count() == 1 and Notification.objects.count() > 0
        raise RuntimeError("signing failed after the receivers ran")
    assert AftercarePlan.objects.count() == 0
    assert Notification.objects.count() == 0


def test_reminders_are_written_at_local_clock_times_of_the_clinic(patient):
    clinic = patient.clinic
    clinic.time_zone = "America/Los_Angeles"
    clinic.save()
    plan = plan_for(signed_procedure(patient, on=TOMORROW))
    zone = ZoneInfo("America/Los_Angeles")
    reminders = [n for n in messages_of(plan) if n.kind == services.REMINDER_KIND]
    assert reminders, "the default template schedules reminders"
    for note in reminders:
        local = note.send_after.astimezone(zone)
        assert local.time() in (time(8, 0), time(18, 0))
        assert TOMORROW <= local.date() <= TOMORROW + timedelta(days=10)
    day1 = next(n for n in reminders if "day1-morning-start-heat-and-stretching" in n.idempotency_key)
    assert day1.send_after.astimezone(zone) == datetime.combine(TOMORROW + timedelta(days=1), time(8), tzinfo=zone)


def test_idempotency_keys_name_the_plan_and_the_reminder(patient):
    plan = plan_for(signed_procedure(patient, on=TOMORROW))
    keys = [n.idempotency_key for n in messages_of(plan)]
    assert len(keys) == len(set(keys))
    assert all(key.startswith(f"aftercare:{plan.public_id}:") for key in keys)
    assert f"aftercare:{plan.public_id}:plan-link" in keys


def test_the_first_message_carries_a_link_that_opens_this_plan(patient):
    plan = plan_for(signed_procedure(patient, on=TOMORROW))
    first = messages_of(plan)[0]
    assert first.kind == services.LINK_KIND and first.channel == "email" and first.to == patient.email
    url = next(line for line in first.body.splitlines() if "/aftercare/p/" in line)
    token = url.rstrip("/").split("/")[-1]
    link = outbox.resolve_link(token, services.LINK_PURPOSE)
    assert link.target_id == str(plan.public_id)
    assert link.expires_at - timezone.now() > timedelta(days=29)
    assert all("/aftercare/p/" not in n.body for n in messages_of(plan)[1:])


def test_sms_is_used_when_the_patient_prefers_it(patient):
    patient.phone = "+15550100"
    patient.save()
    ContactPreference.objects.create(patient=patient, preferred_channel="sms")
    plan = plan_for(signed_procedure(patient, on=TOMORROW))
    assert plan.reminder_channel == "sms"
    assert {(n.channel, n.to) for n in messages_of(plan)} == {("sms", "+15550100")}


def test_email_is_the_fallback_when_the_preferred_sms_has_no_number(patient):
    ContactPreference.objects.create(patient=patient, preferred_channel="sms")
    plan = plan_for(signed_procedure(patient, on=TOMORROW))
    assert plan.reminder_channel == "email" and "Preferred channel" in plan.reminder_note


def test_no_contact_details_means_no_messages_and_a_note_on_the_plan(patient):
    patient.email = ""
    patient.save()
    plan = plan_for(signed_procedure(patient))
    assert messages_of(plan) == []
    assert plan.reminder_channel == "" and "No email or mobile" in plan.reminder_note


def test_reminders_whose_time_has_passed_are_recorded_cancelled_not_sent(patient):
    late_signature = signed_procedure(patient, on=timezone.localdate() - timedelta(days=4))
    notes = messages_of(plan_for(late_signature))
    late = [n for n in notes if n.status == Status.CANCELLED]
    assert late and all(n.last_error == services.TOO_LATE_REASON for n in late)
    assert all(n.send_after < timezone.now() for n in late)
    pending = [n for n in notes if n.status == Status.PENDING]
    assert pending and all(n.send_after > timezone.now() - timedelta(hours=2) for n in pending)


def test_a_patient_who_opted_out_gets_the_plan_but_no_messages(patient):
    outbox.set_reminder_opt_out(patient, True)
    plan = plan_for(signed_procedure(patient, on=TOMORROW))
    assert {n.status for n in messages_of(plan)} == {Status.CANCELLED}


def test_physical_therapy_can_be_planned_when_creating_by_hand(patient):
    procedure = signed_procedure(patient, send_signal=False)
    plan = services.create_plan_for_procedure(procedure, physical_therapy=True)
    assert "physical_therapy_follow_up" in task_ids(plan)


def test_creating_a_plan_is_audited(patient):
    plan = plan_for(signed_procedure(patient, on=TOMORROW))
    actions = set(AuditEvent.objects.filter(object_id=str(plan.public_id)).values_list("action", flat=True))
    assert {"aftercare.plan.created", "aftercare.reminders.scheduled"} <= actions


def test_ticking_a_task_records_it_once_and_unticking_reverses_it(patient):
    plan = plan_for(signed_procedure(patient))
    services.set_task_done(plan, 1, "heat", True, "portal")
    services.set_task_done(plan, 1, "heat", True, "portal")
    check = plan.checks.get()
    assert check.done and check.checked_at is not None
    services.set_task_done(plan, 1, "heat", False, "link")
    check.refresh_from_db()
    assert not check.done and check.checked_at is None and check.source == "link"
    assert plan_pages.plan_view(plan).days[1].done_count == 0


def test_a_per_muscle_task_is_ticked_per_muscle(patient):
    plan = plan_for(signed_procedure(patient, sites=(("masseter", "left"), ("temporalis", "left"))))
    services.set_task_done(plan, 2, "stretch:masseter", True, "portal")
    day = plan_pages.plan_view(plan).days[2]
    assert {t.key: t.done for t in day.to_do if t.kind == "stretch"} == {
        "stretch:masseter": True, "stretch:temporalis": False,
    }


@pytest.mark.parametrize(
    ("day", "key", "problem"),
    [(11, "heat", "no day 11"), (0, "heat", "no task 'heat'"), (0, "warning_signs", "information")],
)
def test_only_real_checkable_tasks_can_be_ticked(patient, day, key, problem):
    plan = plan_for(signed_procedure(patient))
    with pytest.raises(services.RuleInputError, match=problem):
        services.set_task_done(plan, day, key, True, "portal")


def test_the_plan_view_shows_today_and_each_warning_once(patient):
    procedure_day = timezone.localdate()
    plan = plan_for(signed_procedure(patient, sites=(("upper_trapezius", "left"),), on=procedure_day))
    view = plan_pages.plan_view(plan, today=procedure_day + timedelta(days=2))
    assert view.today_view.number == 2
    assert [w.until for w in view.warnings] == [procedure_day + timedelta(days=5)] * 2  # general + chest
    assert not view.finished
    assert plan_pages.plan_view(plan, today=procedure_day + timedelta(days=11)).finished
    assert [a.slug for a in view.articles][:1] == ["aftercare"]


def test_stopping_reminders_cancels_the_pending_ones(patient):
    plan = plan_for(signed_procedure(patient, on=TOMORROW))
    services.stop_reminders(plan, via="link")
    assert {n.status for n in messages_of(plan)} == {Status.CANCELLED}
    assert AuditEvent.objects.filter(action="aftercare.reminders.stopped").exists()


def test_times_are_utc_in_storage(patient):
    plan = plan_for(signed_procedure(patient, on=TOMORROW))
    assert all(n.send_after.utcoffset() == UTC.utcoffset(None) for n in messages_of(plan))


def test_days_with_the_same_tasks_are_grouped_for_print(patient):
    plan = plan_for(signed_procedure(patient, drugs=("triamcinolone",)))
    groups = plan_pages.plan_view(plan).day_groups
    assert [(g.first.number, g.last.number) for g in groups] == [(0, 0), (1, 3), (4, 10)]
    with_pt = services.create_plan_for_procedure(signed_procedure(patient, send_signal=False), physical_therapy=True)
    groups = plan_pages.plan_view(with_pt).day_groups
    assert [(g.first.number, g.last.number) for g in groups] == [(0, 0), (1, 1), (2, 3), (4, 10)]


def test_the_adherence_grid_counts_ticks_per_task(patient):
    plan = plan_for(signed_procedure(patient))
    services.set_task_done(plan, 1, "heat", True, "portal")
    services.set_task_done(plan, 2, "heat", True, "link")
    heat = next(row for row in plan_pages.plan_view(plan).adherence if row.task.key == "heat")
    assert (heat.done, heat.due) == (2, 10)
    assert heat.cells[0] is None and heat.cells[1] is True and heat.cells[3] is False


def test_a_deep_site_on_a_blood_thinner_adds_the_haematoma_warning_in_the_patients_language(patient):
    """Issue 14: the plan warns the patient that screening SCR-DEEP-SITE-BLEEDING flagged (gluteus medius, clopidogrel)."""
    Medication.objects.create(clinic=patient.clinic, patient=patient, name="Clopidogrel 75 mg", drug_class="antiplatelet")
    plan = plan_for(signed_procedure(patient, sites=(("gluteus_medius", "left"),)))
    assert "haematoma_risk" in plan.inputs["patient"]["conditions"]
    assert "warning_haematoma" in task_ids(plan)
    (warning,) = [t for t in plan.days[0]["tasks"] if t["id"] == "warning_haematoma"]
    assert "weak or numb" in warning["text"] and "911" in warning["text"]
    assert "warning_haematoma" not in {t["id"] for t in plan.days[3]["tasks"]}  # days 0 to 2


def test_aspirin_filed_as_an_nsaid_still_counts_for_the_haematoma_warning(patient):
    Medication.objects.create(clinic=patient.clinic, patient=patient, name="Aspirin 81 mg", drug_class="nsaid")
    assert "warning_haematoma" in task_ids(plan_for(signed_procedure(patient, sites=(("piriformis", "right"),))))


def test_a_compressible_site_on_a_blood_thinner_has_no_haematoma_warning(patient):
    Medication.objects.create(clinic=patient.clinic, patient=patient, name="Apixaban 5 mg", drug_class="anticoagulant")
    assert "warning_haematoma" not in task_ids(plan_for(signed_procedure(patient, sites=(("masseter", "left"),))))


def test_a_deep_site_without_a_blood_thinner_has_no_haematoma_warning(patient):
    assert "warning_haematoma" not in task_ids(plan_for(signed_procedure(patient, sites=(("gluteus_medius", "left"),))))
