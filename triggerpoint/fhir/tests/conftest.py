"""The demo clinic, built once per test module (it takes a while), and bearer tokens for its cast.

Each test still runs inside its own transaction (pytest-django's `db`), nested in the module's,
which is rolled back when the module ends.
The independent validators (Node) are one process per session (`fhir_validator`).
"""

from __future__ import annotations

import pytest
from django.db import transaction

from triggerpoint.fhir.tests import validator


@pytest.fixture(scope="module")
def fhir_demo(django_db_setup, django_db_blocker):
    from triggerpoint.shell.demo_clinic import build_demo

    with django_db_blocker.unblock(), transaction.atomic():
        yield build_demo(patients=40, seed=7)
        transaction.set_rollback(True)


@pytest.fixture
def token_for(db):
    from triggerpoint.accounts.models import ApiToken

    def _headers(user):
        _token, raw = ApiToken.issue(user, "fhir test")
        return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}

    return _headers


def ids_of(bundle) -> list[str]:
    """The ids of a search Bundle's entries, in order."""
    return [e["resource"]["id"] for e in bundle["entry"]]


def outcome_of(response, status, code=None):
    """The OperationOutcome of a refusal, checked: the status, FHIR JSON, an error with a message, the code."""
    assert response.status_code == status, response.content[:400]
    assert response["Content-Type"].startswith("application/fhir+json")
    body = response.json()
    assert body["resourceType"] == "OperationOutcome", body
    assert body["issue"][0]["severity"] == "error" and body["issue"][0]["diagnostics"]
    if code:
        assert body["issue"][0]["code"] == code, body
    return body


def richest_patient(demo):
    """The Riverside patient with the most signed records (visits, notes, diagnoses), for searches that must hit."""
    from triggerpoint.assessment.visit_reads import signed_visit_diagnoses, signed_visits
    from triggerpoint.procedures.selectors import signed_procedures

    riverside = [p for p in demo.patients if p.clinic_id == demo.clinics[0].pk]
    return max(riverside, key=lambda p: (signed_visit_diagnoses(visit__patient=p).exists(),
                                         signed_procedures(patient=p).exists(), p.allergies.exists(),
                                         signed_visits(patient=p).count() + signed_procedures(patient=p).count(), p.pk))



@pytest.fixture(scope="session")
def fhir_validator():
    """The independent FHIR validators (Medplum + FHIR.js on Node). Skips, saying why, without Node or
    the npm packages; fails instead when TRIGGERPOINT_REQUIRE_NODE=1 (CI)."""
    validator.require()
    yield validator
    validator.shutdown()
