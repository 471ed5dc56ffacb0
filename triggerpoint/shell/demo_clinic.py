"""A deterministic synthetic clinic, so a newcomer always sees a living clinic.

Same seed, same clinic: names, TOTP secrets and records are derived from the
seed. Every installed app with a `demo` module extends it through `demo.extend(ctx)` (core.plugins).
All people are synthetic; no resemblance to real patients is intended.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from triggerpoint.accounts import demo as accounts_demo
from triggerpoint.accounts import mfa
from triggerpoint.accounts.demo import create_account
from triggerpoint.accounts.selectors import account_named
from triggerpoint.clinics import selectors as clinic_reads
from triggerpoint.clinics.services import create_clinic
from triggerpoint.core import plugins
from triggerpoint.core.context import acting_as
from triggerpoint.patients.demo_records import create_demo_patient
from triggerpoint.patients.selectors import has_patients_outside_demo

DEMO_PASSWORD = "demo-clinic-2026"  # noqa: S105 - published demo credential, demo clinics only

STAFF = (
    # username, first, last, role, clinic index
    ("dr.rivera", "Ana", "Rivera", "physician", 0),
    ("dr.chen", "Wei", "Chen", "physician", 0),
    ("nurse.okafor", "Grace", "Okafor", "nurse", 0),
    ("desk.lopez", "Marco", "Lopez", "front_desk", 0),
    ("analyst.kim", "Jin", "Kim", "analyst", 0),
    ("admin.patel", "Ravi", "Patel", "clinic_admin", 0),
    ("dr.berg", "Lena", "Berg", "physician", 1),
    ("nurse.adams", "Sam", "Adams", "nurse", 1),
)

GIVEN_F = ["Maria", "Linda", "Aisha", "Sofia", "Emily", "Hannah", "Priya", "Rosa", "Chloe", "Nora", "Yuki", "Fatima"]
GIVEN_M = ["James", "Daniel", "Luis", "Omar", "Ethan", "Kwame", "Tomas", "Noah", "Arjun", "Ben", "Hiro", "Pavel"]
FAMILY = ["Alvarez", "Brooks", "Castillo", "Dawson", "Ellison", "Fischer", "Garcia", "Hughes", "Ibarra", "Jensen",
          "Kowalski", "Larsen", "Morales", "Nguyen", "Ortega", "Price", "Quinn", "Ramos", "Sato", "Turner",
          "Umar", "Vargas", "Walsh", "Young", "Zamora"]
ALLERGIES = [("Penicillin", "Hives", "moderate"), ("Sulfa drugs", "Rash", "mild"), ("Latex", "Itching", "mild"),
             ("Lidocaine", "Swelling of lips", "severe"), ("Iodine contrast", "Hives", "moderate"),
             ("Codeine", "Nausea", "mild")]
MEDICATIONS = [("Apixaban 5 mg", "anticoagulant"), ("Warfarin 5 mg", "anticoagulant"), ("Clopidogrel 75 mg", "antiplatelet"),
               ("Aspirin 81 mg", "antiplatelet"), ("Ibuprofen 400 mg", "nsaid"), ("Naproxen 500 mg", "nsaid"),
               ("Cyclobenzaprine 10 mg", "muscle_relaxant"), ("Amitriptyline 25 mg", "antidepressant"),
               ("Duloxetine 60 mg", "antidepressant"), ("Gabapentin 300 mg", "anticonvulsant"),
               ("Metformin 1000 mg", "antidiabetic"), ("Prednisone 5 mg", "corticosteroid"), ("Lisinopril 10 mg", "other")]
RISKS = ["diabetes", "bleeding_disorder", "immunosuppression", "prior_vasovagal", "copd", "thin_habitus", "fibromyalgia"]


class DemoRefused(Exception):
    pass


@dataclass
class DemoContext:
    seed: int
    rng: random.Random
    today: date
    clinics: list[Any]  # clinics.Clinic
    staff: dict[str, Any]  # username -> accounts.User
    patients: list[Any]  # patients.Patient
    portal_patient: Any = None  # the patient of the portal account, once made
    notes: list[str] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)


def totp_key_for(seed: int, username: str) -> str:
    """A deterministic 20-byte TOTP key (hex), so the printed demo secrets stay valid across rebuilds."""
    return hashlib.sha256(f"triggerpoint-demo:{seed}:{username}".encode()).hexdigest()[:40]


def demo_present() -> bool:
    return clinic_reads.demo_present()


def refuse_if_real_data() -> None:
    if clinic_reads.has_real_clinics() or has_patients_outside_demo():
        raise DemoRefused(
            "This database holds non-demo clinics or patients. The demo builder never touches real data; "
            "point DATABASE_URL at an empty database instead."
        )


@transaction.atomic
def build_demo(patients: int = 40, seed: int = 7, today: date | None = None, only_apps: tuple[str, ...] | None = None,
               **options: Any) -> DemoContext:
    refuse_if_real_data()
    rng = random.Random(seed)
    today = today or timezone.localdate()
    clinics = [
        create_clinic(name="Riverside Pain & Spine Clinic", slug="riverside", phone="(555) 010-2000",
                              after_hours_phone="(555) 010-2999", address="100 River Road, Springfield", is_demo=True,
                              mrn_prefix="RIV-", mrn_width=6),
        create_clinic(name="Hillcrest Pain Clinic", slug="hillcrest", phone="(555) 010-3000",
                              after_hours_phone="(555) 010-3999", address="5 Hill Street, Springfield", is_demo=True,
                              mrn_prefix="HIL-", mrn_width=6),
    ]
    staff: dict[str, Any] = {}
    for username, first, last, role, clinic_index in STAFF:
        user = create_account(username, email=f"{username}@clinic.example", password=DEMO_PASSWORD,
                              first_name=first, last_name=last, clinic=clinics[clinic_index])
        user.groups.add(Group.objects.get_or_create(name=role)[0])
        mfa.provision_totp(user, totp_key_for(seed, username))
        staff[username] = user
    ctx = DemoContext(seed=seed, rng=rng, today=today, clinics=clinics, staff=staff, patients=[], options=options)
    with acting_as(staff["nurse.okafor"]):
        for i in range(patients):
            clinic = clinics[0] if i % 8 != 7 else clinics[1]
            ctx.patients.append(_make_patient(rng, clinic, i, today))
    portal_user = create_account("patient.demo", email="patient.demo@example.org", password=DEMO_PASSWORD,
                                 first_name=ctx.patients[0].given_name, last_name=ctx.patients[0].family_name)
    ctx.patients[0].portal_user = portal_user
    ctx.patients[0].save(update_fields=["portal_user"])
    ctx.portal_patient = ctx.patients[0]
    for config, module in plugins.contributions("demo"):  # every app with a demo module; a test may pick some
        if only_apps is None or config.label in only_apps:
            module.extend(ctx)
    return ctx


def _make_patient(rng: random.Random, clinic, index: int, today: date):
    sex = rng.choice(["female", "male"])
    given = rng.choice(GIVEN_F if sex == "female" else GIVEN_M)
    age_days = rng.randint(22 * 365, 82 * 365)
    weight = Decimal(str(round(rng.uniform(52, 110) if sex == "female" else rng.uniform(62, 125), 1)))
    height = Decimal(str(round(rng.uniform(152, 178) if sex == "female" else rng.uniform(165, 192), 1)))
    fields = dict(
        mrn=f"{clinic.slug[:3].upper()}-{100000 + index * 37:06d}",
        given_name=given,
        family_name=rng.choice(FAMILY),
        date_of_birth=today - timedelta(days=age_days),
        sex=sex,
        weight_kg=weight,
        weight_measured_on=today - timedelta(days=rng.randint(0, 120)),
        height_cm=height,
        phone=f"(555) 01{rng.randint(0, 9)}-{rng.randint(1000, 9999)}",
        email=f"{given.lower()}.{index}@example.org",
        address=f"{rng.randint(1, 999)} Demo Street, Springfield",
        preferred_language="es" if rng.random() < 0.2 else "en",
    )
    # Drawn in the order the records are stored, so a seed gives the same patients as before.
    allergies = rng.sample(ALLERGIES, k=rng.choice([0, 0, 1, 1, 2]))
    medications = rng.sample(MEDICATIONS, k=rng.randint(0, 3))
    risk_kinds = [kind for kind in rng.sample(RISKS, k=rng.choice([0, 0, 1, 1, 2]))
                  if kind == "diabetes" or rng.random() < 0.7]
    if sex == "female" and age_days < 40 * 365 and rng.random() < 0.1:
        risk_kinds.append("pregnancy")
    return create_demo_patient(clinic, fields, allergies=allergies, medications=medications, risk_kinds=risk_kinds)


def login_lines(seed: int) -> list[str]:
    """What a newcomer needs to sign in: usernames, roles, password and each second-factor secret."""

    lines = [f"Demo password for every account: {DEMO_PASSWORD}", ""]
    for username, _first, _last, role, _clinic_index in STAFF:
        user = account_named(username)
        if user is None:
            continue
        device = TOTPDevice.objects.filter(user=user).first()
        code = f"{totp(device.bin_key, step=device.step, digits=device.digits):06d}" if device else "-"
        clinic = user.clinic.name if user.clinic else ""
        lines.append(f"  {username:<14} {role:<13} {clinic}")
        if device:
            lines.append(f"      TOTP secret {mfa.base32_secret(device)}   code right now: {code}")
            lines.append(f"      {mfa.otpauth_uri(device)}")
    lines.append("  patient.demo   patient portal (no second factor)")
    lines.extend(accounts_demo.smart_login_lines())
    return lines
