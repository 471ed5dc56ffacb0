"""The visit editor's autosave endpoint: the page's own form fields in, JSON in the house shape out.

A save answers 200 with the new version; a stale version 409 naming both versions and who saved,
writing nothing; bad fields 422 listing every problem, writing nothing; a signed visit 409; only
the clinical roles of the visit's clinic reach it; each save that changes the visit is audited.
"""

from __future__ import annotations

import json

import pytest

from triggerpoint.assessment import exam_findings, visit_drafting, visit_signing
from triggerpoint.assessment.models import Visit
from triggerpoint.assessment.tests.factories import (
    ACTIVE_UPPER_TRAPEZIUS,
    LATENT_LEVATOR,
    draft_visit,
    ready_visit,
)
from triggerpoint.audit.models import AuditEvent
from triggerpoint.core.context import acting_as

pytestmark = pytest.mark.django_db


def _url(visit, suffix="autosave/"):
    return f"/assessments/patients/{visit.patient.public_id}/{visit.public_id}/{suffix}"


def _form(version, **fields):
    """What the editor posts: every visit field of the page (here the few a test needs) and the version."""
    return {"version": str(version), "visit_date": "2026-11-20"} | fields


def _saves(visit):
    return AuditEvent.objects.filter(action="assessment.visit.draft_saved", object_id=str(visit.public_id))


def test_a_save_answers_the_new_version_and_is_audited_each_time(login_as, physician, patient):
    visit = draft_visit(physician, patient)
    client = login_as(physician)

    first = client.post(_url(visit), _form(1, goals="Turn my head when driving", nrs_average="6"))
    assert first.status_code == 200
    body = first.json()
    assert body["version"] == 2
    assert len(body["saved_at"]) == 8 and body["saved_at"].count(":") == 2  # hh:mm:ss in the clinic's zone

    second = client.post(_url(visit), _form(2, goals="Turn my head when driving", nrs_average="6", plan_notes="PT"))
    assert second.status_code == 200 and second.json()["version"] == 3

    stored = Visit.objects.get(pk=visit.pk)
    assert (stored.goals, stored.nrs_average, stored.plan_notes, stored.version) == (
        "Turn my head when driving", 6, "PT", 3
    )
    events = list(_saves(visit).order_by("id"))
    assert [e.details for e in events] == [
        {"fields": ["goals", "nrs_average"], "version": 2, "channel": "autosave"},
        {"fields": ["plan_notes"], "version": 3, "channel": "autosave"},
    ]
    assert {e.actor_id for e in events} == {physician.pk} and {e.patient_id for e in events} == {patient.pk}


def test_a_nurse_autosaves_a_draft_too(login_as, nurse, patient):
    visit = draft_visit(nurse, patient)
    response = login_as(nurse).post(_url(visit), _form(visit.version, effect_on_sleep="Wakes twice a night"))
    assert response.status_code == 200
    assert Visit.objects.get(pk=visit.pk).effect_on_sleep == "Wakes twice a night"


def test_a_stale_version_is_refused_naming_both_versions_and_nothing_is_written(login_as, physician, nurse, patient):
    visit = draft_visit(physician, patient)
    with acting_as(nurse):
        visit_drafting.save_visit_draft(nurse, Visit.objects.get(pk=visit.pk), 1, {"goals": "the nurse's words"})
    events_before = _saves(visit).count()

    response = login_as(physician).post(_url(visit), _form(1, goals="the physician's words"))

    assert response.status_code == 409
    body = response.json()
    assert "you edited version 1, it is now version 2" in body["detail"]
    assert (body["reason"], body["your_version"], body["current_version"]) == ("stale", 1, 2)
    assert body["saved_by"] == (nurse.get_full_name() or nurse.username) and body["by_you"] is False
    assert body["saved_at"].count(":") == 2
    stored = Visit.objects.get(pk=visit.pk)
    assert (stored.goals, stored.version) == ("the nurse's words", 2)
    assert _saves(visit).count() == events_before


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"nrs_now": "11"}, "11 is out of range"),
        ({"onset_date": "2027-02-01"}, "onset_date 2027-02-01 is after the visit date"),
        ({"visit_date": ""}, "visit_date is required"),
        ({"pain_drawing": "{not json"}, "pain_drawing"),
        ({"cause": ["no_such_cause"]}, "no_such_cause"),
        ({"follow_up_interval": "fortnightly-ish"}, "fortnightly-ish"),
    ],
)
def test_bad_fields_are_a_422_listing_the_problem_and_nothing_is_written(login_as, physician, patient, fields, problem):
    visit = draft_visit(physician, patient)
    response = login_as(physician).post(_url(visit), _form(1, goals="keep me out of the record") | fields)
    assert response.status_code == 422
    body = response.json()
    assert set(body) == {"detail"} and isinstance(body["detail"], list)
    assert all(isinstance(p, str) for p in body["detail"])
    assert any(problem in p for p in body["detail"]), body["detail"]
    stored = Visit.objects.get(pk=visit.pk)
    assert (stored.goals, stored.version) == ("", 1)
    assert not _saves(visit).exists()


@pytest.mark.parametrize("version", [None, "", "two", "0", "-1", "1.5"])
def test_a_missing_or_malformed_version_is_a_422_not_a_guess(login_as, physician, patient, version):
    visit = draft_visit(physician, patient)
    form = _form(1, goals="unsaved")
    if version is None:
        del form["version"]
    else:
        form["version"] = version
    response = login_as(physician).post(_url(visit), form)
    assert response.status_code == 422
    assert "version is required" in response.json()["detail"][0]
    assert Visit.objects.get(pk=visit.pk).goals == ""


def test_a_signed_visit_refuses_the_save(login_as, physician, patient):
    visit = ready_visit(physician, patient)
    with acting_as(physician):
        visit = visit_signing.sign_visit(physician, visit, visit.version)
    goals = visit.goals
    response = login_as(physician).post(_url(visit), _form(visit.version, goals="after signing"))
    assert response.status_code == 409
    body = response.json()
    assert body["reason"] == "signed" and "signed" in body["detail"]
    assert body["summary_url"] == _url(visit, "summary/")
    assert Visit.objects.get(pk=visit.pk).goals == goals


@pytest.mark.parametrize("role", ["front_desk", "analyst", "clinic_admin"])
def test_only_physicians_and_nurses_reach_it(request, login_as, physician, patient, role):
    visit = draft_visit(physician, patient)
    user = request.getfixturevalue(role)
    response = login_as(user).post(_url(visit), _form(1, goals="not mine to write"))
    assert response.status_code == 403
    assert Visit.objects.get(pk=visit.pk).goals == ""


def test_another_clinics_physician_gets_404(login_as, physician, physician_b, patient):
    visit = draft_visit(physician, patient)
    response = login_as(physician_b).post(_url(visit), _form(1, goals="not our patient"))
    assert response.status_code == 404
    assert Visit.objects.get(pk=visit.pk).goals == ""


def test_signed_out_is_sent_to_sign_in_and_get_is_not_allowed(client, login_as, physician, patient):
    visit = draft_visit(physician, patient)
    assert client.post(_url(visit), _form(1, goals="x")).status_code == 302
    assert login_as(physician).get(_url(visit)).status_code == 405
    assert Visit.objects.get(pk=visit.pk).goals == ""


def test_withdrawing_a_planned_site_tells_the_editor_which_version_it_saved(login_as, physician, patient):
    """The page at version n carries on at n+1 after its own withdrawal, instead of a false conflict."""
    visit = draft_visit(physician, patient)
    with acting_as(physician):
        planned = exam_findings.record_exam_finding(physician, visit, ACTIVE_UPPER_TRAPEZIUS)
        unplanned = exam_findings.record_exam_finding(physician, visit, LATENT_LEVATOR)
        visit = visit_drafting.save_visit_draft(
            physician, Visit.objects.get(pk=visit.pk), visit.version,
            {"planned_sites": [{"muscle": "upper_trapezius", "side": "right"}]},
        )
    client = login_as(physician)
    headers = {"HX-Request": "true"}

    kept_plan = client.post(_url(visit, f"exam/{unplanned.public_id}/remove/"), {"version": visit.version}, headers=headers)
    assert kept_plan.status_code == 200 and "HX-Trigger" not in kept_plan

    withdrawn = client.post(_url(visit, f"exam/{planned.public_id}/remove/"), {"version": visit.version}, headers=headers)
    assert withdrawn.status_code == 200
    assert json.loads(withdrawn["HX-Trigger"]) == {"visit-version": {"from": visit.version, "to": visit.version + 1}}
    stored = Visit.objects.get(pk=visit.pk)
    assert stored.planned_sites == [] and stored.version == visit.version + 1


def test_the_editor_page_carries_the_autosave_url_status_line_and_banner(login_as, physician, patient):
    visit = draft_visit(physician, patient)
    html = login_as(physician).get(_url(visit, "")).content.decode()
    assert f'data-autosave-url="{_url(visit)}"' in html
    assert 'id="save-status" class="save-status" role="status" aria-live="polite"' in html
    assert 'id="conflict" class="conflict" role="alert" hidden' in html
    assert 'id="save-problems"' in html and 'id="save-retry"' in html
    # scripts are files the site serves (strict CSP: no inline code); the shared module loads before the page's
    assert html.index("core/autosave.js") < html.index("assessment/visit.js")
    assert "<script>" not in html
    # without scripts the page still says the truth: Save draft keeps the changes
    assert "changes are kept only when you save" in html and 'value="save"' in html


def test_a_stale_page_of_ones_own_says_it_was_saved_from_another_tab(login_as, physician, patient):
    visit = draft_visit(physician, patient)
    client = login_as(physician)
    assert client.post(_url(visit), _form(1, goals="from the first tab")).status_code == 200
    stale = client.post(_url(visit), _form(1, goals="from the second tab"))
    assert stale.status_code == 409
    assert stale.json()["by_you"] is True and stale.json()["saved_by"].startswith("You")
    assert Visit.objects.get(pk=visit.pk).goals == "from the first tab"


def test_a_page_refused_as_stale_keeps_the_version_it_was_typed_on(login_as, physician, nurse, patient):
    """Re-shown with the typed text and the newer version, its next autosave would overwrite the nurse unseen."""
    visit = draft_visit(physician, patient)
    with acting_as(nurse):
        visit_drafting.save_visit_draft(nurse, Visit.objects.get(pk=visit.pk), 1, {"goals": "the nurse's words"})
    client = login_as(physician)
    page = client.post(_url(visit, "save/"), _form(1, goals="the physician's words", action="save"))
    assert page.status_code == 422
    html = page.content.decode()
    assert 'name="version" id="visit-version" value="1"' in html and "the physician&#x27;s words" in html
    assert client.post(_url(visit), _form(1, goals="the physician's words")).status_code == 409
    assert Visit.objects.get(pk=visit.pk).goals == "the nurse's words"
