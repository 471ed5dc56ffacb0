"""The Users page: role × route matrix, another clinic's ids, CSRF, confirmation steps, tokens shown once.

The site-wide matrix (test_access_matrix) holds the routes without ids; the routes
that name an account or a token are checked here, against a staff account of
clinic A. "other_clinic" is a clinic admin of clinic B: the right role, the wrong
clinic — every id of clinic A must answer 404 to them, exactly as a missing id.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.test import Client

from triggerpoint.accounts.models import ApiToken, User
from triggerpoint.audit.models import AuditEvent
from triggerpoint.conftest import make_staff, verified_client

pytestmark = pytest.mark.django_db

ROLES = ["physician", "nurse", "front_desk", "analyst", "clinic_admin", "portal_patient", "other_clinic", "anonymous"]


@pytest.fixture
def cast(clinic_a, clinic_b, patient):
    users = {role: make_staff(f"m.{role}", role, clinic_a) for role in ["physician", "nurse", "front_desk", "analyst",
                                                                       "clinic_admin"]}
    users["other_clinic"] = make_staff("m.other.admin", "clinic_admin", clinic_b)
    users["portal_patient"] = patient.portal_user
    users["anonymous"] = None
    return users


def _routes(target: User, token: ApiToken):
    """(method, path, body, success statuses, names a record of clinic A) — for clinic admins of clinic A only.

    The POSTs come last, in an order that leaves each one something to do.
    """
    base = f"/accounts/users/{target.pk}/"
    revoke = f"/accounts/tokens/{token.pk}/revoke/"
    return [
        ("get", "/accounts/users/", None, {200}, False),
        ("get", "/accounts/users/new/", None, {200}, False),
        ("get", base, None, {200}, True),
        ("get", f"{base}deactivate/", None, {200}, True),
        ("get", f"{base}reset-second-factor/", None, {200}, True),
        ("get", revoke, None, {200}, True),
        ("post", f"{base}roles/", {"roles": ["nurse", "front_desk"]}, {302}, True),
        ("post", f"{base}tokens/", {"name": "sync", "expires_days": "30"}, {201}, True),
        ("post", f"{base}reset-second-factor/", {}, {302}, True),
        ("post", revoke, {}, {302}, True),
        ("post", f"{base}deactivate/", {}, {302}, True),
        ("post", f"{base}reactivate/", {}, {302}, True),
    ]


@pytest.mark.parametrize("role", ROLES)
def test_only_a_clinic_admin_of_the_same_clinic_reaches_the_users_pages(role, cast, clinic_a, client):
    target = make_staff("target.nurse", "nurse", clinic_a)
    target.email = "target@clinic.example"
    target.save()
    token, _raw = ApiToken.issue(target, "sync")
    user = cast[role]
    for method, path, body, ok, names_a_record in _routes(target, token):
        client.logout()
        if user is not None:
            verified_client(client, user)
        response = getattr(client, method)(path, data=body) if body is not None else getattr(client, method)(path)
        status = response.status_code
        if role == "clinic_admin":
            assert status in ok, f"{role} should reach {method} {path} but got {status}"
        elif role == "other_clinic" and names_a_record:
            assert status == 404, f"another clinic's admin must get 404 for {method} {path}, got {status}"
        elif role == "other_clinic":
            assert status == 200, f"the list and the form are theirs too (their own clinic): {path} gave {status}"
        else:
            assert status in {302, 403, 404}, f"{role} must be refused {method} {path} but got {status}"
            if status == 302:
                assert "/accounts/login/" in response["Location"]
    target.refresh_from_db()
    token.refresh_from_db()
    new_tokens = ApiToken.objects.filter(user=target).exclude(pk=token.pk)
    if role == "clinic_admin":
        assert target.is_active and target.roles == {"nurse", "front_desk"} and token.revoked_at is not None
        assert new_tokens.count() == 1
    else:
        assert target.roles == {"nurse"} and token.revoked_at is None and target.is_active and not new_tokens


def test_the_list_shows_only_the_admins_clinic_with_roles_status_and_last_sign_in(
    clinic_admin, nurse, front_desk, physician_b, login_as
):
    signed_in = datetime(2026, 11, 30, 9, 15, tzinfo=UTC)
    User.objects.filter(pk=nurse.pk).update(last_login=signed_in)
    page = login_as(clinic_admin).get("/accounts/users/").content.decode()
    assert "nina.nurse" in page and "fred.desk" in page and "bob.otherclinic" not in page
    table = page[page.index('<table class="data" id="users">'):page.index("</table>")]
    rows = {row.split('class="mono">')[1].split("<")[0]: row for row in table.split("<tr")[2:]}
    shown = signed_in.astimezone(clinic_admin.clinic.zone).strftime("%Y-%m-%d %H:%M")  # the clinic's local time
    assert "Nurse" in rows["nina.nurse"] and shown in rows["nina.nurse"] and "never" not in rows["nina.nurse"]
    assert "Front desk" in rows["fred.desk"] and "never" in rows["fred.desk"]


def test_another_clinics_user_id_answers_404_and_the_refusal_is_audited(clinic_admin, physician_b, login_as):
    client = login_as(clinic_admin)
    missing = client.get("/accounts/users/999999/")
    theirs = client.get(f"/accounts/users/{physician_b.pk}/")
    assert missing.status_code == theirs.status_code == 404
    assert "bob.otherclinic" not in theirs.content.decode()
    refusal = AuditEvent.objects.get(action="audit.access.refused", object_id=str(physician_b.pk))
    assert refusal.details["outcome"] == "out_of_scope" and refusal.actor == clinic_admin


def test_a_patients_portal_account_is_not_a_staff_account_here(clinic_admin, patient, login_as):
    assert login_as(clinic_admin).get(f"/accounts/users/{patient.portal_user_id}/").status_code == 404


@pytest.mark.parametrize("suffix", ["roles/", "deactivate/", "reactivate/", "reset-second-factor/", "tokens/"])
def test_every_post_needs_the_csrf_token(clinic_admin, nurse, suffix):
    client = verified_client(Client(enforce_csrf_checks=True), clinic_admin)
    response = client.post(f"/accounts/users/{nurse.pk}/{suffix}", {"roles": ["physician"], "name": "x",
                                                                   "expires_days": "5"})
    assert response.status_code == 403
    nurse.refresh_from_db()
    assert nurse.is_active and nurse.roles == {"nurse"} and not ApiToken.objects.exists()


def test_token_revoke_needs_the_csrf_token(clinic_admin, nurse):
    token, _raw = ApiToken.issue(nurse, "sync")
    client = verified_client(Client(enforce_csrf_checks=True), clinic_admin)
    assert client.post(f"/accounts/tokens/{token.pk}/revoke/").status_code == 403
    token.refresh_from_db()
    assert token.revoked_at is None


def test_revoking_asks_first_and_only_the_confirmation_revokes(clinic_admin, nurse, login_as):
    token, _raw = ApiToken.issue(nurse, "scheduling-sync")
    client = login_as(clinic_admin)
    listing = client.get("/accounts/tokens/").content.decode()
    assert f"/accounts/tokens/{token.pk}/revoke/" in listing and "<form method=\"post\" action=\"/accounts/tokens/" \
        not in listing  # the list links to the confirmation page; it has no one-click revoke form
    confirm = client.get(f"/accounts/tokens/{token.pk}/revoke/")
    assert confirm.status_code == 200 and "scheduling-sync" in confirm.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is None
    assert client.post(f"/accounts/tokens/{token.pk}/revoke/").status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert AuditEvent.objects.filter(action="accounts.token.revoked", details__token=token.prefix).count() == 1


def test_deactivating_asks_first(clinic_admin, nurse, login_as):
    client = login_as(clinic_admin)
    page = client.get(f"/accounts/users/{nurse.pk}/deactivate/").content.decode()
    assert "Deactivate nina.nurse?" in page
    nurse.refresh_from_db()
    assert nurse.is_active
    client.post(f"/accounts/users/{nurse.pk}/deactivate/")
    nurse.refresh_from_db()
    assert not nurse.is_active


def test_a_refused_change_answers_400_with_the_reason(clinic_admin, login_as):
    client = login_as(clinic_admin)
    response = client.post(f"/accounts/users/{clinic_admin.pk}/deactivate/")
    assert response.status_code == 400 and "cannot deactivate your own account" in response.content.decode()
    response = client.post(f"/accounts/users/{clinic_admin.pk}/roles/", {"roles": ["physician"]})
    assert response.status_code == 400 and "own clinic admin role" in response.content.decode()
    clinic_admin.refresh_from_db()
    assert clinic_admin.is_active and clinic_admin.roles == {"clinic_admin"}


def test_a_token_secret_is_shown_once_and_only_its_hash_is_kept(clinic_admin, nurse, login_as):
    client = login_as(clinic_admin)
    response = client.post(f"/accounts/users/{nurse.pk}/tokens/", {"name": "scheduling-sync", "expires_days": "30"})
    assert response.status_code == 201 and "no-store" in response.get("Cache-Control", "")
    token = ApiToken.objects.get(user=nurse)
    page = response.content.decode()
    raw = page.split('<code id="token-secret" class="token-secret">')[1].split("</code>")[0]
    assert raw.startswith(token.prefix) and token.token_hash != raw
    assert raw not in client.get(f"/accounts/users/{nurse.pk}/").content.decode()
    assert client.get("/api/v1/patients/", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200


def test_bad_token_input_answers_400_and_creates_nothing(clinic_admin, nurse, login_as):
    client = login_as(clinic_admin)
    for body in ({"name": "", "expires_days": "30"}, {"name": "x", "expires_days": "0"},
                 {"name": "x", "expires_days": "soon"}, {"name": "x" * 101, "expires_days": "30"}):
        assert client.post(f"/accounts/users/{nurse.pk}/tokens/", body).status_code == 400
    assert not ApiToken.objects.exists()


def test_adding_a_user_from_the_page(clinic_admin, login_as):
    client = login_as(clinic_admin)
    bad = client.post("/accounts/users/new/", {"first_name": "Ana", "last_name": "Ruiz", "username": "carla.admin",
                                                "email": "ana@clinic.example", "roles": ["front_desk"]})
    assert bad.status_code == 400 and "is taken" in bad.content.decode()
    good = client.post("/accounts/users/new/", {"first_name": "Ana", "last_name": "Ruiz", "username": "ana.ruiz",
                                                 "email": "ana@clinic.example", "roles": ["front_desk"]})
    user = User.objects.get(username="ana.ruiz")
    assert good.status_code == 302 and good["Location"] == f"/accounts/users/{user.pk}/"
    assert user.clinic_id == clinic_admin.clinic_id and user.roles == {"front_desk"}
    detail = client.get(good["Location"]).content.decode()
    assert "link sent" in detail and "never" in detail
