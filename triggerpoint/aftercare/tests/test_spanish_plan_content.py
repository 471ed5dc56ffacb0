"""A Spanish-preferring patient's aftercare plan names their muscles and gives their stretches in
Spanish, on the page, the PDF and the calendar (hazard HAZ-WRONG-LANGUAGE-INSTRUCTIONS).

The texts are the atlas's Spanish files (atlas/data/muscle_names_es.yaml, stretches_es.yaml) set
into the plan template's Spanish task text; here they are checked as the patient reads them:
readable (Fernández-Huerta >= 60) and saying the same numbers as the English task.
"""

from __future__ import annotations

import io
import re

import pytest
import vobject

from triggerpoint.aftercare.tests.factories import plan_for, signed_procedure
from triggerpoint.atlas.catalog import load_atlas
from triggerpoint.core.readability import SPANISH_MIN_FERNANDEZ_HUERTA, spanish_fernandez_huerta

ATLAS = load_atlas()


def _stretch_task(make_plan, muscle: str, language: str) -> str:
    plan = make_plan(language=language, sites=[{"muscle": muscle, "side": "left"}])
    return next(t.text for day in plan.days for t in day.tasks if t.id == "stretch")


def test_the_spanish_stretch_task_names_the_muscle_and_the_stretch_in_spanish(make_plan):
    text = _stretch_task(make_plan, "upper_trapezius", "es")
    assert "estire el músculo trapecio superior (lado izquierdo)" in text
    assert "Oreja hacia el hombro:" in text and "Sostenga de 20 a 30 segundos y repita 3 veces." in text
    assert "Upper trapezius" not in text and "upper trapezius" not in text
    assert "Ear-to-shoulder" not in text and "Hold" not in text


def test_the_english_stretch_task_is_unchanged(make_plan):
    text = _stretch_task(make_plan, "upper_trapezius", "en")
    assert "stretch your upper trapezius" in text and "Ear-to-shoulder stretch:" in text


def test_the_chest_wall_warning_names_the_muscles_in_spanish(make_plan):
    plan = make_plan(language="es", sites=[{"muscle": "upper_trapezius", "side": "left"}])
    warning = next(t.text for day in plan.days for t in day.tasks if "pulmón colapsado" in t.text)
    assert "(trapecio superior)" in warning


@pytest.mark.parametrize("muscle", sorted(ATLAS.muscles))
def test_every_muscles_spanish_stretch_task_is_readable_and_says_the_english_numbers(make_plan, muscle):
    spanish, english = _stretch_task(make_plan, muscle, "es"), _stretch_task(make_plan, muscle, "en")
    assert spanish_fernandez_huerta(spanish) >= SPANISH_MIN_FERNANDEZ_HUERTA, spanish
    assert set(re.findall(r"\d+", spanish)) == set(re.findall(r"\d+", english))


@pytest.mark.django_db
class TestWhatTheSpanishPatientReceives:
    @pytest.fixture
    def plan(self, patient):
        patient.preferred_language = "es"
        patient.save()
        return plan_for(signed_procedure(patient, sites=(("upper_trapezius", "left"), ("piriformis", "right"))))

    def test_the_plan_page_lists_the_treated_muscles_in_spanish(self, plan, login_as):
        url = f"/aftercare/patient/{plan.patient.public_id}/plan/{plan.public_id}/"
        html = login_as(plan.patient.portal_user).get(url).content.decode()
        assert "Trapecio superior (izquierdo)" in html and "Piriforme (derecho)" in html
        assert "Upper trapezius" not in html and "Figure-four" not in html
        assert "Estiramiento en forma de cuatro" in html

    def test_staff_still_see_the_english_muscle_names(self, plan, login_as, physician):
        url = f"/aftercare/patient/{plan.patient.public_id}/plan/{plan.public_id}/"
        html = login_as(physician).get(url).content.decode()
        assert "Upper trapezius (left); Piriformis (right)" in html

    def test_the_pdf_is_spanish(self, plan, login_as):
        from pypdf import PdfReader

        url = f"/aftercare/patient/{plan.patient.public_id}/plan/{plan.public_id}/print.pdf"
        response = login_as(plan.patient.portal_user).get(url)
        text = " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages).split())
        assert "Trapecio superior" in text and "Piriforme" in text
        assert "Upper trapezius" not in text and "Hold 20" not in text

    def test_the_calendar_is_spanish(self, plan, login_as):
        url = f"/aftercare/patient/{plan.patient.public_id}/plan/{plan.public_id}/calendar.ics"
        calendar = vobject.readOne(login_as(plan.patient.portal_user).get(url).content.decode())
        descriptions = " ".join(event.description.value for event in calendar.vevent_list)
        assert "trapecio superior" in descriptions and "Oreja hacia el hombro" in descriptions
        assert "Ear-to-shoulder" not in descriptions
