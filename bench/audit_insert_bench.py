"""Cost of the audit hash chain per insert: a chained audit event against a plain insert of the same row.

Run from the repo root on a migrated database (SQLite by default, PostgreSQL with DATABASE_URL):
    TRIGGERPOINT_VAR_DIR=/tmp/bench-var .venv/bin/python manage.py migrate -v0
    TRIGGERPOINT_VAR_DIR=/tmp/bench-var .venv/bin/python bench/audit_insert_bench.py [--n 400]

Interleaves the two kinds (chained `audit.record`, and the same row inserted by a plain
QuerySet that skips the chain) in autocommit mode, as a request writes them, and prints
the median and p95 of each and the difference. Also times `record_patient_views` for a
page of 50 patients. The plain rows are left without hashes on purpose: run it on a
throwaway database (`audit verify` will report them).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "triggerpoint.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, models  # noqa: E402

from triggerpoint.audit import services as audit  # noqa: E402
from triggerpoint.audit.models import AuditEvent  # noqa: E402
from triggerpoint.clinics.models import Clinic  # noqa: E402
from triggerpoint.patients.models import Patient  # noqa: E402

CLOCK = time.perf_counter


def main() -> None:
    global CLOCK
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=400)
    parser.add_argument("--cpu", action="store_true",
                        help="time this process's CPU only (process_time): steadier on a shared, loaded machine; "
                             "leaves out the database server's work on PostgreSQL and time spent waiting")
    args = parser.parse_args()
    n = args.n
    CLOCK = time.process_time if args.cpu else time.perf_counter
    clinic, _ = Clinic.objects.get_or_create(slug="bench-audit", defaults={"name": "Bench audit clinic"})
    patients = list(Patient.objects.filter(clinic=clinic)[:50])
    if len(patients) < 50:
        from datetime import date

        for i in range(len(patients), 50):
            Patient.objects.create(clinic=clinic, mrn=f"BA-{i}", given_name="Bench", family_name=f"P{i}",
                                   date_of_birth=date(1980, 1, 1), sex="female")
        patients = list(Patient.objects.filter(clinic=clinic)[:50])
    patient = patients[0]
    plain = models.QuerySet(AuditEvent)
    chained, unchained, batch = [], [], []
    for _ in range(n):
        start = CLOCK()
        audit.record("patients.patient.viewed", obj=patient, details={"channel": "bench"})
        chained.append(CLOCK() - start)
        start = CLOCK()
        plain.bulk_create([AuditEvent(action="patients.patient.viewed", object_type="patients.patient",
                                      object_id=str(patient.public_id), patient=patient, clinic=clinic,
                                      details={"channel": "bench"})])
        unchained.append(CLOCK() - start)
    for _ in range(max(n // 10, 10)):
        start = CLOCK()
        audit.record_patient_views("patients.patient.listed", patients, details={"via": "bench"})
        batch.append(CLOCK() - start)

    def stats(values):
        ordered = sorted(values)
        return statistics.median(ordered) * 1000, ordered[int(len(ordered) * 0.95) - 1] * 1000

    clock = "process CPU time" if args.cpu else "wall time"
    print(f"database: {connection.vendor}, {n} inserts of each kind, interleaved, {clock}")
    for label, values in (("plain insert", unchained), ("chained insert", chained),
                          ("batch of 50 (chained)", batch)):
        median, p95 = stats(values)
        print(f"{label:24s} median {median:6.3f} ms   p95 {p95:6.3f} ms")
    extra = stats(chained)[0] - stats(unchained)[0]
    print(f"extra per chained insert (median): {extra:.3f} ms")


if __name__ == "__main__":
    main()
