"""Role × action matrix: every page and endpoint, for every role, allowed and refused.

The last test walks the URL resolver and fails when a route is missing from
this table, so a new view cannot ship without its access decision.
"""

from __future__ import annotations

import json

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from triggerpoint.conftest import make_staff, verified_client

ROLES = ["physician", "nurse", "front_desk", "analyst", "clinic_admin", "portal_patient", "other_clinic", "anonymous"]
STAFF_CLINICAL = {"physician", "nurse"}
STAFF_DESK = {"physician", "nurse", "front_desk"}


APPS_WITH_ROWS = ("atlas", "assessment", "scheduling", "screening", "procedures", "aftercare", "followup", "outcomes",
                  "billing", "fhir")


def _routes(p):
    """(name, method, path, body, roles allowed, success statuses).

    Clinical apps add their rows in `triggerpoint/<app>/tests/access_rows.py`
    (`rows(patient) -> list`), so each app owns the access decisions of its views.
    """
    import importlib

    rows = _core_routes(p)
    for app in APPS_WITH_ROWS:
        try:
            module = importlib.import_module(f"triggerpoint.{app}.tests.access_rows")
        except ModuleNotFoundError as exc:
            if exc.name != f"triggerpoint.{app}.tests.access_rows":
                raise
            continue
        rows.extend(module.rows(p))
    return rows


def _core_routes(p):
    chart = f"/patients/{p.public_id}/"
    return [
        ("core:worklist", "get", "/worklist/", None, STAFF_DESK, {200}),
        ("core:portal", "get", "/portal/", None, {"portal_patient"}, {200}),
        ("core:signed_in_baseline", "get", "/bench/signed-in", None,
         {"physician", "nurse", "front_desk", "analyst", "clinic_admin"}, {200}),
        ("patients:search", "get", "/patients/?q=Port", None, STAFF_DESK, {200}),
        ("patients:create", "get", "/patients/new/", None, STAFF_DESK, {200}),
        ("patients:merge", "get", "/patients/merge/", None, {"clinic_admin"}, {200}),
        ("patients:merge", "post", "/patients/merge/", {"absorbed_mrn": "A-0001", "survivor_mrn": "NOPE-1",
                                                        "step": "preview"}, {"clinic_admin"}, {422}),
        ("patients:chart", "get", chart, None, STAFF_DESK, {200}),
        ("patients:edit", "get", f"{chart}edit/", None, STAFF_DESK, {200}),
        ("patients:timeline", "get", f"{chart}timeline/", None, STAFF_CLINICAL, {200}),
        ("patients:add_clinical", "get", f"{chart}add/allergy/", None, STAFF_CLINICAL, {200}),
        ("patients:add_clinical", "post", f"{chart}add/allergy/", {"substance": "Latex", "severity": "mild"},
         STAFF_CLINICAL, {302}),
        ("patients:add_clinical", "post", f"{chart}add/nkda/", {}, STAFF_CLINICAL, {302}),
        ("accounts:tokens", "get", "/accounts/tokens/", None, {"clinic_admin"}, {200}),
        ("accounts:users", "get", "/accounts/users/", None, {"clinic_admin"}, {200}),
        ("accounts:user_create", "get", "/accounts/users/new/", None, {"clinic_admin"}, {200}),
        ("accounts:smart_clients", "get", "/accounts/smart-clients/", None, {"clinic_admin"}, {200}),
        ("accounts:smart_client_create", "get", "/accounts/smart-clients/new/", None, {"clinic_admin"}, {200}),
        ("smart_configuration", "get", "/.well-known/smart-configuration", None, set(ROLES), {200}),
        ("fhir:smart_configuration", "get", "/fhir/R4/.well-known/smart-configuration", None, set(ROLES), {200}),
        ("audit:log", "get", "/audit/", None, {"clinic_admin"}, {200}),
        ("audit:log", "get", f"/audit/?patient_id={p.public_id}&from=2026-01-01&to=2026-12-31", None,
         {"clinic_admin"}, {200}),
        ("audit:export", "get", "/audit/export.csv?action=patients.", None, {"clinic_admin"}, {200}),
        ("api:list_patients", "get", "/api/v1/patients/", None, STAFF_DESK, {200}),
        ("api:read_patient", "get", f"/api/v1/patients/{p.public_id}", None, STAFF_DESK | {"portal_patient"}, {200}),
        ("api:create_patient", "post", "/api/v1/patients/",
         {"mrn": "NEW-{n}", "given_name": "New", "family_name": "Person", "date_of_birth": "1990-01-01"},
         STAFF_DESK, {201}),
        ("api:update_patient", "patch", f"/api/v1/patients/{p.public_id}", {"version": "{version}", "phone": "555"},
         STAFF_DESK, {200}),
    ]


# Routes that are deliberately public or not patient data, with the reason.
EXEMPT = {
    "core:home": "redirects by role; tested in test_home_redirects",
    "core:healthz": "load-balancer probe, no data",
    "core:trivial": "benchmark baseline, no data",
    "accounts:login": "public by design",
    "accounts:logout": "POST only, ends the caller's own session",
    "accounts:token_revoke": "needs a token row: role matrix in test_user_admin_pages",
    "accounts:enrol": "public by design (the one-time link is the credential), tested in test_enrolment",
    "accounts:user_detail": "needs a staff id: role matrix in test_user_admin_pages",
    "accounts:user_roles": "needs a staff id: role matrix in test_user_admin_pages",
    "accounts:user_deactivate": "needs a staff id: role matrix in test_user_admin_pages",
    "accounts:user_reactivate": "needs a staff id: role matrix in test_user_admin_pages",
    "accounts:user_reset_second_factor": "needs a staff id: role matrix in test_user_admin_pages",
    "accounts:user_token_create": "needs a staff id: role matrix in test_user_admin_pages",
    "api:issue_token": "public by design (password + TOTP), tested in test_api_auth",
    "accounts:smart_token": "public by design (the signed client assertion is the credential), tested in test_smart_token",
    "accounts:smart_client_detail": "needs a client row: role matrix in test_smart_clients",
    "accounts:smart_client_deactivate": "needs a client row: role matrix in test_smart_clients",
    "patients:imported_item_classified": "needs an imported item row: role matrix in fhir/tests/test_import.py",
    "fhir:export": "needs the Prefer: respond-async header: roles, scopes and clinics in fhir/tests/test_bulk_export.py",
    "fhir:export_patients": "needs the Prefer: respond-async header: roles in fhir/tests/test_bulk_export.py",
    "fhir:export_group": "needs a group row and the Prefer header: fhir/tests/test_bulk_export.py",
    "fhir:export_status": "needs an export job row: its owner only, in fhir/tests/test_bulk_export.py",
    "fhir:export_file": "needs an export job's file: its owner only, in fhir/tests/test_bulk_export.py",
    "api:openapi-json": "schema, no data",
    "api:openapi-view": "docs, no data",
    "api:api-root": "API index, no data",
}


@pytest.fixture
def cast(db, clinic_a, clinic_b, patient):
    users = {
        role: make_staff(f"m.{role}", role, clinic_a)
        for role in ["physician", "nurse", "front_desk", "analyst", "clinic_admin"]
    }
    users["other_clinic"] = make_staff("m.other", "physician", clinic_b)
    users["portal_patient"] = patient.portal_user
    users["anonymous"] = None
    return users


def _request(client, method, path, body, counter):
    if body is not None and path.startswith("/api/"):
        text = json.dumps(body).replace("{n}", str(counter))
        return getattr(client, method)(path, data=text, content_type="application/json")
    if body is not None:
        return getattr(client, method)(path, data=body)
    return getattr(client, method)(path)


@pytest.mark.parametrize("role", ROLES)
def test_every_route_allows_exactly_the_roles_in_the_policy(role, cast, patient, client, bearer):
    from triggerpoint.patients.models import Patient

    user = cast[role]
    for counter, (name, method, path, body, allowed, ok_statuses) in enumerate(_routes(patient)):
        client.logout()
        headers = {}
        if user is not None:
            if path.startswith("/api/") and user.clinic_id:
                headers = bearer(user)
            else:
                verified_client(client, user)
        if body is not None and "{version}" in json.dumps(body):
            body = dict(body, version=Patient.objects.get(pk=patient.pk).version)
        if headers:
            text = json.dumps(body).replace("{n}", str(counter)) if body is not None else None
            kwargs = {"data": text, "content_type": "application/json"} if text else {}
            response = getattr(client, method)(path, **kwargs, **headers)
        else:
            response = _request(client, method, path, body, counter)
        status = response.status_code
        # Staff of another clinic hold the physician role: pages not tied to a record
        # are theirs too (showing their own clinic); record pages must be refused.
        effective_role = "physician" if role == "other_clinic" and str(patient.public_id) not in path else role
        if effective_role in allowed:
            assert status in ok_statuses, f"{role} should be allowed {name} but got {status}"
        else:
            assert status in {302, 401, 403, 404}, f"{role} must be refused {name} but got {status}"
            if status == 302:
                assert "/accounts/login/" in response["Location"], f"{role} redirected somewhere odd for {name}"


def _all_route_names():
    names = set()

    def walk(patterns, namespace=""):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                walk(entry.url_patterns, ns)
            elif isinstance(entry, URLPattern) and entry.name:
                names.add(f"{namespace}{entry.name}")

    walk(get_resolver().url_patterns)
    return names


def test_every_named_route_has_an_access_decision(db, clinic_a):
    from triggerpoint.conftest import make_patient

    covered = {row[0] for row in _routes(make_patient(clinic_a, "X-1"))}
    missing = sorted(_all_route_names() - covered - set(EXEMPT))
    assert not missing, f"Routes without a row in the access matrix: {missing}"
