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
