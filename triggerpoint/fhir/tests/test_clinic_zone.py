"""FHIR requests run in the caller's clinic time zone (issue 18), as the pages and /api/v1/ do.

A bearer or SMART request has no session, so `ClinicTimeZoneMiddleware` cannot know the clinic: the
FHIR views activate it once the caller is known. At 20:30 in Chicago on 5 December it is already
6 December in UTC; an event recorded then is on the clinic's 5 December, and a search for that day
must find it (without the clinic's zone it would be filed under the 6th). The test code runs outside
any zone (`outside_a_request`), as a server does, and the clock is frozen with freezegun as in
`clinics/tests/test_clinic_day.py`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.utils import timezone
from freezegun import freeze_time

from triggerpoint.accounts.models import ApiToken
from triggerpoint.audit import services as audit_services
from triggerpoint.clinics.models import Clinic
from triggerpoint.conftest import make_patient, make_staff
from triggerpoint.fhir import auth

pytestmark = pytest.mark.django_db

EVENING_IN_CHICAGO = "2026-12-06 02:30:00"  # 20:30 on 5 December in Chicago (UTC-6)


@pytest.fixture
def outside_a_request():
    timezone.deactivate()
    yield


@dataclass
class Grant:
    clinic: object
    actor: object = None

    def allows(self, resource_type: str, interaction: str = "read") -> bool:
        return True


def _days_found(client, event_id, headers) -> list[str]:
    found = []
    for day in ("2026-12-05", "2026-12-06"):
        response = client.get("/fhir/R4/AuditEvent", {"_id": str(event_id), "date": day}, **headers)
        assert response.status_code == 200, response.content[:300]
        if response.json()["entry"]:
            found.append(day)
    return found


def test_an_evening_event_is_found_on_the_clinics_day_by_token_and_by_smart(outside_a_request, client, monkeypatch):
    chicago = Clinic.objects.create(name="Lakeside", slug="lakeside", time_zone="America/Chicago")
    admin = make_staff("admin.lake", "clinic_admin", chicago)
    patient = make_patient(chicago, "L-1")
    monkeypatch.setattr(auth, "SMART_AUTHENTICATE", {"lake": Grant(chicago, admin)}.get)
    with freeze_time(EVENING_IN_CHICAGO):
        assert chicago.today().isoformat() == "2026-12-05" and timezone.now().date().isoformat() == "2026-12-06"
        event = audit_services.record("patients.patient.viewed", obj=patient, actor=admin)
        _token, raw = ApiToken.issue(admin, "zone test")
        assert _days_found(client, event.pk, {"HTTP_AUTHORIZATION": f"Bearer {raw}"}) == ["2026-12-05"]
        assert _days_found(client, event.pk, {"HTTP_AUTHORIZATION": "Bearer lake"}) == ["2026-12-05"]
        recorded = client.get(f"/fhir/R4/AuditEvent/{event.pk}", HTTP_AUTHORIZATION="Bearer lake").json()["recorded"]
        assert recorded == "2026-12-06T02:30:00Z"  # instants stay UTC
    # the zone was the request's only: the previous state (none active) is back
    assert timezone.get_current_timezone_name() == "UTC"


@pytest.mark.parametrize("path", ["/fhir/R4/$export", "/fhir/R4/Patient/$export", "/fhir/R4/Binary",
                                  "/fhir/R4/Questionnaire", "/fhir/R4/Patient"])
def test_no_fhir_endpoint_leaves_its_callers_zone_behind(outside_a_request, client, path):
    """A worker thread serves the next request with whatever zone is active: a FHIR request must not leave its
    clinic's there. `ClinicTimeZoneMiddleware` puts back the previous zone after every request, and each FHIR
    entry point (the views, the bulk export's, Binary, Questionnaire) overrides it only for its own work."""
    chicago = Clinic.objects.create(name="Lakeside", slug="lakeside", time_zone="America/Chicago")
    physician = make_staff("dr.lake", "physician", chicago)
    _token, raw = ApiToken.issue(physician, "zone test")
    response = client.get(path, HTTP_AUTHORIZATION=f"Bearer {raw}", HTTP_PREFER="respond-async")
    assert response.status_code < 500, response.content[:300]
    assert timezone.get_current_timezone_name() == "UTC", path
