"""Patient-chart throughput and p95 latency against a trivial view, side by side.

Serves the app with gunicorn (2 workers, production settings) on loopback,
signs a clinician in (password + TOTP), then drives 16 concurrent keep-alive
clients at the chart page and, in the same run, at a trivial Django view on
the same server. Prints both and the ratio, plus the chart's timeline fragment
(loaded by the page after its banner) for information. Targets: chart throughput at
least 40% of the trivial view's, chart p95 under 100 ms.

    .venv/bin/python bench/chart_bench.py [--seconds 10] [--clients 16] [--database-url postgres://...]
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(env: dict[str, str]) -> None:
    for args in (["migrate", "--noinput", "-v0"], ["collectstatic", "--noinput", "-v0"]):
        subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env, check=True)
    subprocess.run([PY, "manage.py", "demo", "--patients", "40", "--seed", "7"], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)


def first_patient_and_code(env: dict[str, str]) -> tuple[str, str]:
    script = (
        "import django;django.setup();"
        "from triggerpoint.patients.models import Patient;"
        "from django_otp.plugins.otp_totp.models import TOTPDevice;from django_otp.oath import totp;"
        "p=Patient.objects.filter(clinic__slug='riverside').order_by('mrn').first();"
        "d=TOTPDevice.objects.get(user__username='dr.rivera');"
        "print(p.public_id, f'{totp(d.bin_key):06d}')"
    )
    out = subprocess.run([PY, "-c", script], cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout
    public_id, code = out.split()
    return public_id, code


def login(port: int, code: str) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/accounts/login/")
    resp = conn.getresponse()
    resp.read()
    csrf = re.search(r"csrftoken=([^;]+)", resp.getheader("Set-Cookie", "")).group(1)
    body = urlencode({"username": "dr.rivera", "password": "demo-clinic-2026", "otp_token": code,
                      "csrfmiddlewaretoken": csrf})
    conn.request("POST", "/accounts/login/", body=body, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": f"csrftoken={csrf}",
        "Referer": f"http://127.0.0.1:{port}/accounts/login/"})
    resp = conn.getresponse()
    resp.read()
    cookies = resp.getheader("Set-Cookie", "")
    match = re.search(r"sessionid=([^;]+)", cookies)
    if resp.status != 302 or not match:
        raise SystemExit(f"login failed: {resp.status}")
    return f"sessionid={match.group(1)}"


def drive(port: int, path: str, cookie: str | None, clients: int, seconds: float) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def worker() -> None:
        nonlocal errors
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        headers = {"Cookie": cookie} if cookie else {}
        mine: list[float] = []
        bad = 0
        while time.perf_counter() < stop_at:
            start = time.perf_counter()
            try:
                conn.request("GET", path, headers=headers)
                resp = conn.getresponse()
                resp.read()
                if resp.status != 200:
                    bad += 1
            except (OSError, http.client.HTTPException):
                bad += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                continue
            mine.append(time.perf_counter() - start)
        with lock:
            latencies.extend(mine)
            errors += bad

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    latencies.sort()
    return {
        "requests": len(latencies),
        "errors": errors,
        "rps": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p95_ms": latencies[int(len(latencies) * 0.95) - 1] * 1000,
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", ""))
    args = parser.parse_args()

    var_dir = tempfile.mkdtemp(prefix="tp-bench-")
    env = dict(os.environ, TRIGGERPOINT_ENV="production", SECRET_KEY="bench-" + "k" * 60, ALLOWED_HOSTS="127.0.0.1",
               SECURE_SSL_REDIRECT="false", TRIGGERPOINT_VAR_DIR=var_dir, DJANGO_SETTINGS_MODULE="triggerpoint.settings")
    env.pop("PYTEST_VERSION", None)
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    else:
        env.pop("DATABASE_URL", None)
    prepare(env)
    port = free_port()
    server = subprocess.Popen(
        [PY, "-m", "gunicorn", "triggerpoint.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", "2",
         "--log-level", "warning"], cwd=ROOT, env=env)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        public_id, code = first_patient_and_code(env)
        cookie = login(port, code)
        chart_path = f"/patients/{public_id}/"
        drive(port, chart_path, cookie, 2, 1.0)  # warm both workers
        drive(port, "/bench/trivial", None, 2, 1.0)
        trivial = drive(port, "/bench/trivial", None, args.clients, args.seconds)
        chart = drive(port, chart_path, cookie, args.clients, args.seconds)
        timeline = drive(port, chart_path + "timeline/", cookie, args.clients, args.seconds)
    finally:
        server.terminate()
        server.wait(timeout=10)

    backend = "PostgreSQL" if args.database_url else "SQLite"
    print(f"gunicorn 2 workers, {args.clients} concurrent clients, {args.seconds:.0f} s each, {backend}")
    for name, r in (("trivial view", trivial), ("patient chart", chart), ("chart timeline", timeline)):
        print(f"  {name:<14} {r['rps']:8.1f} req/s   p50 {r['p50_ms']:6.1f} ms   p95 {r['p95_ms']:6.1f} ms   "
              f"({r['requests']} requests, {r['errors']} errors)")
    ratio = chart["rps"] / trivial["rps"]
    print(f"  chart / trivial throughput ratio: {ratio:.2f}  (target >= 0.40)")
    print(f"  chart p95: {chart['p95_ms']:.1f} ms  (target < 100 ms)")
    print(f"  (the timeline fragment, loaded by the chart after the banner, is shown for information: "
          f"{timeline['rps'] / trivial['rps']:.2f} of trivial)")
    ok = ratio >= 0.40 and chart["p95_ms"] < 100 and chart["errors"] == 0
    print("  RESULT:", "meets targets" if ok else "MISSES targets")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
