"""Demo assessment visits: signed visits for several demo patients, one amended, one fibromyalgia, one draft.

Each visit is built through the services, so every classification is whatever the rule
says about the demo exam and every code passed the billable check. The pain drawing is
the examined muscles' essential referral zones from the atlas (plus some spillover), so
the atlas suggestions on the demo visits point at the muscles that were examined.
"""

from __future__ import annotations

from datetime import timedelta

from triggerpoint.assessment import (
    exam_findings,
    visit_amendments,
    visit_diagnoses,
    visit_drafting,
    visit_signing,
)
from triggerpoint.assessment.fibromyalgia import load_wpi_map
from triggerpoint.atlas.catalog import load_atlas
from triggerpoint.core.context import acting_as

# (complaint, [(muscle, side, finding)], [codes, primary first], causes, adjuncts, goals, follow-up, prior treatments)
SCENARIOS = (
    (
        "Right neck pain with headaches",
        [("upper_trapezius", "right", "active"), ("levator_scapulae", "right", "latent")],
        ["M79.12", "M54.2"],
        ["poor_posture", "stress"],
        ["home_stretching", "physical_therapy"],
        "Turn my head when I back out of the driveway.",
        "6_weeks",
        [("nsaids", "partly_helped"), ("massage", "helped")],
    ),
    (
        "Left low back pain into the hip",
        [("quadratus_lumborum", "left", "active"), ("gluteus_medius", "left", "active"), ("piriformis", "left", "latent")],
        ["M79.18", "M54.50"],
        ["overexertion", "repetitive_activity"],
        ["physical_therapy", "heat_ultrasound_therapy"],
        "Lift my grandson without my back catching.",
        "4_weeks",
        [("physical_therapy", "partly_helped"), ("muscle_relaxants", "no_change")],
    ),
    (
        "Right shoulder ache at night",
        [("infraspinatus", "right", "active"), ("teres_minor", "right", "not")],
        ["M79.18", "M25.511"],
        ["sports_injury"],
        ["home_stretching"],
        "Sleep on my right side again.",
        "6_weeks",
        [("heat", "partly_helped"), ("stretching", "helped")],
    ),
    (
        "Temple headaches and jaw tightness",
        [("temporalis", "left", "active"), ("masseter", "left", "active")],
        ["G44.209", "M79.11"],
        ["muscle_tension", "stress"],
        ["behavioural_therapy", "lifestyle_changes"],
        "Get through a work day without a headache.",
        "4_weeks",
        [("nsaids", "no_change")],
    ),
    (
        "Upper back pain between the shoulder blades",
        [("rhomboids", "right", "active"), ("middle_trapezius", "right", "latent")],
        ["M79.18", "M54.6"],
        ["poor_posture", "repetitive_activity"],
        ["home_stretching", "massage"],
        "Sit at my desk all morning without burning between my shoulders.",
        "6_weeks",
        [("massage", "partly_helped")],
    ),
)

FINDINGS = {
    "active": dict(taut_band=True, tender_spot=True, recognised_pain=True, spontaneous_pain=True,
                   local_twitch_response=True, jump_sign=True, focal_nodule=True),
    "latent": dict(taut_band=True, tender_spot=True, recognised_pain=False, spontaneous_pain=False,
                   local_twitch_response=False, jump_sign=False, focal_nodule=True),
    "not": dict(taut_band=False, tender_spot=True, recognised_pain=False, spontaneous_pain=False,
                local_twitch_response=False, jump_sign=False, focal_nodule=False),
}

FIBROMYALGIA_INPUTS = {
    "painful_areas": ["neck", "upper_back", "lower_back", "shoulder_girdle_left", "shoulder_girdle_right",
                      "upper_arm_left", "hip_left", "hip_right", "upper_leg_right"],
    "fatigue": 3, "waking_unrefreshed": 2, "cognitive_symptoms": 1,
    "headaches": True, "lower_abdominal_pain_or_cramps": False, "depression": True,
    "symptom_months": 14,
}


def _drawing(rng, atlas, examined) -> dict[str, int]:
    drawing: dict[str, int] = {}
    for muscle, side, finding in examined:
        if finding == "not":
            continue
        essential, spillover = atlas.referred_zones(muscle, side)
        for zone in sorted(essential):
            drawing[zone] = max(drawing.get(zone, 0), rng.randint(5, 8))
        for zone in sorted(spillover)[:2]:
            drawing.setdefault(zone, rng.randint(2, 4))
    return drawing


def _widespread(rng, areas) -> dict[str, int]:
    """One drawn zone in each WPI area the patient reports (a widespread drawing)."""
    wpi_map = load_wpi_map()
    return {sorted(wpi_map.areas[area].zones)[0]: rng.randint(3, 6) for area in areas}


def _visit(ctx, physician, patient, scenario, *, days_ago: int, sign: bool = True, fibromyalgia: bool = False):
    complaint, examined, codes, causes, adjuncts, goals, follow_up, prior = scenario
    rng = ctx.rng
    atlas = load_atlas()
    visit_date = ctx.today - timedelta(days=days_ago)
    worst = rng.randint(7, 9)
    average = worst - rng.randint(1, 3)
    changes = {
        "onset_date": (visit_date - timedelta(days=rng.randint(90, 400))).isoformat(),
        "causes": [{"id": cause} for cause in causes],
        "aggravating_factors": rng.choice(["Long drives, desk work", "Lifting, bending", "Cold weather, stress"]),
        "easing_factors": rng.choice(["Heat, rest", "Stretching, a hot shower", "Lying down"]),
        "effect_on_movement": "Stiff and guarded in the morning.",
        "effect_on_sleep": rng.choice(["Wakes 2–3 times a night.", "Trouble falling asleep.", "Sleeps badly on that side."]),
        "effect_on_daily_life": rng.choice(["Missed 3 work days this month.", "Stopped going to the gym.", "Avoids carrying shopping."]),
        "prior_treatments": [{"id": t, "outcome": o} for t, o in prior],
        "pain_drawing": _drawing(rng, atlas, examined),
        "nrs_now": average + rng.choice([-1, 0, 1]),
        "nrs_average": average,
        "nrs_worst": worst,
        "peg_pain": average,
        "peg_enjoyment": rng.randint(4, 8),
        "peg_activity": rng.randint(4, 8),
        "adjuncts": list(adjuncts),
        "goals": goals,
        "follow_up_interval": follow_up,
        "planned_technique": "injection",
        "planned_injectate": [{"drug": "lidocaine", "concentration": "1%", "volume_ml": 1.0 * len(examined)}],
    }
    if fibromyalgia:
        changes["fibromyalgia_inputs"] = FIBROMYALGIA_INPUTS
        changes["pain_drawing"] = changes["pain_drawing"] | _widespread(rng, FIBROMYALGIA_INPUTS["painful_areas"])
    with acting_as(physician):
        visit = visit_drafting.create_visit(physician, patient, visit_date=visit_date, chief_complaint=complaint)
        visit = visit_drafting.save_visit_draft(physician, visit, visit.version, changes)
        for muscle, side, finding in examined:
            essential, _spill = atlas.referred_zones(muscle, side)
            exam_findings.record_exam_finding(
                physician,
                visit,
                {
                    "muscle": muscle,
                    "side": side,
                    **FINDINGS[finding],
                    "referred_pain_zones": sorted(essential) if finding == "active" else [],
                    "pressure_pain_threshold_kg_cm2": round(rng.uniform(1.8, 3.8), 1) if finding == "active" else None,
                },
            )
        for code in codes:
            visit_diagnoses.add_diagnosis(physician, visit, code)
        visit.refresh_from_db()
        planned = [{"muscle": m, "side": s} for m, s, f in examined if f == "active"]
        visit = visit_drafting.save_visit_draft(physician, visit, visit.version, {"planned_sites": planned})
        if sign:
            visit = visit_signing.sign_visit(physician, visit, visit.version)
    return visit


def extend(ctx) -> None:
    clinic_a, clinic_b = ctx.clinics[0], ctx.clinics[1]
    in_a = [p for p in ctx.patients if p.clinic_id == clinic_a.pk]
    in_b = [p for p in ctx.patients if p.clinic_id == clinic_b.pk]
    rivera, chen = ctx.staff["dr.rivera"], ctx.staff["dr.chen"]
    signed = 0
    for index, scenario in enumerate(SCENARIOS):
        if index >= len(in_a):
            break
        physician = rivera if index % 2 == 0 else chen
        _visit(ctx, physician, in_a[index], scenario, days_ago=ctx.rng.randint(14, 60))
        signed += 1
    if len(in_a) > len(SCENARIOS):
        fibro_patient = in_a[len(SCENARIOS)]
        _visit(ctx, rivera, fibro_patient, SCENARIOS[4], days_ago=ctx.rng.randint(14, 60), fibromyalgia=True)
        signed += 1
    amended = None
    if in_a:
        amended = in_a[0].assessment_visits.first()
        with acting_as(rivera):
            visit_amendments.amend_visit(
                rivera, amended, "Patient called back: worst pain was higher than first reported.",
                {"nrs_worst": min(10, amended.nrs_worst + 1)},
            )
    drafts = 0
    if len(in_a) > len(SCENARIOS) + 1:
        _visit(ctx, ctx.staff["nurse.okafor"], in_a[len(SCENARIOS) + 1], SCENARIOS[0], days_ago=0, sign=False)
        drafts += 1
    if in_b:
        _visit(ctx, ctx.staff["dr.berg"], in_b[0], SCENARIOS[1], days_ago=ctx.rng.randint(14, 60))
        signed += 1
    ctx.notes.append(
        f"assessment: {signed} signed assessment visits (drawing, scores, exam, ICD-10-CM diagnoses, plan; "
        f"one with the fibromyalgia check met{', one amended' if amended else ''}), {drafts} draft awaiting signature"
    )
