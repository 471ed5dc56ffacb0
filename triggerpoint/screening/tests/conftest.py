"""Fixtures for the screening app's database tests: plans, answers and a screening for the test patient."""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest
from django.utils import timezone

LUMBAR_PLAN = {
    "sites": [{"muscle": "quadratus_lumborum", "side": "left"}, {"muscle": "gluteus_medius", "side": "right"}],
    "injectates": [{"drug": "lidocaine"}],
    "guidance": "landmark",
}
THORACIC_PLAN = {
    "sites": [{"muscle": "upper_trapezius", "side": "right"}, {"muscle": "rhomboids", "side": "left"}],
    "injectates": [{"drug": "lidocaine"}],
    "guidance": "landmark",
}


def complete_answers(**today) -> dict:
    """Everything the questionnaire asks, all well, afebrile."""
    return {
        "events": [],
        "today": {"feels_unwell": False, "on_antibiotics": False, "infection_at_site": False,
                  "temperature": {"value": 98.2, "unit": "F"}, **today},
        "pregnant": "no",
        "prior_vasovagal": False,
    }


@pytest.fixture
def procedure_day():
    return timezone.localdate() + timedelta(days=5)


@pytest.fixture
def lumbar_plan():
    return copy.deepcopy(LUMBAR_PLAN)


@pytest.fixture
def thoracic_plan():
    return copy.deepcopy(THORACIC_PLAN)


@pytest.fixture
def screening(physician, patient, procedure_day, lumbar_plan):
    from triggerpoint.core.context import acting_as
    from triggerpoint.patients.models import Patient
    from triggerpoint.screening import services

    # The nurse asked: no known drug allergies (issue 14: an unasked allergy status keeps a screening from
    # ready). Set directly so the tests' audit trails start with the screening.
    Patient.objects.filter(pk=patient.pk).update(allergy_status="nkda")
    patient.refresh_from_db()
    with acting_as(physician):
        return services.create_screening(physician, patient, procedure_day, lumbar_plan)


@pytest.fixture
def answered(screening, nurse):
    """The screening with complete, reassuring answers recorded by the nurse (status ready)."""
    from triggerpoint.core.context import acting_as
    from triggerpoint.screening import services

    with acting_as(nurse):
        return services.record_answers(screening, complete_answers(), source="staff", user=nurse)
