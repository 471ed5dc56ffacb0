"""Demo screenings: a few in each status, one overridden, one signed consent, one for the portal patient.

The status of each demo screening is whatever the rules say about that demo patient and
those answers — the demo never writes a status by hand.
"""

from __future__ import annotations

import base64
import io
import math
from datetime import timedelta

from django.utils import timezone
from PIL import Image, ImageDraw

from triggerpoint.core.context import acting_as
from triggerpoint.screening import consent_records, services

LUMBAR_PLAN = {
    "sites": [{"muscle": "quadratus_lumborum", "side": "left"}, {"muscle": "gluteus_medius", "side": "left"}],
    "injectates": [{"drug": "lidocaine"}],
    "guidance": "landmark",
    "trigger_points_documented": True,
}
THORACIC_PLAN = {
    "sites": [{"muscle": "upper_trapezius", "side": "right"}, {"muscle": "rhomboids", "side": "right"}],
    "injectates": [{"drug": "lidocaine"}, {"drug": "triamcinolone"}],
    "guidance": "ultrasound",
    "trigger_points_documented": True,
}
NECK_PLAN = {
    "sites": [{"muscle": "levator_scapulae", "side": "left"}, {"muscle": "splenius_capitis", "side": "left"}],
    "injectates": [{"drug": "bupivacaine"}],
    "guidance": "landmark",
    "trigger_points_documented": True,
}


def _answers(anchor, *, events=(), unwell=False, antibiotics=False, infection=False, temperature_f=98.4):
    today = {"feels_unwell": unwell, "on_antibiotics": antibiotics, "infection_at_site": infection}
    if temperature_f is not None:
        today["temperature"] = {"value": temperature_f, "unit": "F"}
    return {
        "events": [{"type": kind, "date": (anchor - timedelta(days=days)).isoformat()} for kind, days in events],
        "today": today,
        "pregnant": "no",
        "prior_vasovagal": False,
    }


def demo_signature_png() -> str:
    """A drawn-looking signature as a PNG data URL (Pillow ships with WeasyPrint)."""
    image = Image.new("RGBA", (600, 180), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    points = [(40 + x * 5, 100 - 35 * math.sin(x / 6) * math.exp(-x / 120) - (x % 17)) for x in range(100)]
    draw.line(points, fill=(16, 35, 63, 255), width=4, joint="curve")
    draw.line([(60, 140), (520, 132)], fill=(16, 35, 63, 255), width=3)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _eligible(patients, clinic):
    """Patients of the main clinic with a weight and no risk factor or allergy that would change the demo's status."""
    chosen = []
    for patient in patients:
        if patient.clinic_id != clinic.pk or not patient.weight_kg:
            continue
        if patient.risk_factors.exists():
            continue
        if any("caine" in a.substance.lower() for a in patient.allergies.all()):
            continue
        chosen.append(patient)
    return chosen


def _clean(patient) -> bool:
    """Nothing on the chart that lifts a screening above ready (for the two demo screenings that must be ready):
    no allergy to confirm (SCR-ALLERGY-UNMATCHED), a recorded allergy status, no blood thinner at the lumbar
    plan's deep sites (SCR-DEEP-SITE-BLEEDING), no immunosuppressant."""
    return (
        patient.allergy_status == "nkda"
        and not patient.allergies.exists()
        and not patient.medications.filter(
            active=True, drug_class__in=("anticoagulant", "antiplatelet", "immunosuppressant")
        ).exists()
    )


def extend(ctx) -> None:
    clinic = ctx.clinics[0]
    nurse = ctx.staff["nurse.okafor"]
    physician = ctx.staff["dr.rivera"]
    anchor = min(ctx.today, timezone.localdate())
    portal_patient = ctx.portal_patient
    candidates = [p for p in _eligible(ctx.patients, clinic) if p != portal_patient]
    picks = ctx.rng.sample(candidates, k=min(8, len(candidates)))
    # The first two screenings must come out ready: give them patients with nothing on the chart to review.
    clean = [p for p in picks if _clean(p)]
    if len(clean) < 2:
        clean += [p for p in candidates if p not in picks and _clean(p)][: 2 - len(clean)]
    picks = clean[:2] + [p for p in picks if p not in clean[:2]]
    picks = picks[:8]
    if len(picks) < 8:
        ctx.notes.append("screening: too few eligible demo patients; screenings skipped")
        return
    if len(clean) < 2:
        # A small demo may have too few patients with nothing to review; the first screenings then come out as
        # the rules say (review rather than ready) instead of the demo having no screenings at all.
        ctx.notes.append("screening: fewer than two patients with nothing to review; the first screenings may need review")
    day = lambda n: ctx.today + timedelta(days=n)  # noqa: E731 - a local shorthand

    made = []
    with acting_as(nurse):
        # ready: lumbar, afebrile, nothing reported — then a signed consent
        ready = services.create_screening(nurse, picks[0], day(1), LUMBAR_PLAN)
        services.record_answers(ready, _answers(anchor), source="staff", user=nurse)
        # ready with a thoracic plan (pneumothorax info) and a signed, drawn consent
        thoracic = services.create_screening(nurse, picks[1], day(2), THORACIC_PLAN)
        services.record_answers(thoracic, _answers(anchor), source="staff", user=nurse)
        # review: fever 12 days before (the clinic's 4-week rule)
        review = services.create_screening(nurse, picks[2], day(2), NECK_PLAN)
        services.record_answers(review, _answers(anchor, events=[("fever", 12)]), source="patient_link")
        # review: hospital stay 3 weeks before, no temperature yet
        review2 = services.create_screening(nurse, picks[3], day(3), LUMBAR_PLAN)
        services.record_answers(review2, _answers(anchor, events=[("hospitalization", 21)], temperature_f=None), source="patient_link")
        # defer: on antibiotics today
        defer = services.create_screening(nurse, picks[4], day(1), NECK_PLAN)
        services.record_answers(defer, _answers(anchor, antibiotics=True, events=[("antibiotics", 5)]), source="staff", user=nurse)
        # defer: fever today 100.9 °F
        fever = services.create_screening(nurse, picks[5], day(4), LUMBAR_PLAN)
        services.record_answers(fever, _answers(anchor, temperature_f=100.9), source="staff", user=nurse)
        # contraindicated: broken skin at the planned site
        contra = services.create_screening(nurse, picks[6], day(3), THORACIC_PLAN)
        services.record_answers(contra, _answers(anchor, infection=True), source="staff", user=nurse)
        # defer, then overridden by the physician (feels unwell: a chronic, stable complaint)
        overridden = services.create_screening(nurse, picks[7], day(5), NECK_PLAN)
        services.record_answers(overridden, _answers(anchor, unwell=True), source="staff", user=nurse)
        made += [ready, thoracic, review, review2, defer, fever, contra, overridden]
        pending = None
        if portal_patient is not None and portal_patient.weight_kg:
            # the portal patient: an upcoming screening waiting for their answers
            pending = services.create_screening(nurse, portal_patient, day(6), LUMBAR_PLAN)
            made.append(pending)

    with acting_as(physician):
        services.review_screening(physician, ready, note="Lumbar plan, no concerns.", expected_version=ready.version)
        services.override_screening(
            physician,
            overridden,
            reason="Feels unwell from a long-standing, stable migraine pattern; afebrile, examined today.",
            expected_version=overridden.version,
        )
    with acting_as(nurse):
        consent = consent_records.generate_consent(nurse, thoracic)
        consent_records.sign_consent(
            nurse,
            consent,
            signer_name=thoracic.patient.full_name,
            signature_kind="drawn",
            signature_image=demo_signature_png(),
            acknowledged=True,
            witness_name=nurse.get_full_name(),
            expected_version=consent.version,
        )
        desk_consent = consent_records.generate_consent(nurse, ready)
        consent_records.sign_consent(
            nurse,
            desk_consent,
            signer_name=ready.patient.full_name,
            signature_kind="checkbox",
            acknowledged=True,
            witness_name=nurse.get_full_name(),
            expected_version=desk_consent.version,
        )

    statuses: dict[str, int] = {}
    for screening in made:
        screening.refresh_from_db()
        statuses[screening.status] = statuses.get(screening.status, 0) + 1
    summary = ", ".join(f"{count} {status}" for status, count in sorted(statuses.items()))
    ctx.notes.append(
        f"screening: {len(made)} screenings ({summary}; 1 overridden, 1 reviewed), 2 signed consents"
        + (f"; {portal_patient.full_name} has a questionnaire waiting in the portal" if pending else "")
    )
