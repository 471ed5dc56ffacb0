"""Who the synthetic outcome registry treats, and how: conditions, injectate mixes, effects, names, practitioners.

The simulation's parameters (``registry.generate`` draws from them) and its population: the
registry's patients (``create_patients``) and the physicians with their small practitioner
effect (``practitioners_for``). Apart from the drawing so the assumptions read in one
place; the effects are for the dashboard, not evidence (see ``registry``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from triggerpoint.outcomes import bulk
from triggerpoint.patients.selectors import patient_table

# condition (primary ICD-10-CM), weight, muscles (weights), relief shift
CONDITIONS: tuple[tuple[str, float, tuple[tuple[str, float], ...], float], ...] = (
    ("M54.2", 0.26, (("upper_trapezius", 5), ("levator_scapulae", 4), ("splenius_capitis", 2),
                     ("splenius_cervicis", 1.5), ("sternocleidomastoid", 1.5), ("scalenes", 1), ("rhomboids", 1.5),
                     ("semispinalis_capitis", 1)), 0.0),
    ("M54.50", 0.22, (("quadratus_lumborum", 5), ("iliocostalis_lumborum", 3), ("multifidus", 2.5),
                      ("gluteus_medius", 3), ("gluteus_minimus", 1.5), ("piriformis", 2), ("iliopsoas", 0.8),
                      ("longissimus_thoracis", 1.5)), -0.02),
    ("M79.18", 0.16, (("infraspinatus", 3), ("supraspinatus", 1.5), ("teres_minor", 1), ("deltoid", 1),
                      ("rhomboids", 2), ("middle_trapezius", 2), ("latissimus_dorsi", 1), ("serratus_anterior", 0.7),
                      ("pectoralis_major", 1), ("gastrocnemius", 0.6), ("wrist_extensors", 0.8)), 0.0),
    ("G44.209", 0.10, (("suboccipitals", 4), ("upper_trapezius", 3), ("sternocleidomastoid", 2.5),
                       ("temporalis", 2.5), ("splenius_capitis", 2), ("semispinalis_capitis", 1.5)), 0.03),
    ("M79.12", 0.09, (("upper_trapezius", 4), ("levator_scapulae", 3), ("sternocleidomastoid", 2),
                      ("scalenes", 1.5), ("suboccipitals", 1.5)), 0.01),
    ("M62.830", 0.07, (("quadratus_lumborum", 3), ("iliocostalis_lumborum", 3), ("longissimus_thoracis", 2.5),
                       ("multifidus", 2), ("iliocostalis_thoracis", 1)), 0.02),
    ("M79.7", 0.06, (("upper_trapezius", 3), ("levator_scapulae", 2), ("gluteus_medius", 2),
                     ("quadratus_lumborum", 2), ("infraspinatus", 1.5), ("rhomboids", 1.5)), -0.15),
    ("M79.11", 0.04, (("masseter", 5), ("temporalis", 3), ("lateral_pterygoid", 2)), 0.0),
)

# injectate mix: drugs (id, percent or mg/mL or units/mL), weight, immediate relief, relief shift
MIXES: tuple[tuple[tuple[tuple[str, str, float], ...], float, float, float], ...] = (
    ((("lidocaine", "percent", 1.0),), 0.38, 0.62, 0.04),
    ((("bupivacaine", "percent", 0.25),), 0.12, 0.55, 0.02),
    ((("lidocaine", "percent", 1.0), ("triamcinolone", "mg_per_ml", 40.0)), 0.10, 0.62, 0.03),
    ((("lidocaine", "percent", 0.5), ("bupivacaine", "percent", 0.25)), 0.08, 0.60, 0.03),
    ((("ropivacaine", "percent", 0.5),), 0.06, 0.55, 0.02),
    ((("saline", "percent", 0.9),), 0.08, 0.30, -0.01),
    ((("onabotulinumtoxinA", "units_per_ml", 25.0),), 0.03, 0.25, 0.05),
    ((("procaine", "percent", 0.5),), 0.03, 0.50, 0.01),
)
DRY_NEEDLING_SHARE = 0.12
DRY_NEEDLING_SHIFT = -0.05
DRY_NEEDLING_IMMEDIATE = 0.12  # post-needling soreness: little relief on the day
ULTRASOUND_SHARE = 0.30
ULTRASOUND_SHIFT = 0.06
BASE_RELIEF = 0.62
RELIEF_TAU_DAYS = 60.0
FOLLOW_UPS = (("2w", 14, 0.72), ("6w", 42, 0.58), ("12w", 84, 0.32))
PAYERS = (("medicare_lcd", 0.45), ("bcbs_style", 0.35), ("evicore", 0.20))
SPAN_DAYS = 3 * 365

GIVEN = ("Alex", "Jordan", "Casey", "Riley", "Morgan", "Taylor", "Jamie", "Avery", "Quinn", "Rowan", "Sage",
         "Drew", "Kai", "Reese", "Emery", "Skyler", "Parker", "Dakota", "Hayden", "Logan")
FAMILY = ("Abbott", "Baker", "Carver", "Dunn", "Everett", "Ford", "Grant", "Hale", "Irwin", "Judd", "Kerr",
          "Lowe", "Mercer", "Nash", "Oakes", "Pike", "Reyes", "Stone", "Tate", "Vance", "Webb", "York")


@dataclass(frozen=True)
class Practitioner:
    user_id: int
    clinic_id: int
    relief_shift: float
    ultrasound_share: float = ULTRASOUND_SHARE


def weighted_choice(rng: np.random.Generator, weights: Sequence[float], size: int) -> np.ndarray:
    p = np.asarray(weights, dtype=float)
    return rng.choice(len(p), size=size, p=p / p.sum())


def create_patients(rng: np.random.Generator, clinic_ids: Sequence[int], count: int, today: date,
                    clinic_weights: Sequence[float], progress=None) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic registry patients; returns (ids, clinic ids)."""
    table = patient_table()
    ids = bulk.next_ids(table, count)
    clinic_of = np.asarray(clinic_ids)[weighted_choice(rng, clinic_weights, count)]
    with bulk.fast_load([table], count):
        _insert_patients(rng, ids, clinic_of, count, today, progress)
    bulk.reset_sequences([table])
    return ids, clinic_of


def _insert_patients(rng, ids, clinic_of, count, today, progress) -> None:
    table = patient_table()
    sex = np.where(rng.random(count) < 0.62, "female", "male")
    ages = rng.integers(20 * 365, 85 * 365, count)
    dob = np.datetime64(today) - ages.astype("timedelta64[D]")
    given = np.asarray(GIVEN)[rng.integers(0, len(GIVEN), count)]
    family = np.asarray(FAMILY)[rng.integers(0, len(FAMILY), count)]
    now = bulk.datetime_text(np.full(count, np.datetime64(f"{today.isoformat()}T08:00:00")))
    bulk.insert_columns(
        table,
        {
            "id": ids,
            "public_id": bulk.uuid_hex(rng, count),
            "clinic_id": clinic_of,
            "created_at": now,
            "updated_at": now,
            "mrn": [f"REG-{i:08d}" for i in ids.tolist()],
            "given_name": given.tolist(),
            "family_name": family.tolist(),
            "date_of_birth": bulk.date_text(dob),
            "sex": sex.tolist(),
            "phone": "",
            "email": [f"registry.{i}@example.org" for i in ids.tolist()],
            "preferred_language": np.where(rng.random(count) < 0.15, "es", "en").tolist(),
        },
        count,
        progress=progress,
    )


def practitioners_for(staff: dict, clinics: Sequence) -> list[Practitioner]:
    """The demo physicians with a small practitioner effect each (the issue: results depend on the practitioner)."""
    shifts = {"dr.rivera": (0.03, 0.45), "dr.chen": (0.0, 0.20), "dr.berg": (-0.02, 0.30)}
    people = []
    for username, user in staff.items():
        if username in shifts and user.clinic_id is not None:
            shift, us = shifts[username]
            people.append(Practitioner(user_id=user.pk, clinic_id=user.clinic_id, relief_shift=shift, ultrasound_share=us))
    covered = {p.clinic_id for p in people}
    missing = [c.name for c in clinics if c.pk not in covered]
    if missing:
        raise ValueError(f"no physician for the registry in {', '.join(missing)}")
    return people

