"""Front-desk search on a large clinic: the search box against the plain name search, in one run.

Issue 17: search by name (accents, "last, first"), date of birth, phone and partial MRN must be fast
on a clinic with 200,000 patients on PostgreSQL. The baseline is the plain search the product had
before (each word `icontains` in the given or family name, or the MRN's start), run side by side on
the same database, so the ratio says what the richer search costs on this machine today.

    createdb -h 127.0.0.1 -U postgres tp_search_bench     # an empty database
    .venv/bin/python bench/search_bench.py --database-url postgres://postgres@127.0.0.1:5432/tp_search_bench

It migrates the database, loads --patients synthetic patients into one clinic (once; a rerun
reuses them), gives a third of them an assessment visit (for "last visit"), then times each query
--runs times (wall clock, median and p95, including the audit insert the search makes).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

GIVEN = ["José", "Ana", "Luis", "María", "John", "Mary", "Wei", "Aisha", "Olga", "Pedro", "Chloé", "Noah", "Emma",
         "Liam", "Sofía", "Lucas", "Zoë", "Amir", "Fatima", "Ivan"]
FAMILY = ["García", "Garcia", "Smith", "Nguyen", "Müller", "Johnson", "López", "Brown", "Okafor", "Kowalski",
          "Rossi", "Chen", "Patel", "Ibáñez", "O'Brien", "Martin", "Dubois", "Haddad", "Kim", "Silva"]


def load(clinic, count: int) -> None:
    from triggerpoint.accounts.models import User
    from triggerpoint.assessment.models import Visit
    from triggerpoint.patients.folding import fold, phone_digits
    from triggerpoint.patients.models import Patient

    have = Patient.objects.filter(clinic=clinic).count()
    if have >= count:
        return
    rng = random.Random(17)
    batch = []
    for n in range(have, count):
        family = f"{rng.choice(FAMILY)}{'' if n % 3 else '-' + rng.choice(FAMILY)}"
        given = rng.choice(GIVEN)
        born = date(1930, 1, 1) + timedelta(days=rng.randrange(0, 30000))
        phone = f"(555) {rng.randrange(100, 999)}-{rng.randrange(1000, 9999)}"
        batch.append(Patient(  # bulk_create skips save(): the stored search keys are set here
            clinic=clinic, mrn=f"BEN-{n:07d}", given_name=given, family_name=family,
            search_name=fold(f"{family} {given}"), phone_digits=phone_digits(phone),
            date_of_birth=born, phone=phone, sex="unknown",
        ))
        if len(batch) == 5000:
            Patient.objects.bulk_create(batch)
            batch = []
            print(f"  {n + 1} patients", flush=True)
    Patient.objects.bulk_create(batch)
    doctor, _ = User.objects.get_or_create(username="bench.search.doc", defaults={"clinic": clinic})
    visits = [Visit(clinic=clinic, patient_id=pk, clinician=doctor, visit_date=date(2026, 1, 1) + timedelta(days=pk % 300))
              for pk in Patient.objects.filter(clinic=clinic).values_list("pk", flat=True)[::3]]
    Visit.objects.bulk_create(visits, batch_size=5000)


def plain_search(user, query: str, limit: int = 50):
    """The product's earlier search (the baseline): words in the name, or the MRN's start."""
    from django.db.models import Q

    from triggerpoint.accounts.policy import scope_to_user
    from triggerpoint.audit import services as audit
    from triggerpoint.patients.models import Patient

    qs = scope_to_user(Patient.objects.all(), user, "patient.list")
    for term in query.split():
        qs = qs.filter(Q(given_name__icontains=term) | Q(family_name__icontains=term) | Q(mrn__istartswith=term))
    results = list(qs.order_by("family_name", "given_name")[:limit])
    if results:
        audit.record_patient_views("patients.patient.searched", results, clinic=user.clinic_id, details={})
    return results


def timed(fn, runs: int) -> tuple[float, float, int]:
    found = fn()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1], len(found)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--patients", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "triggerpoint.settings")
    os.environ.setdefault("TRIGGERPOINT_VAR_DIR", tempfile.mkdtemp(prefix="tp-search-bench-"))
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    from triggerpoint.clinics.models import Clinic
    from triggerpoint.conftest import make_staff
    from triggerpoint.core.context import acting_as
    from triggerpoint.patients import search

    call_command("migrate", "--noinput", verbosity=0)
    clinic, _ = Clinic.objects.get_or_create(slug="bench-search", defaults={"name": "Bench search clinic",
                                                                            "mrn_prefix": "BEN-"})
    load(clinic, args.patients)
    from triggerpoint.accounts.models import User

    desk = User.objects.filter(username="bench.search.desk").first() or make_staff(
        "bench.search.desk", "front_desk", clinic, with_totp=False)
    cases = [
        ("surname", "garcia"),
        ("accented surname", "müller"),
        ("last, first", "lopez, jose"),
        ("two words", "ana smi"),
        ("date of birth (US)", "05/17/1980"),
        ("phone", "(555) 123-4567"),
        ("partial MRN", "0012345"),
    ]
    print(f"{args.patients} patients; {args.runs} runs each; wall ms (median / p95)")
    print(f"{'query':22} {'search box':>18} {'plain search':>18} {'ratio':>7}  rows")
    with acting_as(desk):
        for label, query in cases:
            box = timed(lambda q=query: search.find_patients(desk, q), args.runs)
            plain = timed(lambda q=query: plain_search(desk, q), args.runs)
            ratio = box[0] / plain[0] if plain[0] else float("inf")
            print(f"{label:22} {box[0]:8.1f} / {box[1]:7.1f} {plain[0]:8.1f} / {plain[1]:7.1f} {ratio:7.2f}  "
                  f"{box[2]} vs {plain[2]}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
