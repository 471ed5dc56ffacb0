"""Merging a duplicate chart (issue 17): the survivor absorbs the other's records through a link, the merge
is audited with both MRNs, every lookup of the absorbed chart leads to the survivor, and refusals say why."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from triggerpoint.audit.models import AuditEvent
from triggerpoint.conftest import make_patient, make_staff
from triggerpoint.core.context import acting_as
from triggerpoint.followup.tests.factories import signed_procedure
from triggerpoint.patients import merging, search, selectors, services
from triggerpoint.patients.models import AllergyStatus, Patient


@pytest.fixture
def duplicate(clinic_a, patient):
    """A second chart of the portal patient (`patient`, A-0001), registered by mistake."""
    return make_patient(clinic_a, "A-0099", "Pat", "Portal-Owner", date_of_birth=patient.date_of_birth,
                        phone="(555) 010-7777")


def _merge(user, absorbed, survivor):
    with acting_as(user):
        return merging.merge_charts(user, absorbed, survivor)


@pytest.mark.django_db
def test_the_merge_links_the_chart_once_and_writes_one_event_with_both_mrns(clinic_admin, physician, duplicate,
                                                                             patient):
    signed_procedure(duplicate, physician, on=date(2026, 10, 1))
    _merge(clinic_admin, duplicate, patient)

    duplicate.refresh_from_db()
    assert duplicate.merged_into_id == patient.pk and duplicate.merged_at is not None
    events = list(AuditEvent.objects.filter(action="patients.patient.merged"))
    assert len(events) == 1
    event = events[0]
    assert event.patient_id == patient.pk and event.object_id == str(duplicate.public_id)
    assert event.actor_id == clinic_admin.pk
    assert (event.details["absorbed_mrn"], event.details["survivor_mrn"]) == ("A-0099", "A-0001")
    assert event.details["records"]["absorbed"]["Procedures"] == 1  # what the absorbed chart held, for later


@pytest.mark.django_db
def test_a_signed_note_cannot_be_moved_so_the_survivor_reads_it_through_the_link(clinic_admin, physician, duplicate,
                                                                                  patient):
    note = signed_procedure(duplicate, physician, on=date(2026, 10, 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        type(note).objects.filter(pk=note.pk).update(patient=patient)  # the database refuses: why the link exists

    from triggerpoint.procedures import selectors as procedure_selectors

    assert procedure_selectors.procedure_for_patient(patient, note.public_id) is None  # before: another chart's
    _merge(clinic_admin, duplicate, patient)
    assert selectors.chart_ids(patient) == [patient.pk, duplicate.pk]
    assert procedure_selectors.procedure_for_patient(patient, note.public_id) == note
    # The safety checks count the absorbed chart's signed session (repeat interval, doses).
    history = procedure_selectors.session_history(patient, date(2026, 10, 20), ["neck_upper_back", "shoulder"])
    assert history.sessions_last_12_months == 1


@pytest.mark.django_db
def test_every_lookup_of_the_absorbed_chart_leads_to_the_survivor(clinic_admin, front_desk, duplicate, patient,
                                                                  clinic_a):
    portal_of_duplicate = make_staff("dup.portal", "physician", clinic_a)  # any user row; made a portal account below
    portal_of_duplicate.clinic = None
    portal_of_duplicate.save()
    portal_of_duplicate.groups.clear()
    duplicate.portal_user = portal_of_duplicate
    duplicate.save(update_fields=["portal_user"])
    _merge(clinic_admin, duplicate, patient)

    with acting_as(front_desk):
        assert selectors.get_patient_for_user(front_desk, duplicate.public_id) == patient
    assert selectors.patient_by_mrn(clinic_a, "a-0099") == patient
    assert selectors.portal_patient_of(portal_of_duplicate) == patient
    with acting_as(front_desk):
        found = search.find_patients(front_desk, "portal")
    assert patient in found and duplicate not in found  # hidden from search and lists
    assert search.find_patients(front_desk, "555-010-7777") == []


@pytest.mark.django_db
def test_the_absorbed_chart_s_address_opens_the_survivor_which_says_merged_from(client, login_as, clinic_admin,
                                                                               physician, duplicate, patient):
    _merge(clinic_admin, duplicate, patient)
    login_as(physician)
    response = client.get(reverse("patients:chart", args=[duplicate.public_id]))
    assert response.status_code == 302 and response["Location"] == reverse("patients:chart", args=[patient.public_id])
    page = client.get(response["Location"]).content.decode()
    assert "Merged from MRN" in page and "A-0099" in page


@pytest.mark.django_db
def test_the_survivor_s_timeline_and_note_links_show_the_absorbed_chart_s_signed_note(client, login_as, clinic_admin,
                                                                                      physician, duplicate, patient):
    note = signed_procedure(duplicate, physician, on=date(2026, 10, 1))
    _merge(clinic_admin, duplicate, patient)
    login_as(physician)
    timeline = client.get(reverse("patients:timeline", args=[patient.public_id]) + "?all=1").content.decode()
    old_link = reverse("procedures:note", args=[duplicate.public_id, note.public_id])
    assert old_link in timeline
    assert client.get(old_link).status_code == 200  # a link written before the merge keeps working
    assert client.get(reverse("procedures:note", args=[patient.public_id, note.public_id])).status_code == 200


@pytest.mark.django_db
def test_allergies_medications_and_risk_factors_move_and_the_allergy_status_says_what_is_true(
        clinic_admin, physician, duplicate, patient):
    with acting_as(physician):
        services.add_allergy(physician, duplicate, "Lidocaine", severity="severe")
        services.add_medication(physician, duplicate, "Warfarin", "anticoagulant")
        services.record_no_known_allergies(physician, patient)
    _merge(clinic_admin, duplicate, patient)
    patient.refresh_from_db()
    assert [a.substance for a in patient.allergies.all()] == ["Lidocaine"]
    assert [m.name for m in patient.medications.all()] == ["Warfarin"]
    assert patient.allergy_status == AllergyStatus.HAS_ALLERGIES  # NKDA on one chart, an allergy on the other


@pytest.mark.django_db
def test_the_absorbed_chart_is_read_only(clinic_admin, front_desk, duplicate, patient):
    _merge(clinic_admin, duplicate, patient)
    duplicate = Patient.objects.get(pk=duplicate.pk)
    with acting_as(front_desk), pytest.raises(ValidationError, match="merged"):
        services.update_patient(front_desk, duplicate, duplicate.version, {"phone": "555"})


@pytest.mark.django_db
def test_refusals_say_why_and_change_nothing(clinic_admin, clinic_a, patient_in_b, duplicate, patient):
    third = make_patient(clinic_a, "A-0100", "Pat", "Portalowner")
    cases = [
        (duplicate, duplicate, "cannot be merged into itself"),
        (patient_in_b, patient, "different clinics"),
    ]
    for absorbed, survivor, message in cases:
        with pytest.raises(merging.MergeRefused, match=message):
            _merge(clinic_admin, absorbed, survivor)
    _merge(clinic_admin, duplicate, patient)
    chained = [
        (duplicate, third, "already merged into A-0001"),
        (third, duplicate, "merge into A-0001 instead"),
        (patient, third, "has absorbed other charts: merge A-0100 into A-0001 instead"),
    ]
    for absorbed, survivor, message in chained:
        absorbed, survivor = Patient.objects.get(pk=absorbed.pk), Patient.objects.get(pk=survivor.pk)
        with pytest.raises(merging.MergeRefused, match=message):
            _merge(clinic_admin, absorbed, survivor)
    assert Patient.objects.filter(merged_into__isnull=False).count() == 1
    assert AuditEvent.objects.filter(action="patients.patient.merged").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["physician", "nurse", "front_desk", "analyst"])
def test_only_the_clinic_admin_may_merge(role, clinic_a, duplicate, patient):
    user = make_staff(f"m.{role}", role, clinic_a)
    with acting_as(user), pytest.raises(Exception) as refused:
        merging.merge_charts(user, duplicate, patient)
    assert type(refused.value).__name__ == "PermissionDenied"
    assert Patient.objects.get(pk=duplicate.pk).merged_into_id is None


@pytest.mark.django_db
def test_the_merge_page_compares_both_charts_then_merges_on_confirmation(client, login_as, clinic_admin, physician,
                                                                        duplicate, patient):
    signed_procedure(duplicate, physician, on=date(2026, 10, 1))
    login_as(clinic_admin)
    url = reverse("patients:merge")
    assert client.get(url).status_code == 200
    preview = client.post(url, {"absorbed_mrn": "A-0099", "survivor_mrn": "A-0001", "step": "preview"})
    page = preview.content.decode()
    assert preview.status_code == 200
    for fact in ("Portal-Owner", "Portalowner", "1980-05-17", "(555) 010-7777", "Procedures: 1", "confirm-merge"):
        assert fact in page
    assert Patient.objects.get(pk=duplicate.pk).merged_into_id is None  # the comparison merges nothing
    seen = AuditEvent.objects.filter(action="patients.merge.previewed").values_list("patient_id", flat=True)
    assert set(seen) == {duplicate.pk, patient.pk}  # both charts shown: both audited

    done = client.post(url, {"absorbed_mrn": "A-0099", "survivor_mrn": "A-0001", "step": "merge"}, follow=True)
    assert "A-0099 was merged into A-0001" in done.content.decode()
    assert Patient.objects.get(pk=duplicate.pk).merged_into_id == patient.pk


@pytest.mark.django_db
@pytest.mark.parametrize(("absorbed", "survivor", "message"), [
    ("A-0099", "A-0099", "cannot be merged into itself"),
    ("B-0001", "A-0001", "No chart with MRN B-0001 in this clinic"),  # another clinic's chart is not found
    ("A-0099", "", "Enter the MRN"),
])
def test_the_merge_page_refuses_with_a_clear_message(client, login_as, clinic_admin, duplicate, patient, patient_in_b,
                                                     absorbed, survivor, message):
    login_as(clinic_admin)
    response = client.post(reverse("patients:merge"),
                           {"absorbed_mrn": absorbed, "survivor_mrn": survivor, "step": "merge"})
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not Patient.objects.filter(merged_into__isnull=False).exists()


@pytest.mark.django_db
def test_the_absorbed_chart_s_portal_account_reaches_both_charts_records(clinic_admin, physician, duplicate, patient,
                                                                         other_patient):
    from triggerpoint.accounts.policy import can

    own = signed_procedure(patient, physician, on=date(2026, 9, 1))
    old = signed_procedure(duplicate, physician, on=date(2026, 10, 1))
    stranger = signed_procedure(other_patient, physician, on=date(2026, 10, 2))
    _merge(clinic_admin, duplicate, patient)
    account = Patient.objects.get(pk=patient.pk).portal_user
    account = type(account).objects.get(pk=account.pk)  # a fresh request's user
    assert can(account, "patient.view", patient)
    assert not can(account, "patient.view", Patient.objects.get(pk=duplicate.pk))  # the chart itself: the survivor
    assert can(account, "outcomes.view", own) and can(account, "outcomes.view", old)
    assert not can(account, "outcomes.view", stranger)


@pytest.mark.django_db
def test_fhir_serves_one_patient_after_a_merge_not_the_absorbed_chart_beside_it(client, clinic_admin, physician,
                                                                                 duplicate, patient, bearer):
    _merge(clinic_admin, duplicate, patient)
    found = client.get(f"/fhir/R4/Patient?birthdate={patient.date_of_birth}&name=Pat", **bearer(physician)).json()
    ids = [entry["resource"]["id"] for entry in found.get("entry", [])]
    assert str(patient.public_id) in ids and str(duplicate.public_id) not in ids
    # Its id still reads (records written on it name it as their subject): inactive, replaced by the survivor.
    absorbed = client.get(f"/fhir/R4/Patient/{duplicate.public_id}", **bearer(physician))
    assert absorbed.status_code == 200 and absorbed.json()["active"] is False
    assert absorbed.json()["link"] == [{"other": {"reference": f"Patient/{patient.public_id}"}, "type": "replaced-by"}]
    everything = client.get(f"/fhir/R4/Patient/{duplicate.public_id}/$everything", **bearer(physician))
    assert everything.status_code == 404 and everything.json()["resourceType"] == "OperationOutcome"
