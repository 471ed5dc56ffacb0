"""Profile one staff page in-process, on the demo clinic: where its server CPU goes.

`chart_bench.py` measures what a page costs under load; this finds *why*. It builds the
demo clinic in a fresh SQLite database (or uses --database-url), signs a demo clinician in
with Django's test client, requests the page --warm times, then --runs times under cProfile,
and prints CPU ms per request, queries per request and the top functions by cumulative time.

    .venv/bin/python bench/profile_view.py timeline            # the chart timeline fragment
    .venv/bin/python bench/profile_view.py chart --runs 200
    .venv/bin/python bench/profile_view.py /some/path/ --sort tottime
    .venv/bin/python bench/profile_view.py '/fhir/R4/Patient/{patient}' --bearer   # with an API token, no session
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("page", help="'timeline', 'chart', 'worklist', or a path with {patient} for the busiest patient")
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--warm", type=int, default=10)
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--bearer", action="store_true",
                        help="authenticate with an API token of the clinician (Authorization: Bearer), not a session")
    parser.add_argument("--no-profile", action="store_true",
                        help="only the CPU ms per request without the profiler (for before/after figures)")
    parser.add_argument("--show-queries", action="store_true", help="print the SQL of one request")
    parser.add_argument("--dump", default="", help="also write the raw profile here (for pstats/snakeviz)")
    args = parser.parse_args()

    var = tempfile.mkdtemp(prefix="tp-profile-")
    os.environ.setdefault("TRIGGERPOINT_VAR_DIR", var)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "triggerpoint.settings")
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import override_settings

    call_command("migrate", "--noinput", verbosity=0)
    with contextlib.redirect_stdout(io.StringIO()):  # the demo prints its logins
        call_command("demo", "--patients", "40", "--seed", "7", verbosity=0)

    from triggerpoint.accounts.models import User
    from triggerpoint.conftest import verified_client
    from triggerpoint.patients.models import Patient
    from triggerpoint.procedures.selectors import signed_procedures

    physician = User.objects.filter(groups__name="physician").order_by("pk").first()
    busiest = max(Patient.objects.filter(clinic=physician.clinic), key=lambda p: signed_procedures(patient=p).count())
    paths = {
        "timeline": f"/patients/{busiest.public_id}/timeline/",
        "chart": f"/patients/{busiest.public_id}/",
        "worklist": "/",
    }
    path = paths.get(args.page, args.page.replace("{patient}", str(busiest.public_id)))
    headers = {"HTTP_HX_REQUEST": "true"} if args.page == "timeline" else {}
    with override_settings(ALLOWED_HOSTS=["*"], DEBUG=False):
        if args.bearer:
            from triggerpoint.accounts.models import ApiToken

            _token, raw = ApiToken.issue(physician, "profile_view")
            client = Client()
            headers["HTTP_AUTHORIZATION"] = f"Bearer {raw}"
        else:
            client = verified_client(Client(), physician)
        for _ in range(args.warm):
            assert client.get(path, **headers).status_code == 200, path
        settings.DEBUG = True  # count queries
        reset_queries()
        client.get(path, **headers)
        queries = len(connection.queries)
        if args.show_queries:
            for query in connection.queries:
                print(f"  [{query['time']}] {query['sql'][:400]}")
        settings.DEBUG = False
        if args.no_profile:
            started = time.process_time()
            for _ in range(args.runs):
                client.get(path, **headers)
            spent = (time.process_time() - started) / args.runs * 1000
            print(f"{path}: {spent:.2f} ms CPU per request (no profiler, {args.runs} runs), {queries} queries")
            return 0
        profiler = cProfile.Profile()
        started = time.process_time()
        profiler.enable()
        for _ in range(args.runs):
            client.get(path, **headers)
        profiler.disable()
        spent = (time.process_time() - started) / args.runs * 1000
    if args.dump:
        profiler.dump_stats(args.dump)
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats(args.sort).print_stats(args.top)
    print(out.getvalue())
    print(f"{path}: {spent:.1f} ms CPU per request under the profiler, {queries} queries "
          f"({signed_procedures(patient=busiest).count()} signed procedures on this chart)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
