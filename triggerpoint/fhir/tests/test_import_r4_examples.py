"""Import of the HL7 FHIR R4 examples (CC0, `tests/data/hl7-r4-examples/`, see its README): resources nobody
here wrote, from another source than US Core, through the same endpoint."""

from __future__ import annotations

import copy
import json
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from triggerpoint.conftest import make_staff

DATA = Path(__file__).parent / "data" / "hl7-r4-examples"


def load(name: str) -> dict:
    return copy.deepcopy(json.loads((DATA / f"{name}.json").read_text()))


def bundle(*names: str, tweak=None) -> dict:
    resources = [load(n) for n in names]
    if tweak:
        tweak(resources)
    entries = [{"fullUrl": "urn:uuid:6b6a3c0e-5bde-4c6b-9d3f-0b4e7b0c0001", "resource": load("Patient-example"),
                "request": {"method": "POST", "url": "Patient"}}]
    for r in resources:
        element = "patient" if r["resourceType"] == "AllergyIntolerance" else "subject"
        r[element] = {"reference": "urn:uuid:6b6a3c0e-5bde-4c6b-9d3f-0b4e7b0c0001"}
        entries.append({"resource": r, "request": {"method": "POST", "url": r["resourceType"]}})
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


@pytest.fixture
def post(client, bearer, clinic_a):
    headers = bearer(make_staff("pia.import", "physician", clinic_a))
    return lambda body: client.post("/fhir/R4/", data=json.dumps(body), content_type="application/fhir+json",
                                    **headers)


def _chart(clinic):
    from triggerpoint.patients.models import Patient

    return Patient.objects.get(clinic=clinic, family_name="Chalmers")


def test_peter_chalmers_with_penicillin_amoxicillin_and_an_old_weight(post, clinic_a):
    response = post(bundle("AllergyIntolerance-medication", "MedicationStatement-example004", "Observation-example"))
    assert response.status_code == 200, response.content
    assert [e["response"]["status"] for e in response.json()["entry"]] == ["201 Created"] * 4
    chart = _chart(clinic_a)
    assert (chart.given_name, chart.date_of_birth, chart.sex, chart.phone) == (
        "Peter James", date(1974, 12, 25), "male", "(03) 5555 6473")
    assert chart.identifiers.filter(system="urn:oid:1.2.36.146.595.217.0.1", value="12345").exists()
    # An allergy the screening words do not know: on the chart, and flagged for a person.
    assert list(chart.allergies.values_list("substance", "reaction")) == [("Penicillin G", "Hives")]
    assert chart.imported_items.get(kind="allergy").needs_classification
    # Amoxicillin (SNOMED CT product code): no class of ours; "other" and flagged, its code kept.
    assert chart.medications.get().drug_class == "other"
    item = chart.imported_items.get(kind="medication")
    assert (item.system, item.code, item.needs_classification) == ("http://snomed.info/sct", "27658006", True)
    # A 2016 weight is kept but does not become the chart's weight (too old for dosing).
    assert chart.weight_kg is None
    assert chart.imported_items.get(kind="weight").detail.startswith("not applied")
    before = (chart.allergies.count(), chart.medications.count(), chart.imported_items.count())
    again = post(bundle("AllergyIntolerance-medication", "MedicationStatement-example004", "Observation-example"))
    assert [e["response"]["status"] for e in again.json()["entry"]] == ["200 OK"] * 4
    assert (chart.allergies.count(), chart.medications.count(), chart.imported_items.count()) == before


def test_a_recent_weight_in_pounds_sets_the_chart(post, clinic_a):
    day = date.today() - timedelta(days=3)

    def recent(resources):
        resources[0]["effectiveDateTime"] = day.isoformat()

    assert post(bundle("Observation-example", tweak=recent)).status_code == 200
    chart = _chart(clinic_a)
    assert (chart.weight_kg, chart.weight_measured_on) == (Decimal("83.9"), day)  # 185 × 0.45359237 = 83.91


def test_no_known_drug_allergy_is_the_recorded_answer(post, clinic_a):
    assert post(bundle("AllergyIntolerance-nkda")).status_code == 200
    chart = _chart(clinic_a)
    assert chart.allergy_status == "nkda" and not chart.allergies.exists()
    assert not chart.imported_items.get(kind="allergy").needs_classification


def test_nkda_against_a_chart_with_allergies_is_flagged_not_applied(post, clinic_a):
    assert post(bundle("AllergyIntolerance-medication")).status_code == 200
    response = post(bundle("AllergyIntolerance-medication", "AllergyIntolerance-nkda"))
    assert response.status_code == 200
    chart = _chart(clinic_a)
    assert chart.allergy_status == "has_allergies"
    nkda = chart.imported_items.get(code="409137002")
    assert nkda.needs_classification and "chart lists allergies" in nkda.detail
