"""Outcomes registry benchmark: the clinic analytics report at registry scale, against a plain pandas script.

For each backend (SQLite file, PostgreSQL throwaway database) in one run:

1. migrate an empty database and build the demo with ``--procedures N``
   (default 1,000,000 procedures, about 5 measurements each) — timed;
2. time the clinic report (``outcomes.analytics.clinic_report``) for all dates
   and for a date range with partial months at both ends, uncached, best of 3;
3. time a straightforward pandas script computing the same report from the raw
   tables (procedures, sites, injectates, measurements): loading (SQL) and
   computing (pandas + lifelines Kaplan-Meier per group) separately;
4. check both give the same numbers, and print the times side by side with ratios.

Usage:
    .venv/bin/python bench/outcomes_bench.py                      # 1,000,000 procedures, SQLite and PostgreSQL
    .venv/bin/python bench/outcomes_bench.py --procedures 20000   # quick run
    .venv/bin/python bench/outcomes_bench.py --backends postgresql --database-url postgres://postgres@127.0.0.1:5432/postgres

PostgreSQL: ``--database-url`` (or DATABASE_URL) names the server; the bench creates and drops its own
database ``tp_outcomes_bench`` there (``--keep`` keeps it). Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SQLITE_PATH = Path(os.environ.get("OUTCOMES_BENCH_SQLITE", ROOT / "var" / "outcomes_bench.sqlite3"))
PG_DATABASE = "tp_outcomes_bench"


# ----------------------------------------------------------------------------- parent
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--procedures", type=int, default=1_000_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    results = []
    for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
        print(f"\n=== {backend}: building {args.procedures:,} procedures ===", flush=True)
        command = [sys.executable, __file__, "--child", backend, "--procedures", str(args.procedures),
                   "--database-url", args.database_url] + (["--keep"] if args.keep else [])
        done = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, text=True, check=False)
        lines = done.stdout.strip().splitlines()
        for line in lines[:-1]:
            print(line)
        if done.returncode != 0 or not lines:
            print(f"{backend}: FAILED (exit {done.returncode})")
            continue
        results.append(json.loads(lines[-1]))
    print_table(results)


def print_table(results: list[dict]) -> None:
    if not results:
        return
    print("\nOutcomes report at registry scale (report: rollups + partial months; pandas: raw tables)")
    header = (f"{'backend':<11}{'procedures':>12}{'measurements':>14}{'build s':>9}{'report s':>10}{'range s':>9}"
              f"{'pandas load s':>15}{'pandas calc s':>15}{'pandas total':>14}{'ratio total':>13}{'ratio calc':>12}{'same':>6}")
    print(header)
    print("-" * len(header))
    for r in results:
        report = max(r["report_all_s"], r["report_range_s"])
        print(f"{r['backend']:<11}{r['procedures']:>12,}{r['measurements']:>14,}{r['build_s']:>9.0f}{r['report_all_s']:>10.2f}"
              f"{r['report_range_s']:>9.2f}{r['pandas_load_s']:>15.2f}{r['pandas_compute_s']:>15.2f}"
              f"{r['pandas_load_s'] + r['pandas_compute_s']:>14.2f}"
              f"{(r['pandas_load_s'] + r['pandas_compute_s']) / report:>12.1f}x{r['pandas_compute_s'] / report:>11.1f}x"
              f"{'yes' if r['same'] else 'NO':>6}")
    print("ratio = pandas time / slower of the two report timings (higher is better for the report).")
    for r in results:
        print(f"{r['backend']}: rollup rebuild from scratch {r['rebuild_s']:.1f} s; cached report {r['report_cached_s'] * 1000:.1f} ms; "
              f"overall responders 2w {r['check']['responders_2w']}, 6w {r['check']['responders_6w']}, "
              f"median relief {r['check']['median_days']} d; max difference vs pandas {r['max_difference']:.2e}")


# ----------------------------------------------------------------------------- child
def child(args) -> None:
    backend = args.child
    if backend == "sqlite":
        if SQLITE_PATH.exists():
            SQLITE_PATH.unlink()
        os.environ["DATABASE_URL"] = f"sqlite:///{SQLITE_PATH}"
    elif backend == "postgresql":
        os.environ["DATABASE_URL"] = _fresh_pg_database(args.database_url)
    else:
        raise SystemExit(f"unknown backend {backend}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "triggerpoint.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, skip_checks=True)
    from triggerpoint.shell import demo_clinic as demo

    started = time.perf_counter()
    ctx = demo.build_demo(patients=40, seed=7, procedures=args.procedures)
    build_s = time.perf_counter() - started
    for note in ctx.notes:
        print(f"  {note}", flush=True)

    from triggerpoint.outcomes import analytics
    from triggerpoint.outcomes.models import Measurement, ProcedureOutcome

    clinic = ctx.clinics[0]
    measurements = Measurement.objects.count()
    procedures = ProcedureOutcome.objects.count()
    today = ctx.today
    from datetime import timedelta

    range_from, range_to = today - timedelta(days=500), today - timedelta(days=45)

    def timed(fn, repeat=3):
        times, value = [], None
        for _ in range(repeat):
            t = time.perf_counter()
            value = fn()
            times.append(time.perf_counter() - t)
        return min(times), value

    report_all_s, report_all = timed(lambda: analytics.clinic_report(clinic.pk, use_cache=False))
    report_range_s, report_range = timed(lambda: analytics.clinic_report(clinic.pk, range_from, range_to, use_cache=False))
    analytics.clinic_report(clinic.pk)
    report_cached_s, _ = timed(lambda: analytics.clinic_report(clinic.pk))
    print(f"  report (all dates): {report_all_s:.2f} s; date range {range_from}..{range_to}: {report_range_s:.2f} s "
          f"({report_range.edge_procedures:,} procedures from partial months)", flush=True)

    load_s, compute_s, pandas_all, pandas_range = pandas_report(clinic, range_from, range_to)
    print(f"  pandas: load {load_s:.2f} s, compute {compute_s:.2f} s", flush=True)
    difference = max(compare(report_all, pandas_all), compare(report_range, pandas_range))
    t = time.perf_counter()
    analytics.rebuild_rollups([c.pk for c in ctx.clinics])
    rebuild_s = time.perf_counter() - t
    overall = report_all.overall
    result = {
        "backend": backend, "procedures": procedures, "measurements": measurements, "build_s": build_s,
        "report_all_s": report_all_s, "report_range_s": report_range_s, "report_cached_s": report_cached_s,
        "pandas_load_s": load_s, "pandas_compute_s": compute_s, "rebuild_s": rebuild_s,
        "max_difference": difference, "same": bool(difference < 1e-6),
        "check": {"responders_2w": round(overall.responders_2w.rate or 0, 4),
                  "responders_6w": round(overall.responders_6w.rate or 0, 4),
                  "median_days": overall.relief.median_days if overall.relief else None},
    }
    from django.db import connections

    connections.close_all()
    if backend == "postgresql" and not args.keep:
        _drop_pg_database(args.database_url)
    print(json.dumps(result), flush=True)


def _server_url(url: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    return urlunsplit((parts.scheme.replace("postgres", "postgresql", 1) if parts.scheme == "postgres" else parts.scheme,
                       parts.netloc, "/postgres", "", ""))


def _fresh_pg_database(url: str) -> str:
    import psycopg

    server = _server_url(url)
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE}")
        conn.execute(f"CREATE DATABASE {PG_DATABASE}")
    return server.rsplit("/", 1)[0] + f"/{PG_DATABASE}"


def _drop_pg_database(url: str) -> None:
    import psycopg

    with psycopg.connect(_server_url(url), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE}")


# ----------------------------------------------------------------------------- the pandas baseline
def pandas_report(clinic, range_from, range_to):
    """The same report from the raw tables, the way an analyst would write it with pandas and lifelines."""
    import pandas as pd
    from django.db import connection

    vendor = connection.vendor
    pain_now = "(answers->>'now')::float" if vendor == "postgresql" else "json_extract(answers, '$.now')"
    first_code = "diagnosis_codes->>0" if vendor == "postgresql" else "json_extract(diagnosis_codes, '$[0]')"

    def frame(sql, params):
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            columns = [c[0] for c in cursor.description]
            return pd.DataFrame(cursor.fetchall(), columns=columns)

    started = time.perf_counter()
    procedures = frame(
        f"SELECT id, patient_id, procedure_date, performed_by_id, guidance, pre_nrs, {first_code} AS code "  # noqa: S608
        "FROM procedures_procedure WHERE clinic_id = %s AND status = 'signed' AND deleted_at IS NULL", [clinic.pk])
    sites = frame("SELECT s.procedure_id, s.muscle, s.technique FROM procedures_injectionsite s "
                  "JOIN procedures_procedure p ON p.id = s.procedure_id WHERE p.clinic_id = %s", [clinic.pk])
    injectates = frame("SELECT i.procedure_id, i.drug FROM procedures_injectate i "
                       "JOIN procedures_procedure p ON p.id = i.procedure_id WHERE p.clinic_id = %s", [clinic.pk])
    measurements = frame(
        f"SELECT procedure_id, instrument, time_point, measured_at, score, {pain_now} AS pain_now "  # noqa: S608
        "FROM outcomes_measurement WHERE clinic_id = %s AND procedure_id IS NOT NULL AND deleted_at IS NULL", [clinic.pk])
    load_s = time.perf_counter() - started

    started = time.perf_counter()
    per_procedure = _pandas_outcomes(procedures, sites, injectates, measurements, clinic.time_zone)
    all_dates = _pandas_groups(per_procedure)
    dates = pd.to_datetime(per_procedure["procedure_date"])
    in_range = per_procedure[(dates >= pd.Timestamp(range_from)) & (dates <= pd.Timestamp(range_to))]
    ranged = _pandas_groups(in_range)
    compute_s = time.perf_counter() - started
    return load_s, compute_s, all_dates, ranged


def _pandas_outcomes(procedures, sites, injectates, measurements, time_zone):
    import numpy as np
    import pandas as pd

    p = procedures.set_index("id")
    p["procedure_date"] = pd.to_datetime(p["procedure_date"])
    p["baseline"] = pd.to_numeric(p["pre_nrs"], errors="coerce")
    p["condition"] = p["code"].fillna("").astype(str).str[:10].replace("", "unspecified")
    p["clinician"] = p["performed_by_id"].astype("Int64").astype(str)
    p["muscles"] = sites.groupby("procedure_id")["muscle"].agg(lambda s: sorted(set(s))).reindex(p.index)
    drugs = injectates.groupby("procedure_id")["drug"].agg(lambda s: sorted(set(s))).reindex(p.index)
    needled = sites[sites["technique"] == "dry_needling"].groupby("procedure_id").size().reindex(p.index).fillna(0) > 0
    p["injectates"] = [d if isinstance(d, list) else (["dry_needling"] if n else []) for d, n in zip(drugs, needled, strict=True)]
    p["muscles"] = [m if isinstance(m, list) else [] for m in p["muscles"]]
    # next procedure of the same patient closes the follow-up window
    order = p.sort_values(["patient_id", "procedure_date"])
    nxt = order.groupby("patient_id")["procedure_date"].shift(-1)
    p["next_date"] = nxt.reindex(p.index)

    m = measurements.copy()
    m["at"] = pd.to_datetime(m["measured_at"], utc=True).dt.tz_convert(time_zone)
    m["day"] = m["at"].dt.tz_localize(None).dt.normalize()
    m = m[m["procedure_id"].isin(p.index)]
    m["offset"] = (m["day"] - p.loc[m["procedure_id"], "procedure_date"].to_numpy()).dt.days
    nrs = m[m["instrument"] == "nrs_pain"].copy()
    nrs["pain"] = pd.to_numeric(nrs["pain_now"], errors="coerce").fillna(pd.to_numeric(nrs["score"], errors="coerce"))
    relief = m[(m["instrument"] == "percent_relief") & m["score"].notna()].copy()
    for tp in ("2w", "6w"):
        latest_pain = nrs[nrs["time_point"] == tp].sort_values("at").groupby("procedure_id")["pain"].last()
        latest_relief = relief[relief["time_point"] == tp].sort_values("at").groupby("procedure_id")["score"].last()
        p[f"pain_{tp}"] = latest_pain.reindex(p.index)
        p[f"relief_{tp}"] = latest_relief.reindex(p.index)
        fall = (p["baseline"] - p[f"pain_{tp}"]) / p["baseline"].where(p["baseline"] > 0) * 100
        p[f"responder_{tp}"] = np.where(p[f"relief_{tp}"].notna(), p[f"relief_{tp}"] >= 50,
                                        np.where(fall.notna(), fall >= 50, np.nan))
        p[f"change_{tp}"] = p[f"pain_{tp}"] - p["baseline"]
    improvement = -p["change_6w"]
    p["mcid_6w"] = np.where(improvement.notna(), (improvement.round(9) >= 2) | ((improvement / p["baseline"] * 100).round(9) >= 30), np.nan)

    # duration of relief: first day >= 1 (and not after the next procedure) with relief < 50% or pain back to baseline
    obs_pain = nrs[nrs["pain"].notna()].groupby(["procedure_id", "offset", "day"])["pain"].last()
    obs_relief = relief.groupby(["procedure_id", "offset", "day"])["score"].last()
    obs = pd.concat([obs_pain, obs_relief], axis=1).reset_index()
    obs = obs[obs["offset"] >= 1]
    obs["baseline"] = p.loc[obs["procedure_id"], "baseline"].to_numpy()
    obs["next_date"] = p.loc[obs["procedure_id"], "next_date"].to_numpy()
    obs = obs[obs["next_date"].isna() | (obs["day"] <= obs["next_date"])]
    has_base = obs["baseline"].notna() & (obs["baseline"] > 0)
    obs = obs[obs["score"].notna() | (obs["pain"].notna() & has_base)]
    lost = (obs["score"] < 50) | (obs["pain"].notna() & has_base & (obs["pain"] >= obs["baseline"]))
    first_loss = obs[lost].groupby("procedure_id")["offset"].min()
    last_seen = obs.groupby("procedure_id")["offset"].max()
    p["relief_days"] = first_loss.reindex(p.index).fillna(last_seen.reindex(p.index))
    p["relief_event"] = first_loss.reindex(p.index).notna()
    return p


def _pandas_groups(p):
    import pandas as pd
    from lifelines import KaplanMeierFitter
    from lifelines.utils import median_survival_times
    from scipy import stats

    dims = {
        "all": pd.Series("all", index=p.index),
        "condition": p["condition"],
        "muscle": p["muscles"].explode().dropna(),
        "injectate": p["injectates"].explode().dropna(),
        "guidance": p["guidance"],
        "clinician": p["clinician"],
    }
    out = {}
    for dim, values in dims.items():
        rows = p.loc[values.index].assign(_value=values.to_numpy())
        for value, g in rows.groupby("_value"):
            entry = {"n": len(g)}
            for tp in ("2w", "6w"):
                answered = g[f"responder_{tp}"].dropna()
                entry[f"responders_{tp}"] = (answered.sum() / len(answered)) if len(answered) else None
            change = g["change_6w"].dropna()
            if len(change) >= 2:
                half = stats.t.ppf(0.975, len(change) - 1) * change.std(ddof=1) / math.sqrt(len(change))
                entry["change_6w"] = (change.mean(), change.mean() - half, change.mean() + half)
            else:
                entry["change_6w"] = (change.mean() if len(change) else None, None, None)
            evaluable = g[g["relief_days"].notna()]
            if len(evaluable):
                km = KaplanMeierFitter().fit(evaluable["relief_days"], evaluable["relief_event"])
                band = median_survival_times(km.confidence_interval_survival_function_)
                entry["median"] = (km.median_survival_time_, band.iloc[0, 0], band.iloc[0, 1])
            else:
                entry["median"] = None
            out[(dim, str(value))] = entry
    return out


def compare(report, pandas_groups) -> float:
    """Largest absolute difference between the report and the pandas numbers (inf if a group is missing)."""
    worst = 0.0
    groups = [report.overall] + [g for gs in report.breakdowns.values() for g in gs]
    if len(groups) != len(pandas_groups):
        print(f"  group count differs: report {len(groups)}, pandas {len(pandas_groups)}")
        return math.inf

    def diff(a, b):
        if a is None or b is None or (isinstance(b, float) and math.isnan(b)):
            return 0.0 if (a is None or (isinstance(a, float) and math.isinf(a))) == (b is None or (isinstance(b, float) and (math.isnan(b) or math.isinf(b)))) else math.inf
        if math.isinf(a) or math.isinf(b):
            return 0.0 if a == b else math.inf
        return abs(a - b)

    for g in groups:
        other = pandas_groups.get((g.dimension, g.value))
        if other is None:
            print(f"  missing in pandas: {g.dimension}={g.value}")
            return math.inf
        found = [diff(g.n, other["n"]), diff(g.responders_2w.rate, other["responders_2w"]),
                 diff(g.responders_6w.rate, other["responders_6w"]),
                 diff(g.change_6w.mean, other["change_6w"][0]), diff(g.change_6w.ci_low, other["change_6w"][1])]
        if g.relief is not None and other["median"] is not None:
            found += [diff(g.relief.median_days, other["median"][0]), diff(g.relief.median_ci_low, other["median"][1])]
        elif (g.relief is None) != (other["median"] is None):
            found.append(math.inf)
        if max(found) > 1e-6:
            print(f"  differs: {g.dimension}={g.value}: {found}")
        worst = max(worst, *found)
    return worst


if __name__ == "__main__":
    main()
