"""Where visits show up outside the visit page: the chart timeline, the worklist, the demo clinic."""

from __future__ import annotations

import random
from datetime import date

import pytest

from triggerpoint.assessment import visit_signing
from triggerpoint.assessment.models import Visit
from triggerpoint.assessment.tests.factories import draft_visit, ready_visit
from triggerpoint.core.context import acting_as

pytestmark = pytest.mark.django_db


def test_the_timeline_shows_each_visit_with_its_diagnosis_and_plan(physician, patient):
    from triggerpoint.assessment.timeline import entries

    visit = ready_visit(physician, patient)
    with acting_as(physician):
        visit_signing.sign_visit(physician, visit, visit.version)
    [entry] = entries(patient, physician)
    assert entry.kind == "assessment" and entry.status == "signed"
    assert "M79.12" in entry.summary and "1 active trigger point" in entry.summary
    assert "Upper trapezius, right" in entry.summary
    assert entry.url.endswith(f"/{visit.public_id}/summary/")


def test_the_timeline_shows_nothing_to_roles_without_assessment_access(front_desk, physician, patient):
    from triggerpoint.assessment.timeline import entries

    draft_visit(physician, patient)
    assert entries(patient, front_desk) == []


def test_the_worklist_lists_drafts_of_the_users_clinic_only(physician, physician_b, patient, patient_in_b):
    from triggerpoint.assessment.worklist import sections

    draft_visit(physician, patient)
    draft_visit(physician_b, patient_in_b)
    [section] = sections(physician)
    assert section.count == 1 and section.context["visits"][0].patient == patient
    assert section.context["can_sign"] is True


def test_the_worklist_has_no_section_without_drafts(physician, patient):
    from triggerpoint.assessment.worklist import sections

    visit = ready_visit(physician, patient)
    with acting_as(physician):
        visit_signing.sign_visit(physician, visit, visit.version)
    assert sections(physician) == []


def _demo_context(clinic_a, clinic_b, seed=7, tag=""):
    from triggerpoint.conftest import make_patient, make_staff
    from triggerpoint.shell.demo_clinic import DemoContext

    staff = {
        "dr.rivera": make_staff(f"dr.rivera{tag}", "physician", clinic_a, with_totp=False),
        "dr.chen": make_staff(f"dr.chen{tag}", "physician", clinic_a, with_totp=False),
        "nurse.okafor": make_staff(f"nurse.okafor{tag}", "nurse", clinic_a, with_totp=False),
        "dr.berg": make_staff(f"dr.berg{tag}", "physician", clinic_b, with_totp=False),
    }
    patients = [make_patient(clinic_a, f"D{tag}-{i}") for i in range(8)] + [make_patient(clinic_b, f"D{tag}-B")]
    return DemoContext(seed=seed, rng=random.Random(seed), today=date(2026, 11, 22), clinics=[clinic_a, clinic_b],
                       staff=staff, patients=patients)


def test_the_demo_adds_signed_visits_with_drawings_exam_diagnoses_and_plans(clinic_a, clinic_b):
    from triggerpoint.assessment.demo import extend
    from triggerpoint.atlas.catalog import load_atlas
    from triggerpoint.atlas.suggest import suggest

    ctx = _demo_context(clinic_a, clinic_b)
    extend(ctx)
    signed = list(Visit.objects.filter(status="signed"))
    assert len(signed) >= 5 and Visit.objects.filter(status="draft").count() == 1
    assert {v.clinic_id for v in signed} == {clinic_a.pk, clinic_b.pk}
    atlas = load_atlas()
    for visit in signed:
        assert visit.pain_drawing and visit.nrs_average is not None and visit.peg_score is not None
        assert visit.diagnoses.filter(is_primary=True).count() == 1
        active = {(f.muscle, f.side) for f in visit.exam_findings.all() if f.classification == "active"}
        assert active and {(s["muscle"], s["side"]) for s in visit.planned_sites} == active
        # the drawing points the atlas at the muscles that were examined
        suggested = {(c.muscle, c.side) for c in suggest(visit.pain_drawing, atlas, limit=12)}
        assert active & suggested, visit.chief_complaint
    assert any(v.fibromyalgia_result.get("criteria_met") for v in signed)
    assert any(v.amendments.exists() for v in signed)
    assert any(note.startswith("assessment:") for note in ctx.notes)


def test_the_demo_is_deterministic_for_a_seed(clinic_a, clinic_b):
    from triggerpoint.assessment.demo import extend
    from triggerpoint.clinics.models import Clinic

    def built(clinics, tag):
        ctx = _demo_context(*clinics, seed=11, tag=tag)
        extend(ctx)
        visits = Visit.objects.filter(clinic__in=clinics).order_by("patient__mrn")
        return [(v.patient.mrn.split("-")[-1], v.visit_date, v.nrs_average, v.nrs_worst, v.pain_drawing,
                 sorted(f.muscle for f in v.exam_findings.all())) for v in visits]

    first = built([clinic_a, clinic_b], "")
    again = built([Clinic.objects.create(name="C", slug="c"), Clinic.objects.create(name="D", slug="d")], "x")
    assert first and first == again
