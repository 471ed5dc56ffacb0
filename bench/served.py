"""The machinery the served benches share: a demo database, gunicorn on loopback, a signed-in
clinician, concurrent keep-alive clients and the server CPU each request costs.

`chart_bench.py` and `fhir_bench.py` import it (run them as scripts: `bench/` is then on sys.path).

  bench_env(database_url, var_dir)   the environment of a production-settings server (SQLite file or PostgreSQL)
  prepare(env)                       migrate, collect static files, load the demo clinic (40 patients, seed 7)
  serve(env, workers)                gunicorn on a free loopback port (bench/warm_wsgi.py, --preload)
  login(port, totp_key)              dr.rivera's session cookie (password + TOTP)
  drive(port, Request, clients, s)   req/s, p50/p95 and, given the master's pid, server CPU per request
                                     (user + system time of the gunicorn workers from /proc)
"""

from __future__ import annotations

import http.client
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def bench_env(database_url: str, var_dir: str) -> dict[str, str]:
    """Production settings on loopback; `database_url` empty means a SQLite file in `var_dir`."""
    env = dict(os.environ, TRIGGERPOINT_ENV="production", SECRET_KEY="bench-" + "k" * 60, ALLOWED_HOSTS="127.0.0.1",
               SECURE_SSL_REDIRECT="false", TRIGGERPOINT_VAR_DIR=var_dir, DJANGO_SETTINGS_MODULE="triggerpoint.settings")
    env.pop("PYTEST_VERSION", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    else:
        env.pop("DATABASE_URL", None)
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(env: dict[str, str], *, load_demo: bool = True, patients: int = 40) -> None:
    """Collect static files; unless the database is already prepared, migrate it and load the demo clinic."""
    steps = [["collectstatic", "--noinput", "-v0"]]
    if load_demo:
        steps.insert(0, ["migrate", "--noinput", "-v0"])
    for args in steps:
        subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env, check=True)
    if load_demo:
        subprocess.run([PY, "manage.py", "demo", "--patients", str(patients), "--seed", "7"], cwd=ROOT, env=env, check=True,
                       stdout=subprocess.DEVNULL)


def login(port: int, totp_key: str) -> str:
    """Sign dr.rivera in; the code is computed now, so a slow server start cannot outlive it."""
    from django_otp.oath import totp  # stdlib only: no settings needed

    code = f"{totp(bytes.fromhex(totp_key)):06d}"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)  # the first request waits for the workers to boot
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


class Request:
    """What one client sends, again and again: method, path, headers, and a body made fresh for each request."""

    def __init__(self, method: str, path: str, headers: dict[str, str] | None = None, body=None, expect: int = 200):
        self.method, self.path, self.headers, self.body, self.expect = method, path, headers or {}, body, expect


def drive(port: int, request: Request, clients: int, seconds: float, master_pid: int | None = None) -> dict:
    latencies: list[float] = []
    errors = 0
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def worker(number: int) -> None:
        nonlocal errors
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        bad = 0
        seen: dict[int, int] = {}
        sequence = 0
        while time.perf_counter() < stop_at:
            sequence += 1
            body = request.body(number, sequence) if callable(request.body) else request.body
            start = time.perf_counter()
            try:
                conn.request(request.method, request.path, body=body, headers=request.headers)
                resp = conn.getresponse()
                resp.read()
                if resp.status != request.expect:
                    bad += 1
                    seen[resp.status] = seen.get(resp.status, 0) + 1
            except (OSError, http.client.HTTPException):
                bad += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            mine.append(time.perf_counter() - start)
        with lock:
            latencies.extend(mine)
            errors += bad
            for status, n in seen.items():
                statuses[status] = statuses.get(status, 0) + n

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(clients)]
    cpu_before = worker_cpu_seconds(master_pid) if master_pid else None
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    cpu_after = worker_cpu_seconds(master_pid) if master_pid else None
    latencies.sort()
    server_cpu_ms = (
        (cpu_after - cpu_before) / len(latencies) * 1000
        if cpu_before is not None and cpu_after is not None and latencies else None
    )
    return {
        "clients": clients,
        "server_cpu_ms": server_cpu_ms,
        "requests": len(latencies),
        "errors": errors,
        "statuses": statuses,
        "rps": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000 if latencies else float("nan"),
        "p95_ms": latencies[max(int(len(latencies) * 0.95) - 1, 0)] * 1000 if latencies else float("nan"),
    }


def serve(env: dict[str, str], workers: int) -> tuple[subprocess.Popen, int]:
    port = free_port()
    server = subprocess.Popen(
        [PY, "-m", "gunicorn", "warm_wsgi:application", "--pythonpath", str(ROOT / "bench"), "--preload",
         "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--log-level", "warning"], cwd=ROOT, env=env)
    deadline = time.monotonic() + 300  # a loaded machine takes a while to import Django
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            conn.request("GET", "/bench/trivial")
            if conn.getresponse().status == 200:
                return server, port
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("gunicorn did not start")


def stop(server: subprocess.Popen) -> None:
    """Graceful stop; gunicorn lets queued requests finish for up to 30 s, then the bench stops waiting."""
    server.terminate()
    try:
        server.wait(timeout=45)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=10)
