"""Users see the clinic's own error pages, never Django's: 404 and 403 in the shell, 500 standalone."""

from __future__ import annotations

import pytest
from django.test import override_settings
from django.urls import path


def _broken_view(request):
    raise RuntimeError("a bug, with a secret in its message: SECRET_KEY=xyz")


urlpatterns = [path("broken/", _broken_view)]


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__, DEBUG=False)
def test_an_unexpected_error_shows_the_standalone_500_page_without_details(client):
    client.raise_request_exception = False
    response = client.get("/broken/")
    assert response.status_code == 500
    body = response.content.decode()
    assert "Something went wrong" in body and "Algo salió mal" in body
    for leak in ("Traceback", "RuntimeError", "SECRET_KEY", "URLconf"):
        assert leak not in body, leak


@pytest.mark.django_db
@override_settings(DEBUG=False)
def test_a_spanish_portal_patient_gets_the_patient_404_in_spanish(client, patient):
    patient.preferred_language = "es"
    patient.save(update_fields=["preferred_language"])
    client.force_login(patient.portal_user)
    response = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="en")  # the chart's language wins
    assert response.status_code == 404
    body = response.content.decode()
    assert '<html lang="es">' in body and "No encontramos esta página" in body and "llame al 911" in body
    assert "We could not find" not in body and "another clinic" not in body


@pytest.mark.django_db
@override_settings(DEBUG=False)
def test_a_portal_patient_on_a_staff_page_gets_the_patient_403_in_their_language(client, patient):
    client.force_login(patient.portal_user)
    response = client.get(f"/patients/{patient.public_id}/")
    assert response.status_code == 403
    body = response.content.decode()
    assert '<html lang="en">' in body and "This page is not available to you" in body
    assert "Your role does not give access" not in body  # the staff sentence

    patient.preferred_language = "es"
    patient.save(update_fields=["preferred_language"])
    body = client.get(f"/patients/{patient.public_id}/").content.decode()
    assert "Esta página no está disponible para usted" in body


@pytest.mark.django_db
@override_settings(DEBUG=False)
def test_an_anonymous_visitor_gets_the_patient_404_in_the_browser_language(client):
    response = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 404
    assert "No encontramos esta página" in response.content.decode()
    assert "We could not find this page" in client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="en").content.decode()


@pytest.mark.django_db
@override_settings(DEBUG=False)
def test_staff_keep_the_staff_404_and_403(client, front_desk, login_as, patient):
    login_as(front_desk)
    body = client.get("/no-such-page/").content.decode()
    assert "There is nothing here, or it belongs to another clinic." in body and "We could not find" not in body
    response = client.get("/portal/")  # a patients' page
    assert response.status_code == 403
    assert "Your role does not give access" in response.content.decode()
    assert "This page is not available to you" not in response.content.decode()
