from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[3]


def test_deploy_check_is_clean_with_production_settings(tmp_path):
    env = dict(os.environ, TRIGGERPOINT_ENV="production", SECRET_KEY="x" * 64 + "-a-long-random-production-key",
               ALLOWED_HOSTS="clinic.example.org", TRIGGERPOINT_VAR_DIR=str(tmp_path), DEBUG="false")
    env.pop("DATABASE_URL", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set only inside the browser-test process
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    env = dict(os.environ, TRIGGERPOINT_ENV="production", TRIGGERPOINT_VAR_DIR=str(tmp_path), ALLOWED_HOSTS="x")
    env.pop("SECRET_KEY", None)
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode != 0 and "SECRET_KEY must be set" in result.stderr


def test_pages_carry_a_strict_content_security_policy(client):
    response = client.get("/accounts/login/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert response["X-Request-ID"]


def test_forms_are_csrf_protected(physician):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post("/accounts/login/", {"username": physician.username, "password": "x"})
    assert response.status_code == 403


def test_console_script_wraps_management_commands():
    result = subprocess.run([sys.executable, "-m", "triggerpoint.cli", "--help"], cwd=ROOT, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0
    for word in ("serve", "migrate", "demo", "worker", "token create"):
        assert word in result.stdout


def test_demo_is_deterministic_and_prints_the_second_factor(db):
    from io import StringIO

    from triggerpoint.patients.models import Patient

    out = StringIO()
    call_command("demo", "--patients", "12", "--seed", "3", stdout=out)
    text = out.getvalue()
    assert "otpauth://totp/" in text and "TOTP secret" in text and "demo-clinic-2026" in text
    first = sorted(Patient.objects.values_list("mrn", "given_name", "family_name", "date_of_birth"))
    assert len(first) == 12
    again = StringIO()
    call_command("demo", "--patients", "12", "--seed", "3", stdout=again)
    assert "already present" in again.getvalue()
    assert sorted(Patient.objects.values_list("mrn", "given_name", "family_name", "date_of_birth")) == first


def test_demo_secrets_derive_from_the_seed():
    from triggerpoint.shell.demo_clinic import totp_key_for

    assert totp_key_for(7, "dr.rivera") == totp_key_for(7, "dr.rivera")
    assert totp_key_for(7, "dr.rivera") != totp_key_for(8, "dr.rivera")


def test_demo_never_touches_a_database_with_real_data(clinic_a):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="non-demo"):
        call_command("demo", "--patients", "3")


def test_demo_staff_can_sign_in_with_the_printed_secret(db, client):
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from triggerpoint.shell.demo_clinic import DEMO_PASSWORD, build_demo

    build_demo(patients=5, seed=11)
    device = TOTPDevice.objects.get(user__username="dr.rivera")
    code = f"{totp(device.bin_key):06d}"
    response = client.post("/accounts/login/", {"username": "dr.rivera", "password": DEMO_PASSWORD, "otp_token": code})
    assert response.status_code == 302
    assert client.get("/worklist/").status_code == 200


def test_home_redirects_each_kind_of_user_to_its_start_page(client, analyst, clinic_admin, login_as, patient):
    assert client.get("/")["Location"].startswith("/accounts/login")
    login_as(clinic_admin)
    assert client.get("/")["Location"] == "/audit/"
    client.logout()
    client.force_login(patient.portal_user)
    assert client.get("/")["Location"] == "/portal/"


def test_the_worker_sweep_delivers_due_messages_and_escalates(patient, smtp_server):
    from triggerpoint.notifications import services as notifications

    notifications.enqueue(clinic=patient.clinic, patient=patient, kind="aftercare.reminder", channel="email",
                          to=patient.email, body="Heat today.", idempotency_key="sweep-1")
    out = __import__("io").StringIO()
    call_command("worker", "--once", stdout=out)
    assert "'delivered': 1" in out.getvalue()
    assert len(smtp_server.messages) == 1
