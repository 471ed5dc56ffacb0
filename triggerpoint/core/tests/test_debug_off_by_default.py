"""The demo the README's run command serves must not show Django's debug pages.

With DEBUG on, a clinician who opens a record of another clinic got Django's yellow 404 page,
listing every URL pattern. DEBUG is now off unless a developer sets DEBUG=1.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def _debug_setting(**env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "TRIGGERPOINT_ENV", "DATABASE_URL")}
    clean.update(env)
    return subprocess.run(  # noqa: S603 - the running interpreter with a fixed script
        [sys.executable, "-c", "import django.conf as c; import triggerpoint.settings as s; print(s.DEBUG)"],
        env=clean, capture_output=True, text=True, check=True, timeout=60,
    ).stdout.strip()


def test_development_settings_have_debug_off_unless_asked():
    assert _debug_setting(TRIGGERPOINT_ENV="development") == "False"
    assert _debug_setting(TRIGGERPOINT_ENV="development", DEBUG="1") == "True"


@pytest.mark.django_db
def test_a_record_of_another_clinic_gets_the_clinics_own_not_found_page(login_as, physician, patient_in_b):
    client = login_as(physician)
    response = client.get(f"/patients/{patient_in_b.public_id}/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "Not found" in body and "belongs to another clinic" in body
    assert "URLconf" not in body and "Using the URLconf" not in body
