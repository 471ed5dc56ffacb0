"""The day view of a big clinic against the chart, in one process and one run (issue 16).

Builds a fresh SQLite clinic with 20 clinicians and 400 appointments on one day, signs a front
desk clerk in, then alternates requests to the day view (all 400 rows) and to one patient's chart
page, and prints the server CPU per request of each (time.process_time around the test client's
request: URL routing, middleware, the view, the template and the audit rows it writes) and
their ratio. Target from issue 16: the day view costs at most 2x the chart. Also prints the
queries each page makes.

    .venv/bin/python bench/schedule_day_bench.py [--rounds 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--clinicians", type=int, default=20)
    parser.add_argument("--per-clinician", type=int, default=20)
    args = parser.parse_args()
    os.environ.setdefault("TRIGGERPOINT_VAR_DIR", tempfile.mkdtemp(prefix="tp-sched-bench-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "triggerpoint.settings")
    import django

    django.setup()
    from datetime import time as clock
    from datetime import timedelta

    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    call_command("migrate", "--noinput", verbosity=0)
    call_command("createcachetable", verbosity=0)
    from triggerpoint.clinics.models import Clinic
    from triggerpoint.conftest import make_patient, make_staff, verified_client
    from triggerpoint.scheduling import rules, selectors
    from triggerpoint.scheduling.models import Appointment
    from triggerpoint.scheduling.tests.conftest import next_monday, set_up_clinic

    clinic = Clinic.objects.create(name="Big Clinic", slug="big")
    types, _rooms = set_up_clinic(clinic)
    desk = make_staff("desk.bench", "front_desk", clinic)
    doctors = [make_staff(f"dr.bench{i:02d}", "physician", clinic) for i in range(args.clinicians)]
    day = next_monday(clinic)
    rows = []
    for d, doctor in enumerate(doctors):
        for slot in range(args.per_clinician):
            patient = make_patient(clinic, f"B-{d:02d}-{slot:02d}", given=f"Given{slot}", family=f"Family{d}")
            start = rules.local_to_utc(day, clock(8), clinic.zone) + timedelta(minutes=30 * slot)
            rows.append(Appointment(clinic=clinic, patient=patient, appointment_type=types["follow_up"],
                                    clinician=doctor, starts_at=start, ends_at=start + timedelta(minutes=20),
                                    status=["booked", "confirmed", "arrived", "in_room", "done"][slot % 5]))
    Appointment.objects.bulk_create(rows)
    assert selectors.appointments_for_day(clinic, day).count() == len(rows)
    client = verified_client(Client(), desk)
    pages = {"day view": f"/schedule/?date={day.isoformat()}", "chart": f"/patients/{rows[0].patient.public_id}/"}
    for path in pages.values():  # warm caches and templates
        assert client.get(path).status_code == 200
    cpu: dict[str, list[float]] = {name: [] for name in pages}
    queries = {}
    for _ in range(args.rounds):
        for name, path in pages.items():
            started = time.process_time()
            response = client.get(path)
            cpu[name].append(time.process_time() - started)
            assert response.status_code == 200
    for name, path in pages.items():
        with CaptureQueriesContext(connection) as captured:
            client.get(path)
        queries[name] = len(captured)
    if os.environ.get("BENCH_PROFILE"):
        import cProfile
        import pstats

        profile = cProfile.Profile()
        profile.enable()
        client.get(pages["day view"])
        profile.disable()
        sort = os.environ["BENCH_PROFILE"]
        stats = pstats.Stats(profile).sort_stats(sort if sort in ("cumulative", "tottime") else "tottime")
        stats.print_stats(40)
        if os.environ.get("BENCH_CALLERS"):
            stats.print_callers(os.environ["BENCH_CALLERS"])
    day_ms = statistics.median(cpu["day view"]) * 1000
    chart_ms = statistics.median(cpu["chart"]) * 1000
    ratio = day_ms / chart_ms
    print(f"{len(rows)} appointments, {len(doctors)} clinicians, {args.rounds} rounds, {connection.vendor}")
    print(f"  day view  median CPU {day_ms:7.1f} ms  queries {queries['day view']}")
    print(f"  chart     median CPU {chart_ms:7.1f} ms  queries {queries['chart']}")
    print(f"  ratio day/chart {ratio:.1f}x  (target <= 2x: {'PASS' if ratio <= 2 else 'FAIL'})")
    return 0 if ratio <= 2 else 1


if __name__ == "__main__":
    raise SystemExit(main())
