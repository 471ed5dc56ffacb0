"""The cached identity (user, clinic, roles, second-factor device) is never staler than the database."""

from __future__ import annotations

import pickle

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from triggerpoint.accounts import identity
from triggerpoint.accounts.checks import shared_cache
from triggerpoint.core import generations


def _tables_read(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    return response, " ".join(q["sql"] for q in queries.captured_queries)


def test_a_signed_in_page_does_not_reload_user_roles_device_or_session(physician, login_as):
    client = login_as(physician)
    client.get("/worklist/")  # the first request builds the snapshot
    response, sql = _tables_read(client, "/worklist/")
    assert response.status_code == 200
    for table in ("accounts_user", "auth_group", "otp_totp_totpdevice", "django_session"):
        assert f'FROM "{table}"' not in sql, table


def test_removing_a_role_takes_effect_on_the_next_request(physician, login_as):
    client = login_as(physician)
    assert client.get("/patients/").status_code == 200
    physician.groups.remove(Group.objects.get(name="physician"))
    assert client.get("/patients/").status_code == 403


def test_removing_a_member_from_the_group_side_takes_effect(physician, login_as):
    client = login_as(physician)
    assert client.get("/patients/").status_code == 200
    Group.objects.get(name="physician").user_set.remove(physician)
    assert client.get("/patients/").status_code == 403


def test_clearing_a_group_takes_effect(physician, login_as):
    client = login_as(physician)
    assert client.get("/patients/").status_code == 200
    Group.objects.get(name="physician").user_set.clear()
    assert client.get("/patients/").status_code == 403


def test_deactivating_a_user_signs_them_out(physician, login_as):
    client = login_as(physician)
    assert client.get("/worklist/").status_code == 200
    physician.is_active = False
    physician.save()
    response = client.get("/worklist/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_removing_the_second_factor_device_unverifies_the_session(physician, login_as):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client = login_as(physician)
    assert client.get("/worklist/").status_code == 200
    TOTPDevice.objects.filter(user=physician).delete()
    response = client.get("/worklist/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_moving_a_user_to_another_clinic_changes_what_they_see(physician, clinic_b, patient, login_as):
    client = login_as(physician)
    assert client.get(f"/patients/{patient.public_id}/").status_code == 200
    physician.clinic = clinic_b
    physician.save()
    assert client.get(f"/patients/{patient.public_id}/").status_code == 404


def test_a_clinic_change_reaches_its_staff(physician, login_as):
    client = login_as(physician)
    client.get("/worklist/")
    physician.clinic.name = "Renamed Clinic"
    physician.clinic.save()
    assert "Renamed Clinic" in client.get("/worklist/").content.decode()


def test_a_snapshot_read_before_a_change_commits_is_never_served_after(physician, django_capture_on_commit_callbacks):
    """The race a plain delete would lose: a reader stores old rows just after the invalidation."""
    group = Group.objects.get(name="physician")
    assert "physician" in identity.load_user(physician.pk).roles
    with django_capture_on_commit_callbacks(execute=True):
        stale = identity.load_user(physician.pk)
        physician.groups.remove(group)
        # A concurrent request that read the rows before this transaction committed stores them now,
        # under whatever generation it saw.
        _, current = generations.read(identity._snapshot_key(physician.pk), identity._generation(physician.pk))
        generations.write(identity._snapshot_key(physician.pk), current, stale, 60)
    assert "physician" not in identity.load_user(physician.pk).roles


def test_the_snapshot_carries_no_totp_secret(physician):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.get(user=physician)
    user = identity.load_user(physician.pk)
    cached = cache.get(identity._snapshot_key(physician.pk))
    assert cached is not None
    assert device.key.encode() not in pickle.dumps(cached)
    snapshot_device = user._otp_devices[device.persistent_id]
    assert "key" in snapshot_device.get_deferred_fields()
    assert snapshot_device.key == device.key  # still readable: loaded from the database on demand


def test_signing_out_ends_the_session_in_every_worker(physician, login_as):
    """The session lives in the shared cache and the database; sign-out removes both."""
    client = login_as(physician)
    key = client.session.session_key
    assert client.get("/worklist/").status_code == 200
    client.post("/accounts/logout/")
    from django.contrib.sessions.backends.cached_db import SessionStore

    assert not SessionStore(session_key=key).exists(key)
    assert cache.get(f"django.contrib.sessions.cached_db{key}") is None


@pytest.mark.parametrize("backend", ["django.core.cache.backends.locmem.LocMemCache",
                                     "django.core.cache.backends.dummy.DummyCache"])
def test_deploy_check_refuses_a_per_process_cache(settings, backend):
    settings.CACHES = {"default": {"BACKEND": backend}}
    assert [e.id for e in shared_cache(None)] == ["triggerpoint.E001"]


def test_deploy_check_accepts_the_database_cache_and_redis(settings):
    assert shared_cache(None) == []  # the default: the database cache
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": "redis://127.0.0.1:6379"}}
    assert shared_cache(None) == []
