"""The chart records the patient's payer (an id of the coders' payer table) and member id."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError

from triggerpoint.patients import payers, services

pytestmark = pytest.mark.django_db


def test_the_payer_choices_are_the_coders_payer_table():
    from triggerpoint.procedures.coding import load_code_tables

    assert {pid for pid, _name in payers.choices()} == set(load_code_tables().payers)


def test_an_unknown_payer_is_refused_and_nothing_is_saved(front_desk, patient):
    with pytest.raises(ValidationError, match="not a payer"):
        services.update_patient(front_desk, patient, patient.version, {"payer": "acme_health"})
    patient.refresh_from_db()
    assert patient.payer == ""


def test_the_front_desk_records_payer_and_member_id(front_desk, patient):
    services.update_patient(front_desk, patient, patient.version, {"payer": "medicare", "payer_member_id": "1EG4-TE5"})
    patient.refresh_from_db()
    assert (patient.payer, patient.payer_member_id) == ("medicare", "1EG4-TE5")


def test_the_api_reads_and_writes_the_payer_and_says_why_it_refuses(client, bearer, front_desk, patient):
    url = f"/api/v1/patients/{patient.public_id}"
    bad = client.patch(url, data=json.dumps({"version": patient.version, "payer": "acme_health"}),
                       content_type="application/json", **bearer(front_desk))
    assert bad.status_code == 422 and "not a payer" in json.dumps(bad.json())
    ok = client.patch(url, data=json.dumps({"version": patient.version, "payer": "medicare",
                                            "payer_member_id": "1EG4-TE5"}),
                      content_type="application/json", **bearer(front_desk))
    assert ok.status_code == 200
    assert (ok.json()["payer"], ok.json()["payer_member_id"]) == ("medicare", "1EG4-TE5")


def test_the_edit_page_offers_the_payers_and_the_chart_shows_the_choice(client, login_as, front_desk, patient):
    login_as(front_desk)
    html = client.get(f"/patients/{patient.public_id}/edit/").content.decode()
    assert '<select name="payer"' in html and 'value="medicare"' in html
    services.update_patient(front_desk, patient, patient.version, {"payer": "medicare", "payer_member_id": "1EG4-TE5"})
    assert "member 1EG4-TE5" in client.get(f"/patients/{patient.public_id}/").content.decode()
