"""Build assessment visits for tests through the services (the only way rows are written)."""

from __future__ import annotations

from datetime import date

from triggerpoint.assessment import exam_findings, visit_diagnoses, visit_drafting
from triggerpoint.core.context import acting_as

VISIT_DAY = date(2026, 11, 20)

ACTIVE_UPPER_TRAPEZIUS = {
    "muscle": "upper_trapezius",
    "side": "right",
    "taut_band": True,
    "tender_spot": True,
    "recognised_pain": True,
    "spontaneous_pain": True,
    "local_twitch_response": True,
    "jump_sign": False,
    "focal_nodule": True,
    "referred_pain_zones": ["neck-side-r", "temple-r"],
    "pressure_pain_threshold_kg_cm2": 2.5,
}
LATENT_LEVATOR = {
    "muscle": "levator_scapulae",
    "side": "right",
    "taut_band": True,
    "tender_spot": True,
    "recognised_pain": False,
    "spontaneous_pain": False,
    "local_twitch_response": False,
    "jump_sign": False,
    "focal_nodule": False,
    "referred_pain_zones": [],
}
TENDER_POINT_ONLY = dict(LATENT_LEVATOR, muscle="infraspinatus", taut_band=False)


def draft_visit(user, patient, **changes):
    with acting_as(user):
        visit = visit_drafting.create_visit(user, patient, visit_date=VISIT_DAY)
        if changes:
            visit = visit_drafting.save_visit_draft(user, visit, visit.version, changes)
    return visit


def ready_visit(user, patient):
    """A draft that can be signed: drawing, scores, one active trigger point planned, a diagnosis."""
    visit = draft_visit(
        user,
        patient,
        chief_complaint="Right neck pain with headaches",
        pain_drawing={"neck-side-r": 7, "temple-r": 5},
        nrs_now=6,
        nrs_average=5,
        nrs_worst=8,
        peg_pain=5,
        peg_enjoyment=6,
        peg_activity=4,
    )
    with acting_as(user):
        exam_findings.record_exam_finding(user, visit, ACTIVE_UPPER_TRAPEZIUS)
        visit_diagnoses.add_diagnosis(user, visit, "M79.12")
        visit.refresh_from_db()
        visit = visit_drafting.save_visit_draft(
            user, visit, visit.version, {"planned_sites": [{"muscle": "upper_trapezius", "side": "right"}]}
        )
    return visit
