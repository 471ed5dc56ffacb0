"""Speed and memory of a FHIR Bulk Data system export (`fhir.bulk_run.run_export`) of the demo clinic.

Run from the repo root on a throwaway database (SQLite by default, PostgreSQL with DATABASE_URL):
    TRIGGERPOINT_VAR_DIR=/tmp/bench-export .venv/bin/python manage.py migrate -v0
    TRIGGERPOINT_VAR_DIR=/tmp/bench-export .venv/bin/python bench/bulk_export_bench.py --patients 40 [--runs 3]

Builds the demo clinic with --patients patients when the database has none, then runs the system
export of Riverside as dr.rivera (every type a clinician reads) --runs times: prints resources, files,
seconds and resources/s per run (median), the process's peak RSS, and the Python heap peak of one
more run under tracemalloc (slower; its time is not counted). Each run writes its audit events.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "triggerpoint.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402

from triggerpoint.accounts.models import User  # noqa: E402
from triggerpoint.fhir import bulk_export, bulk_run, registry  # noqa: E402
from triggerpoint.fhir.models import ExportJob  # noqa: E402
from triggerpoint.patients import selectors as patients  # noqa: E402


def one_run(user) -> tuple[int, int, float]:
    types = [r.name for r in registry.all_types() if bulk_export.eligible(r, "system")]
    job = ExportJob.objects.create(clinic_id=user.clinic_id, level="system", types=types, request_url="bench",
                                   user=user, requester=f"bench:{user.pk}", requester_label=user.username)
    started = time.perf_counter()
    status = bulk_run.run_export(job.pk)
    seconds = time.perf_counter() - started
    job.refresh_from_db()
    assert status == "completed", (status, job.error)
    count = sum(o["count"] for o in job.outputs)
    bulk_export.delete_files(job)
    return count, len(job.outputs), seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=40)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if not patients.patients().exists():
        from triggerpoint.shell.demo_clinic import build_demo  # only when the database is empty

        built = time.perf_counter()
        build_demo(patients=args.patients, seed=7)
        print(f"built the demo with {args.patients} patients in {time.perf_counter() - built:.1f} s")
    user = User.objects.get(username="dr.rivera")
    clinic_patients = patients.patients(clinic_id=user.clinic_id).count()
    print(f"database: {connection.vendor}; export dir {settings.FHIR_EXPORT_DIR}; chunk {bulk_export.chunk_size()}")
    print(f"Riverside patients: {clinic_patients}")
    rates = []
    for run in range(args.runs):
        count, files, seconds = one_run(user)
        rates.append(count / seconds)
        print(f"run {run + 1}: {count} resources in {files} files, {seconds:.2f} s, {count / seconds:.0f} resources/s")
    print(f"median: {statistics.median(rates):.0f} resources/s")
    print(f"peak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f} MiB")
    tracemalloc.start()
    count, _files, _seconds = one_run(user)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"Python heap peak during one export (tracemalloc): {peak / 1024 / 1024:.1f} MiB for {count} resources")


if __name__ == "__main__":
    main()
