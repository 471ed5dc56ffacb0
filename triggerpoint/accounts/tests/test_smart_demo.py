"""The demo clinic's SMART client: a newcomer finds its key in the var dir and gets a token with it."""

from __future__ import annotations

import stat

from django.test import override_settings
from joserfc.jwk import RSAKey

from triggerpoint.accounts.models import SmartClient
from triggerpoint.accounts.smart import authenticate_access_token
from triggerpoint.accounts.tests import smart_client_kit as kit
from triggerpoint.shell import demo_clinic


def test_the_demo_registers_a_client_prints_it_and_its_private_key_gets_a_token(db, client, tmp_path):
    with override_settings(VAR_DIR=tmp_path):
        demo_clinic.build_demo(patients=3, seed=7, only_apps=("accounts",))
        lines = "\n".join(demo_clinic.login_lines(7))
    registered = SmartClient.objects.get()
    assert registered.clinic.slug == "riverside" and registered.scopes == ["system/*.read"]
    key_path = tmp_path / "demo-smart-client.pem"
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert registered.client_id in lines and str(key_path) in lines and "kid demo-warehouse-1" in lines
    assert "PRIVATE KEY" not in lines  # the listing points at the key, it does not print it

    # What the newcomer does with the printed facts: load the PEM, sign, post.
    key = RSAKey.import_key(key_path.read_bytes(), parameters={"kid": "demo-warehouse-1"})
    response = kit.post_token(client, kit.token_form(kit.sign(key, registered.client_id), scope="system/Patient.read"))
    assert response.status_code == 200, response.content
    grant = authenticate_access_token(response.json()["access_token"])
    assert grant.clinic == registered.clinic and grant.allows("Patient")


def test_the_listing_says_when_the_key_file_is_gone(db, tmp_path):
    with override_settings(VAR_DIR=tmp_path):
        demo_clinic.build_demo(patients=1, seed=7, only_apps=("accounts",))
        (tmp_path / "demo-smart-client.pem").unlink()
        assert "missing: rebuild the demo" in "\n".join(demo_clinic.login_lines(7))
