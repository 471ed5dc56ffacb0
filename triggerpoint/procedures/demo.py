"""Demo procedure notes: signed sessions after the demo assessments, one amended, two drafts.

Every note goes through the services a clinician would use (draft → autosave →
sign), so the dose check and codes are the real ones and `procedure_signed`
reaches aftercare, follow-up and outcomes exactly as in the clinic.
Deterministic from ctx.rng.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from triggerpoint.core.context import acting_as
from triggerpoint.procedures import amendments, drafting, note_reads, signing
from triggerpoint.procedures.models import Injectate, InjectionSite, Procedure, ProcedureStatus

NECK_SHOULDER = [("upper_trapezius", "left"), ("upper_trapezius", "right"), ("levator_scapulae", "left"),
                 ("rhomboids", "right"), ("infraspinatus", "left")]
LOW_BACK = [("quadratus_lumborum", "left"), ("quadratus_lumborum", "right"), ("gluteus_medius", "left"),
            ("piriformis", "right")]
MIXES = [
    [{"drug": "lidocaine", "concentration_percent": 1, "ml_per_site": 1.5}],
    [{"drug": "lidocaine", "concentration_percent": 1, "ml_per_site": 1},
     {"drug": "triamcinolone", "concentration_mg_per_ml": 40, "ml_per_site": 0.25}],
    [{"drug": "bupivacaine", "concentration_percent": 0.25, "ml_per_site": 2}],
    [{"drug": "lidocaine", "concentration_percent": 0.5, "ml_per_site": 1}, {"drug": "saline", "ml_per_site": 1}],
]


def _note(ctx, planned, mix_index: int, *, guidance: str = "landmark", complete: bool = True) -> dict:
    rng = ctx.rng
    sites = planned or rng.sample(rng.choice([NECK_SHOULDER, LOW_BACK]), k=rng.randint(2, 4))
    mix = [dict(component, lot_number=f"L{rng.randint(100000, 999999)}",
                expiry=(ctx.today + timedelta(days=rng.randint(120, 700))).isoformat())
           for component in MIXES[mix_index % len(MIXES)]]
    document = {
        "guidance": guidance,
        "mix": mix,
        "sites": [
            {"muscle": muscle, "side": side, "technique": "injection", "insertions": rng.randint(1, 4),
             "needle_gauge": 25, "needle_length_mm": 38 if muscle not in ("quadratus_lumborum", "piriformis") else 64,
             "local_twitch": rng.random() < 0.7, "immediate_response": rng.choice(["", "Pain eased", "Referred pain reproduced"])}
            for muscle, side in sites
        ],
    }
    if complete:
        pre = rng.randint(5, 8)
        document.update(pre_nrs=pre, post_nrs=max(0, pre - rng.randint(2, 5)), observation_minutes=rng.choice([15, 20]),
                        discharge_condition="stable", complications=[], timeout_performed="yes",
                        timeout_time=f"13:{rng.randint(30, 59)}", site_marked="yes",
                        skin_prep_agent="chlorhexidine_alcohol", sterile_technique="aseptic_no_touch")
    return document


def _dated_weight_ok(patient, on) -> bool:
    measured = patient.weight_measured_on
    return bool(patient.weight_kg and measured and (on - measured).days <= note_reads.NOTE_DOSING_POLICY.weight_max_age_days)


def _procedure(ctx, physician, patient, on, document, *, sign: bool = True, assessment=None) -> Procedure:
    with acting_as(physician):
        procedure = drafting.create_draft(physician, patient, procedure_date=on, assessment=assessment)
        document = dict(document, procedure_date=on.isoformat(), diagnosis_codes=procedure.diagnosis_codes)
        procedure = drafting.autosave_draft(physician, procedure, procedure.version, document)
        if sign:
            # The procedure happened that afternoon; the note is signed now.
            procedure.performed_at = timezone.make_aware(datetime.combine(on, time(14, ctx.rng.randint(0, 59))))
            procedure.save(update_fields=["performed_at"])
            procedure.refresh_from_db()
            try:
                procedure = signing.sign_procedure(physician, procedure, procedure.version)
            except signing.SigningBlocked as blocked:
                # A demo patient treated in the same region a few weeks earlier: the physician signs
                # against the payer's repeat limits with a reason, as the clinic would (audited).
                if not all(problem.startswith("repeat injection:") for problem in blocked.problems):
                    raise
                procedure = signing.sign_procedure(
                    physician, procedure, procedure.version,
                    repeat_override_reason="Flare after a documented good response; payer pre-authorisation on file.",
                )
    return procedure


def extend(ctx) -> None:
    clinic_a, clinic_b = ctx.clinics[0], ctx.clinics[1]
    rivera, chen, berg = ctx.staff["dr.rivera"], ctx.staff["dr.chen"], ctx.staff["dr.berg"]
    nurse = ctx.staff["nurse.okafor"]
    signed: list[Procedure] = []
    yesterday = ctx.today - timedelta(days=1)
    candidates = [p for p in ctx.patients if p.weight_kg]
    with_visits = [p for p in candidates if p.assessment_visits.filter(status="signed").exists()]
    others = [p for p in candidates if p not in with_visits]

    # Signed notes a few days after each signed assessment, using the planned muscles.
    for index, patient in enumerate(with_visits[:8]):
        visit = patient.assessment_visits.filter(status="signed").order_by("-visit_date").first()
        on = min(visit.visit_date + timedelta(days=ctx.rng.randint(3, 10)), yesterday)
        if not _dated_weight_ok(patient, on):
            continue
        planned = [(s["muscle"], s["side"]) for s in visit.planned_sites or [] if s.get("side") in ("left", "right")]
        physician = berg if patient.clinic_id == clinic_b.pk else (rivera if index % 2 == 0 else chen)
        guidance = "ultrasound" if index == 3 else "landmark"
        signed.append(_procedure(ctx, physician, patient, on, _note(ctx, planned, index, guidance=guidance),
                                 assessment=visit))

    # A few more without an assessment in the demo, spread over the last six weeks.
    for index, patient in enumerate([p for p in others if p.clinic_id == clinic_a.pk][:4]):
        on = ctx.today - timedelta(days=ctx.rng.randint(2, 40))
        if not _dated_weight_ok(patient, on):
            continue
        signed.append(_procedure(ctx, rivera if index % 2 else chen, patient, on, _note(ctx, None, index + 1)))

    amended = None
    if signed:
        amended = signed[0]
        with acting_as(amended.signed_by):
            amendments.amend_procedure(
                amended.signed_by, amended, reason="Needle length recorded wrongly",
                text="A 38 mm needle was used at every site (not 64 mm).",
            )

    drafts = 0
    spare = [p for p in others if p.clinic_id == clinic_a.pk][4:]
    if spare:  # finished yesterday, waiting for the physician's signature
        _procedure(ctx, chen, spare[0], yesterday, _note(ctx, None, 2), sign=False)
        drafts += 1
    if len(spare) > 1:  # started today by the nurse: sites and mix, no outcome yet
        _procedure(ctx, nurse, spare[1], ctx.today, _note(ctx, None, 0, complete=False), sign=False)
        drafts += 1

    total_mg = sum(
        Decimal(str(item["total_mg"] or 0))
        for p in signed for item in (p.dose_check or {}).get("items", []) if item["drug_class"].endswith("anesthetic")
    )
    ctx.notes.append(
        f"procedures: {len(signed)} signed procedure notes (dose-checked, coded; procedure_signed sent"
        f"{', one amended' if amended else ''}; {total_mg:.0f} mg local anaesthetic in all), {drafts} drafts"
    )


def signed_history_note(patient, physician, day, *, performed_at: datetime) -> Procedure:
    """A plain signed note of an earlier session, stored as it stands (for another app's demo history, e.g.
    the outcomes demo's portal patient): lidocaine 1 % to three neck and shoulder sites under ultrasound.

    Written directly, not through `signing`, so `procedure_signed` does not fire: the caller decides
    what follows from it.
    """
    note = Procedure.objects.create(
        clinic=patient.clinic, patient=patient, performed_by=physician, procedure_date=day,
        performed_at=performed_at, guidance="ultrasound", pre_nrs=7, post_nrs=2,
        observation_minutes=20, discharge_condition="stable", payer="medicare_lcd", diagnosis_codes=["M54.2"],
    )
    for position, (muscle, side) in enumerate(
        (("upper_trapezius", "left"), ("upper_trapezius", "right"), ("levator_scapulae", "left"))
    ):
        InjectionSite.objects.create(procedure=note, position=position, muscle=muscle, side=side, insertions=2)
    Injectate.objects.create(procedure=note, drug="lidocaine", concentration_percent=1, volume_ml=6, dose_mg=60)
    note.status = ProcedureStatus.SIGNED
    note.signed_at = note.performed_at + timedelta(minutes=40)
    note.signed_by = physician
    note.save()
    return note
