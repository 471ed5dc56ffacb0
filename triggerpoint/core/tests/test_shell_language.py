"""The page shell around a patient's page speaks the patient's language (Spanish pages are not framed in English)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import translation


def _shell(language: str, user=None) -> str:
    request = RequestFactory().get("/")
    request.user = user or AnonymousUser()
    with translation.override(language):
        return render_to_string("patient_base.html", {}, request=request)


def test_the_shell_is_spanish_around_a_spanish_page():
    html = _shell("es")
    assert '<html lang="es">' in html and "Saltar al contenido" in html and "código abierto" in html
    assert "Skip to content" not in html


def test_the_shell_stays_english_otherwise():
    html = _shell("en")
    assert '<html lang="en">' in html and "Skip to content" in html and "Saltar" not in html


@pytest.mark.django_db
def test_a_signed_in_patient_gets_sign_out_and_their_badge_in_spanish(patient):
    html = _shell("es", user=patient.portal_user)
    assert "Cerrar sesión" in html and ">Paciente<" in html and "Sign out" not in html
