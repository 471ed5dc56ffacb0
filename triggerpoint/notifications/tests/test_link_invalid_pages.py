"""The page a patient sees when a link from the clinic cannot be opened speaks their language.

Spanish when the browser prefers Spanish and the token is unknown; the patient's own language
whenever the token is a real link of theirs (expired, withdrawn, or for another form), whatever
the browser says. Every patient link route is covered.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from triggerpoint.notifications.services import issue_link

pytestmark = pytest.mark.django_db

# (route name, link purpose) of every tokenised patient page.
ROUTES = [
    ("screening:questionnaire_link", "screening.questionnaire"),
    ("screening:link_preparation", "screening.questionnaire"),
    ("aftercare:link_plan", "aftercare.plan"),
    ("followup:checkin_link", "followup.checkin"),
    ("followup:report_link", "followup.report"),
    ("outcomes:respond", "outcomes.request"),
]
UNKNOWN_TOKEN = "n0t-a-real-t0ken-but-long-enough"


def _get(client, route, token, browser):
    response = client.get(reverse(route, args=[token]), HTTP_ACCEPT_LANGUAGE=browser)
    assert response.status_code == 404
    return response.content.decode()


@pytest.mark.parametrize(("route", "purpose"), ROUTES)
def test_an_unknown_link_is_refused_in_spanish_for_a_spanish_browser(client, route, purpose):
    html = _get(client, route, UNKNOWN_TOKEN, "es-MX,es;q=0.9,en;q=0.5")
    assert '<html lang="es"' in html
    assert "Este enlace no es válido." in html and "This link" not in html


@pytest.mark.parametrize(("route", "purpose"), ROUTES)
def test_an_unknown_link_is_refused_in_english_for_an_english_browser(client, route, purpose):
    html = _get(client, route, UNKNOWN_TOKEN, "en-US,en;q=0.9")
    assert '<html lang="en"' in html and "This link is not valid." in html


@pytest.mark.parametrize(("route", "purpose"), ROUTES)
def test_a_spanish_patients_expired_link_is_refused_in_spanish_even_in_an_english_browser(
    client, patient, route, purpose
):
    patient.preferred_language = "es"
    patient.save()
    _link, token = issue_link(patient, purpose, "any-target", timedelta(days=7))
    from triggerpoint.notifications.models import PatientLink

    PatientLink.objects.filter(patient=patient).update(expires_at=timezone.now() - timedelta(days=1))
    html = _get(client, route, token, "en-US,en;q=0.9")
    assert '<html lang="es"' in html
    assert "Este enlace ya venció." in html and "expired" not in html


@pytest.mark.parametrize(("route", "purpose"), ROUTES)
def test_an_english_patients_withdrawn_link_stays_english_in_a_spanish_browser(client, patient, route, purpose):
    link, token = issue_link(patient, purpose, "any-target", timedelta(days=7))
    link.revoked_at = timezone.now()
    link.save(update_fields=["revoked_at"])
    html = _get(client, route, token, "es-MX,es;q=0.9")
    assert '<html lang="en"' in html and "This link has been withdrawn." in html


def test_a_link_for_another_form_speaks_the_patients_language(client, patient):
    patient.preferred_language = "es"
    patient.save()
    _link, token = issue_link(patient, "aftercare.plan", "any-target", timedelta(days=7))
    html = _get(client, "outcomes:respond", token, "en-US,en;q=0.9")
    assert '<html lang="es"' in html and "Este enlace no es válido." in html
