"""Production means production; the real client address behind a proxy; password spraying is throttled."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import RequestFactory, override_settings

from triggerpoint import cli
from triggerpoint.audit.models import AuditEvent
from triggerpoint.conftest import make_staff, totp_now
from triggerpoint.core.client_ip import client_ip

ROOT = Path(__file__).resolve().parents[3]
REAL_KEY = "k" * 20 + "-a-long-random-production-key-0123456789abcdefghijklmnopqrstuvwxyz"


# ---------------------------------------------------------------- serve --production


def _no_exec(*args):  # the server must not start
    raise AssertionError(f"gunicorn was started: {args}")


def test_serve_production_refuses_development_settings(monkeypatch, capsys):
    monkeypatch.setattr(os, "execvp", _no_exec)
    with pytest.raises(SystemExit) as exited:
        cli.main(["serve", "--production"])  # the test settings: TRIGGERPOINT_ENV=test, development key
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "Refusing to start" in err and "TRIGGERPOINT_ENV" in err and "SECRET_KEY is the development key" in err


@override_settings(PRODUCTION=True, TRIGGERPOINT_ENV="production", DEBUG=True, SECRET_KEY=REAL_KEY)
def test_serve_production_refuses_debug(monkeypatch, capsys):
    monkeypatch.setattr(os, "execvp", _no_exec)
    with pytest.raises(SystemExit):
        cli.main(["serve", "--production"])
    err = capsys.readouterr().err
    assert "DEBUG is on" in err and "SECRET_KEY" not in err


@override_settings(PRODUCTION=True, TRIGGERPOINT_ENV="production", DEBUG=False, SECRET_KEY=REAL_KEY)
def test_serve_production_starts_gunicorn_with_production_settings(monkeypatch):
    class Replaced(Exception):  # execvp replaces the process: nothing after it runs
        pass

    def exec_gunicorn(exe, args):
        raise Replaced(args)

    monkeypatch.setattr(os, "execvp", exec_gunicorn)
    with pytest.raises(Replaced) as started:
        cli.main(["serve", "--production", "0.0.0.0:8080"])
    args = started.value.args[0]
    assert "gunicorn" in args and "0.0.0.0:8080" in args


def test_the_console_script_refuses_with_a_clear_message_and_exit_code(tmp_path):
    env = dict(os.environ, TRIGGERPOINT_ENV="development", TRIGGERPOINT_VAR_DIR=str(tmp_path))
    for name in ("SECRET_KEY", "PYTEST_VERSION", "DATABASE_URL"):
        env.pop(name, None)
    env["DEBUG"] = "1"  # a developer's settings: debug pages on, development key, not production
    result = subprocess.run([sys.executable, "-m", "triggerpoint.cli", "serve", "--production"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "Refusing to start" in result.stderr and "DEBUG is on" in result.stderr
    assert "TRIGGERPOINT_ENV is 'development'" in result.stderr and "SECRET_KEY is the development key" in result.stderr


# ---------------------------------------------------------------- client address behind a trusted proxy


def _request(xff: str | None = "203.0.113.66, 198.51.100.7"):
    extra = {"HTTP_X_FORWARDED_FOR": xff} if xff is not None else {}
    return RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", **extra)


def test_without_a_trusted_proxy_the_forwarding_header_is_ignored():
    assert client_ip(_request()) == "10.0.0.2"


@pytest.mark.parametrize(("count", "xff", "expected"), [
    (1, "203.0.113.66, 198.51.100.7", "198.51.100.7"),  # the entry our one proxy appended
    (2, "203.0.113.66, 198.51.100.7", "203.0.113.66"),  # two proxies: one further left
    (3, "203.0.113.66, 198.51.100.7", "10.0.0.2"),  # fewer entries than proxies: not via them
    (1, "not-an-address", "10.0.0.2"),
    (1, None, "10.0.0.2"),
    (1, "2001:db8::1", "2001:db8::1"),
])
def test_a_trusted_proxy_header_gives_the_client(settings, count, xff, expected):
    settings.TRUSTED_PROXY_HEADER = "X-Forwarded-For"
    settings.TRUSTED_PROXY_COUNT = count
    assert client_ip(_request(xff)) == expected


@pytest.mark.django_db
def test_audit_events_carry_the_client_address_behind_the_proxy(settings, client, physician):
    settings.TRUSTED_PROXY_HEADER = "X-Forwarded-For"
    client.post("/accounts/login/", {"username": physician.username, "password": "correct-horse-battery",
                                     "otp_token": totp_now(physician)},
                REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert AuditEvent.objects.get(action="accounts.session.signed_in").ip == "198.51.100.7"


# ---------------------------------------------------------------- password spraying


def _fail(client, username, ip):
    return client.post("/accounts/login/", {"username": username, "password": "Winter2026!", "otp_token": "000000"},
                       REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=ip)


def _good_login(client, user, ip):
    return client.post("/accounts/login/", {"username": user.username, "password": "correct-horse-battery",
                                            "otp_token": totp_now(user)},
                       REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=ip)


@pytest.mark.django_db
@override_settings(TRUSTED_PROXY_HEADER="X-Forwarded-For", LOGIN_FAILURES_PER_ACCOUNT=3, LOGIN_FAILURES_PER_CLIENT=6)
def test_failures_across_many_usernames_lock_out_that_client(client, clinic_a, physician):
    for n in range(6):  # one try per username: no account reaches its own limit
        _fail(client, f"staff{n}", "198.51.100.7")
    assert _good_login(client, physician, "198.51.100.7").status_code == 429
    # Another client (a colleague elsewhere) is not locked out.
    other = make_staff("nina.nurse", "nurse", clinic_a)
    assert _good_login(client, other, "203.0.113.9").status_code == 302


@pytest.mark.django_db
@override_settings(TRUSTED_PROXY_HEADER="X-Forwarded-For", LOGIN_FAILURES_PER_ACCOUNT=3, LOGIN_FAILURES_PER_CLIENT=6)
def test_a_few_failures_across_usernames_do_not_lock_the_client_but_one_account_locks_sooner(
    client, clinic_a, physician
):
    for n in range(5):  # five colleagues' typos behind one clinic address: below the client limit
        _fail(client, f"staff{n}", "198.51.100.7")
    assert _good_login(client, physician, "198.51.100.7").status_code == 302
    client.logout()
    for _ in range(3):
        _fail(client, "nina.nurse", "203.0.113.9")
    nurse = make_staff("nina.nurse", "nurse", clinic_a)
    assert _good_login(client, nurse, "203.0.113.9").status_code == 429
