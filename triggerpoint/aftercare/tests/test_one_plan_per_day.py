"""Two notes for one patient on one procedure date: one aftercare plan covering both, one reminder series.

The second note (other muscles, another session) joins the day's plan: the plan is rebuilt from
both notes, so every warning either needs is in it, and its reminders are rescheduled once —
never a second series, never a reminder sent twice. Notes of different days keep their own plans.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from triggerpoint.aftercare import services
from triggerpoint.aftercare.models import AftercarePlan, PlanCoverage
from triggerpoint.aftercare.plan import reminder_schedule
from triggerpoint.aftercare.receivers import create_plan_on_signature
from triggerpoint.aftercare.tests.factories import plan_for, signed_procedure
from triggerpoint.audit.models import AuditEvent
from triggerpoint.notifications.models import Notification, Status
from triggerpoint.patients.models import RiskFactor
from triggerpoint.procedures.models import Procedure
from triggerpoint.procedures.signals import procedure_signed

pytestmark = pytest.mark.django_db

TOMORROW = timezone.localdate() + timedelta(days=1)


def task_ids(plan: AftercarePlan) -> set[str]:
    return {task["id"] for day in plan.days for task in day["tasks"]}


def reminder_rows(plan: AftercarePlan) -> list[Notification]:
    return list(services.reminders_for(plan).filter(kind=services.REMINDER_KIND))


def expected_keys(plan: AftercarePlan) -> set[str]:
    """The reminder keys the stored plan's own schedule names (computed from the plan, not hard-coded)."""
    rebuilt = services.build_plan(services.parse_plan_request(plan.inputs))
    assert rebuilt.as_dict() == plan.plan  # the stored plan is what its stored inputs build
    return {r.key for r in reminder_schedule(rebuilt, plan.clinic.zone, plan_key=str(plan.public_id))}


def test_a_second_note_of_the_day_joins_the_first_plan_with_its_sites_and_steroid_warnings(patient):
    first = signed_procedure(patient, on=TOMORROW, sites=(("masseter", "left"),), drugs=("lidocaine",))
    plan = plan_for(first)
    assert not {"steroid_flare", "warning_chest"} & task_ids(plan)

    second = signed_procedure(patient, on=TOMORROW, sites=(("upper_trapezius", "right"),), drugs=("triamcinolone",))

    assert AftercarePlan.objects.filter(patient=patient).count() == 1
    plan.refresh_from_db()
    assert services.plan_covering(second) == plan == services.plan_covering(first)
    assert list(plan.also_covers.all()) == [second]
    assert services.covered_procedures(plan) == [first, second]
    assert plan.inputs["sites"] == [{"muscle": "masseter", "side": "left"}, {"muscle": "upper_trapezius", "side": "right"}]
    assert plan.inputs["injectates"] == [{"drug": "lidocaine"}, {"drug": "triamcinolone"}]
    # The steroid of the second note and its thoracic site bring their warnings into the day's plan.
    assert {"steroid_flare", "warning_chest"} <= task_ids(plan)
    stretched = {t["muscle"] for day in plan.days for t in day["tasks"] if t["id"] == "stretch"}
    assert stretched == {"masseter", "upper_trapezius"}
    event = AuditEvent.objects.get(action="aftercare.plan.extended")
    assert event.details["procedure"] == str(second.public_id)
    assert event.details["added_injectates"] == ["triamcinolone"]
    assert event.details["added_sites"] == ["upper_trapezius:right"]


def test_the_day_plan_keeps_every_warning_either_note_needs(patient):
    """A steroid in the first note and a diabetic patient: a steroid-free second note drops nothing."""
    RiskFactor.objects.create(clinic=patient.clinic, patient=patient, kind="diabetes")
    first = signed_procedure(patient, on=TOMORROW, sites=(("upper_trapezius", "left"),), drugs=("triamcinolone",))
    before = task_ids(plan_for(first))
    assert {"steroid_flare", "steroid_blood_glucose", "warning_chest"} <= before
    signed_procedure(patient, on=TOMORROW, sites=(("masseter", "right"),), drugs=("lidocaine",))
    plan = plan_for(first)
    assert before <= task_ids(plan)
    assert plan.inputs["patient"]["conditions"] == ["diabetes"]


def test_notes_of_different_days_keep_their_own_plans(patient):
    first = signed_procedure(patient, on=TOMORROW)
    second = signed_procedure(patient, on=TOMORROW - timedelta(days=7), drugs=("triamcinolone",))
    assert plan_for(first) != plan_for(second)
    assert AftercarePlan.objects.filter(patient=patient).count() == 2
    assert not PlanCoverage.objects.exists()
    assert "steroid_flare" not in task_ids(plan_for(first))


def test_another_patients_note_of_the_same_day_gets_its_own_plan(patient, other_patient):
    mine = plan_for(signed_procedure(patient, on=TOMORROW))
    theirs = plan_for(signed_procedure(other_patient, on=TOMORROW))
    assert mine != theirs and not PlanCoverage.objects.exists()


def test_the_reminders_are_rescheduled_once_never_a_second_series(patient):
    first = signed_procedure(patient, on=TOMORROW, drugs=("lidocaine",))
    plan = plan_for(first)
    before = {row.idempotency_key: row.pk for row in reminder_rows(plan)}
    assert before

    second = signed_procedure(patient, on=TOMORROW, sites=(("upper_trapezius", "right"),), drugs=("onabotulinumtoxinA",))
    plan.refresh_from_db()

    rows = services.reminders_for(plan)
    assert Counter(row.kind for row in rows)[services.LINK_KIND] == 1  # the plan link is not sent again
    keys = [row.idempotency_key for row in reminder_rows(plan)]
    assert len(keys) == len(set(keys))
    # The rebuilt schedule is in the outbox exactly once; the first series' rows are the same rows.
    live = {row.idempotency_key for row in reminder_rows(plan) if row.status == Status.PENDING}
    assert live == expected_keys(plan)
    for key, pk in before.items():
        assert Notification.objects.get(idempotency_key=key).pk == pk
    # Nothing is related to a second plan, and only the first plan's reminders exist for the patient.
    assert Notification.objects.filter(patient=patient, kind=services.REMINDER_KIND).count() == len(keys)
    assert services.plan_covering(second) == plan

    # Signing again (the signal re-sent, a double click) changes nothing.
    version = plan.version
    with transaction.atomic():
        create_plan_on_signature(sender=Procedure, procedure=second, signal=procedure_signed)
    plan.refresh_from_db()
    assert plan.version == version
    assert [row.idempotency_key for row in reminder_rows(plan)] == keys


def test_a_reminder_already_sent_is_not_sent_again_and_one_no_longer_planned_is_withdrawn(patient):
    first = signed_procedure(patient, on=TOMORROW, drugs=("lidocaine",))
    plan = plan_for(first)
    rows = reminder_rows(plan)
    sent, waiting = rows[0], rows[-1]
    Notification.objects.filter(pk=sent.pk).update(status=Status.SENT, sent_at=timezone.now())
    # A waiting reminder the rebuilt plan will not have (a stale key of the same plan).
    stale = Notification.objects.create(
        clinic=plan.clinic, patient=patient, kind=services.REMINDER_KIND, channel=waiting.channel, to=waiting.to,
        body="old wording", idempotency_key=f"aftercare:{plan.public_id}:retired-reminder:{TOMORROW.isoformat()}",
        send_after=waiting.send_after, related_type=waiting.related_type, related_id=waiting.related_id,
    )

    signed_procedure(patient, on=TOMORROW, sites=(("upper_trapezius", "right"),), drugs=("triamcinolone",))

    sent_after = Notification.objects.get(pk=sent.pk)
    assert sent_after.status == Status.SENT and sent_after.body == sent.body
    assert Notification.objects.filter(idempotency_key=sent.idempotency_key).count() == 1
    stale.refresh_from_db()
    assert stale.status == Status.CANCELLED and stale.last_error == services.NO_LONGER_PLANNED_REASON
    event = AuditEvent.objects.get(action="aftercare.reminders.rescheduled")
    assert event.details["withdrawn"] == 1


def test_the_chart_offers_no_second_plan_for_a_note_that_joined_the_day_plan(patient, physician):
    from triggerpoint.aftercare import timeline

    first = signed_procedure(patient)
    second = signed_procedure(patient, sites=(("upper_trapezius", "right"),))
    assert plan_for(first) == services.plan_covering(second)
    titles = [entry.title for entry in timeline.entries(patient, physician)]
    assert not [title for title in titles if title.startswith("No aftercare plan")]
    assert services.without_plan(Procedure.objects.filter(patient=patient)).count() == 0


def test_the_create_page_of_a_joined_note_opens_the_day_plan(client, login_as, patient, physician):
    from django.urls import reverse

    first = signed_procedure(patient)
    second = signed_procedure(patient, sites=(("upper_trapezius", "right"),))
    login_as(physician)
    response = client.get(reverse("aftercare:create_plan", args=[patient.public_id, second.public_id]))
    assert response.status_code == 302
    assert str(plan_for(first).public_id) in response["Location"]


def test_a_note_whose_facts_are_refused_leaves_the_day_plan_as_it_was(patient):
    first = signed_procedure(patient, on=TOMORROW)
    plan = plan_for(first)
    version, built = plan.version, plan.plan
    bad = signed_procedure(patient, on=TOMORROW, sites=(("not_a_muscle", "left"),))
    plan.refresh_from_db()
    assert plan.version == version and plan.plan == built
    assert services.plan_covering(bad) is None
    assert AuditEvent.objects.filter(action="aftercare.plan.not_created").exists()


def test_each_signed_note_page_links_to_the_day_plan(client, login_as, patient, physician):
    from django.urls import reverse

    first = signed_procedure(patient)
    second = signed_procedure(patient, sites=(("upper_trapezius", "right"),))
    plan_url = reverse("aftercare:plan", args=[patient.public_id, plan_for(first).public_id])
    login_as(physician)
    for note in (first, second):
        page = client.get(reverse("procedures:note", args=[patient.public_id, note.public_id])).content.decode()
        assert f'href="{plan_url}"' in page and "one plan for the 2 notes" in page


def test_a_signed_note_without_a_plan_links_to_creating_it(client, login_as, patient, physician):
    from django.urls import reverse

    note = signed_procedure(patient, send_signal=False)
    login_as(physician)
    page = client.get(reverse("procedures:note", args=[patient.public_id, note.public_id])).content.decode()
    assert reverse("aftercare:create_plan", args=[patient.public_id, note.public_id]) in page
    assert "No aftercare plan" in page


def test_the_patient_is_told_once_that_the_day_plan_was_updated(patient):
    first = signed_procedure(patient, on=TOMORROW, drugs=("lidocaine",))
    plan = plan_for(first)
    second = signed_procedure(patient, on=TOMORROW, sites=(("upper_trapezius", "right"),), drugs=("triamcinolone",))
    updates = services.reminders_for(plan).filter(kind=services.UPDATED_KIND)
    assert updates.count() == 1
    update = updates.get()
    assert update.link is not None and update.link.target_id == str(plan.public_id)
    assert "covers all of today's injections" in update.body and "warning signs" in update.body
    with transaction.atomic():
        create_plan_on_signature(sender=Procedure, procedure=second, signal=procedure_signed)
    assert updates.count() == 1


def test_a_spanish_speaking_patient_is_told_in_spanish(patient):
    patient.preferred_language = "es"
    patient.save(update_fields=["preferred_language"])
    plan = plan_for(signed_procedure(patient, on=TOMORROW, drugs=("lidocaine",)))
    signed_procedure(patient, on=TOMORROW, sites=(("upper_trapezius", "right"),), drugs=("triamcinolone",))
    update = services.reminders_for(plan).get(kind=services.UPDATED_KIND)
    assert update.subject.endswith("cambió su plan de cuidados")
    assert "todas las inyecciones de hoy" in update.body and "Hola" in update.body
    assert "updated" not in update.body and "Please" not in update.body


def test_a_second_note_that_changes_nothing_sends_no_update(patient):
    first = signed_procedure(patient, on=TOMORROW)
    plan = plan_for(first)
    same = signed_procedure(patient, on=TOMORROW)  # the same muscle and drug: the plan reads the same
    assert services.plan_covering(same) == plan
    assert not services.reminders_for(plan).filter(kind=services.UPDATED_KIND).exists()
