"""The clinic admin's audit log, filtered, over millions of events (issue 17: 10 million, well under a second).

    createdb -h 127.0.0.1 -U postgres tp_audit_bench          # an empty database
    .venv/bin/python bench/audit_log_bench.py --database-url postgres://postgres@127.0.0.1:5432/tp_audit_bench

It migrates the database and, once, writes --events synthetic events for one clinic with
INSERT … SELECT generate_series (2,000 patients, 25 staff, the registered actions, a year of
timestamps; the rows carry no hash chain — a throwaway database). Then it times what the audit page
does for each filter — the filtered queryset, the paginator's count and the first page of 100 with
their patients — against the baseline of the same page with no filter but the clinic, in the same
run: wall ms, median and p95 of --runs.
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


def load(clinic, count: int) -> None:
    from datetime import date

    from django.db import connection

    from triggerpoint.audit.actions import AuditAction
    from triggerpoint.audit.models import AuditEvent
    from triggerpoint.conftest import make_staff
    from triggerpoint.patients.models import Patient

    have = AuditEvent.objects.filter(clinic=clinic).count()
    if have >= count:
        return
    if Patient.objects.filter(clinic=clinic).count() < 2000:
        Patient.objects.bulk_create([
            Patient(clinic=clinic, mrn=f"AUD-{n:06d}", given_name=f"Given{n % 97}", family_name=f"Family{n}",
                    date_of_birth=date(1950 + n % 50, 1 + n % 12, 1 + n % 28)) for n in range(2000)
        ])
    from triggerpoint.accounts.models import User

    staff = [User.objects.filter(username=f"audit.bench.{n}").first()
             or make_staff(f"audit.bench.{n}", "nurse", clinic, with_totp=False) for n in range(25)]
    actions = sorted(a.value for a in AuditAction)
    patient_ids = list(Patient.objects.filter(clinic=clinic).values_list("pk", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO audit_auditevent (at, actor_id, actor_label, action, object_type, object_id, patient_id,
                                          clinic_id, ip, request_id, details, chain_seq, prev_hash, hash)
            SELECT now() - (g % 31536000) * interval '1 second',
                   (%(staff)s::bigint[])[1 + g %% 25], 'audit.bench.' || (g %% 25),
                   (%(actions)s::text[])[1 + (g * 7) %% %(n_actions)s],
                   'patients.Patient', '', (%(patients)s::bigint[])[1 + (g * 13) %% 2000],
                   %(clinic)s, '10.0.0.1', '', '{}'::jsonb, NULL, '', ''
            FROM generate_series(%(start)s, %(end)s) AS g
            """.replace("(g % 31536000)", "(g %% 31536000)"),
            {"staff": [u.pk for u in staff], "actions": actions, "n_actions": len(actions),
             "patients": patient_ids, "clinic": clinic.pk, "start": have + 1, "end": count},
        )
        cursor.execute("ANALYZE audit_auditevent")


def timed(fn, runs: int) -> tuple[float, float]:
    fn()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[max(int(len(times) * 0.95) - 1, 0)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "triggerpoint.settings")
    os.environ.setdefault("TRIGGERPOINT_VAR_DIR", tempfile.mkdtemp(prefix="tp-audit-bench-"))
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.http import QueryDict

    from triggerpoint.clinics.models import Clinic
    from triggerpoint.patients.models import Patient
    from triggerpoint.shell.audit_log_filters import AuditLogFilter, CappedPaginator

    call_command("migrate", "--noinput", verbosity=0)
    clinic, _ = Clinic.objects.get_or_create(slug="bench-audit-log", defaults={"name": "Bench audit log clinic"})
    started = time.perf_counter()
    load(clinic, args.events)
    print(f"{args.events} events ready in {time.perf_counter() - started:.0f} s", flush=True)
    someone = Patient.objects.filter(clinic=clinic).order_by("pk")[1234]

    def page(query: str):
        def run():
            events = AuditLogFilter.from_query(QueryDict(query)).apply(clinic)
            first = CappedPaginator(events, 100).get_page(1)
            return [e.patient_id for e in first], first.paginator.count
        return run

    cases = [
        ("no filter (baseline)", ""),
        ("who opened this chart", f"patient_id={someone.public_id}"),
        ("patient by MRN", f"patient={someone.mrn}"),
        ("user, one week", "user=audit.bench.7&from=2026-11-01&to=2026-11-07"),
        ("action family, one day", "action=patients.&from=2026-11-20&to=2026-11-20"),
        ("user + action family", "user=audit.bench.3&action=procedures."),
    ]
    baseline = None
    print(f"{'filter':24} {'median ms':>10} {'p95 ms':>8} {'x baseline':>10}")
    for label, query in cases:
        median, p95 = timed(page(query), args.runs)
        baseline = baseline or median
        print(f"{label:24} {median:10.1f} {p95:8.1f} {median / baseline:10.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
