"""Patient-chart throughput and p95 latency against a trivial view, side by side.

Serves the app with gunicorn (2 workers, production settings) on loopback,
signs a clinician in (password + TOTP), then drives 16 concurrent clients at
the chart page and, in the same run, at a trivial Django view on the same
server. Prints both and the ratio. Targets: chart throughput at least 40% of
the trivial view's, chart p95 under 100 ms.

For the decision the ratio feeds, it also measures, in the same run, a
signed-in no-op staff page (session, identity and second factor, nothing
else) and the chart's timeline fragment (loaded after the banner), and the
server CPU each request costs, read from /proc for the gunicorn workers.

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


def worker_cpu_seconds(master_pid: int) -> float | None:
    """User + system CPU of the gunicorn workers so far (Linux /proc), or None elsewhere."""
    try:
        children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
        total = 0
        for pid in children:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        return total / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def drive(port: int, path: str, cookie: str | None, clients: int, seconds: float,
          master_pid: int | None = None) -> dict[str, float]:
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
    cpu_before = worker_cpu_seconds(master_pid) if master_pid else None
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    cpu_after = worker_cpu_seconds(master_pid) if master_pid else None
    latencies.sort()
    server_cpu_ms = (cpu_after - cpu_before) / len(latencies) * 1000 if cpu_before is not None and cpu_after else None
    return {
        "server_cpu_ms": server_cpu_ms,
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
        run = {"master_pid": server.pid}
        trivial = drive(port, "/bench/trivial", None, args.clients, args.seconds, **run)
        signed_in = drive(port, "/bench/signed-in", cookie, args.clients, args.seconds, **run)
        chart = drive(port, chart_path, cookie, args.clients, args.seconds, **run)
        timeline = drive(port, chart_path + "timeline/", cookie, args.clients, args.seconds, **run)
    finally:
        server.terminate()
        server.wait(timeout=10)

    backend = "PostgreSQL" if args.database_url else "SQLite"
    print(f"gunicorn 2 workers, {args.clients} concurrent clients, {args.seconds:.0f} s each, {backend}")
    rows = (("trivial view", trivial), ("signed-in no-op", signed_in), ("patient chart", chart),
            ("chart timeline", timeline))
    for name, r in rows:
        cpu = f"   server CPU {r['server_cpu_ms']:5.2f} ms/req" if r["server_cpu_ms"] is not None else ""
        print(f"  {name:<15} {r['rps']:8.1f} req/s   p50 {r['p50_ms']:6.1f} ms   p95 {r['p95_ms']:6.1f} ms{cpu}   "
              f"({r['requests']} requests, {r['errors']} errors)")
    ratio = chart["rps"] / trivial["rps"]
    print(f"  chart / trivial throughput ratio: {ratio:.2f}  (target >= 0.40)")
    print(f"  chart p95: {chart['p95_ms']:.1f} ms  (target < 100 ms)")
    print(f"  for information: signed-in no-op / trivial {signed_in['rps'] / trivial['rps']:.2f}, "
          f"chart / signed-in no-op {chart['rps'] / signed_in['rps']:.2f}, "
          f"timeline fragment / trivial {timeline['rps'] / trivial['rps']:.2f}")
    ok = ratio >= 0.40 and chart["p95_ms"] < 100 and not any(r["errors"] for _, r in rows)
    print("  RESULT:", "meets targets" if ok else "MISSES targets")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
