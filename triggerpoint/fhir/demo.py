"""Demo extension for the FHIR interface: each clinic's patient groups, for `Group/{id}/$export`.

"All TPI patients <year>" holds every patient with a signed injection note; "Research cohort" a few
of them; "New cohort (empty)" none (an empty group's export completes with no files).
"""

from __future__ import annotations

from triggerpoint.core.context import acting_as
from triggerpoint.fhir import groups
from triggerpoint.procedures.selectors import signed_procedures


def extend(ctx) -> None:
    year = ctx.today.year
    for clinic in ctx.clinics:
        admin = next((u for u in ctx.staff.values() if u.clinic_id == clinic.pk and u.username.startswith("admin")),
                     None)
        treated = sorted({note.patient_id for note in signed_procedures(clinic_id=clinic.pk).only("patient_id")})
        mine = [p for p in ctx.patients if p.clinic_id == clinic.pk and p.pk in set(treated)]
        with acting_as(admin):
            everyone = groups.create_group(clinic, f"All TPI patients {year}", by=admin,
                                           description="Every patient with a signed trigger point injection note.")
            groups.add_members(everyone, mine, by=admin)
            research = groups.create_group(clinic, "Research cohort", by=admin,
                                           description="Patients who agreed to the outcomes study.")
            groups.add_members(research, mine[::3], by=admin)
            groups.create_group(clinic, "New cohort (empty)", by=admin, description="Not filled yet.")
    ctx.notes.append("FHIR groups: each clinic has 'All TPI patients', 'Research cohort' and an empty one "
                     "(GET /fhir/R4/Group, then Group/<id>/$export with Prefer: respond-async).")
