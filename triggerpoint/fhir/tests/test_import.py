"""Import from the EHR (`POST /fhir/R4/` transaction Bundles), on data nobody here wrote: the US Core 6.1.0
examples, read from the package in shared/fhir (hl7.fhir.us.core-6.1.0.tgz) in the test itself.

Each test counts rows before and after: a refused Bundle writes nothing, a re-sent one changes nothing.
"""

from __future__ import annotations

import copy
import json
import tarfile
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path

import pytest

from triggerpoint.conftest import make_patient, make_staff, verified_client

US_CORE_TGZ = Path(__file__).resolve().parents[4] / "shared" / "fhir" / "hl7.fhir.us.core-6.1.0.tgz"
if not US_CORE_TGZ.exists():
    US_CORE_TGZ = Path("/work/shared/fhir/hl7.fhir.us.core-6.1.0.tgz")
EHR = "http://hospital.smarthealthit.org"  # the MRN system of US Core's Patient-example


@cache
def _us_core(name: str) -> dict:
    if not US_CORE_TGZ.exists():
        pytest.skip(f"US Core 6.1.0 package not found at {US_CORE_TGZ}")
    with tarfile.open(US_CORE_TGZ) as tgz:
        return json.load(tgz.extractfile(f"package/example/{name}.json"))


def example(name: str) -> dict:
    resource = copy.deepcopy(_us_core(name))
    resource.pop("text", None)
    return resource


def entry(resource: dict, full_url: str | None = None) -> dict:
    kind, rid = resource["resourceType"], resource.get("id", "x")
    return {"fullUrl": full_url or f"urn:uuid:{kind.lower()}-{rid}", "resource": resource,
            "request": {"method": "POST", "url": kind}}


def recent_weight(kg: float = 72.5, unit: str = "kg", days_ago: int = 10) -> dict:
    weight = example("Observation-weight")
    weight["valueQuantity"] = {"value": kg, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}
    weight["effectiveDateTime"] = (date.today() - timedelta(days=days_ago)).isoformat()
    return weight


def us_core_bundle(*extra: dict) -> dict:
    """Amy V. Shaw (US Core Patient-example) with the US Core allergy, medication, conditions and a weight."""
    patient = example("Patient-example")
    resources = [example("AllergyIntolerance-example"), example("MedicationRequest-medicationrequest-coded-oral-axid"),
                 example("Condition-condition-duodenal-ulcer"), example("Condition-encounter-diagnosis-example1"),
                 example("Observation-weight"), recent_weight(), *extra]
    return {"resourceType": "Bundle", "type": "transaction",
            "entry": [{"fullUrl": "http://example.org/fhir/Patient/example", "resource": patient,
                       "request": {"method": "PUT", "url": "Patient/example"}},
                      *(entry(r) for r in resources)]}


def warfarin_request(status: str = "active") -> dict:
    med = example("MedicationRequest-medicationrequest-coded-oral-axid")
    med["id"] = f"warfarin-{status}"
    med["status"] = status
    med["medicationCodeableConcept"] = {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                                                    "code": "855332", "display": "Warfarin Sodium 5 MG Oral Tablet"}],
                                        "text": "Warfarin Sodium 5 MG Oral Tablet"}
    return med


def lidocaine_allergy() -> dict:
    allergy = example("AllergyIntolerance-example")
    allergy["id"] = "lidocaine"
    allergy["code"] = {"text": "Lidocaine"}
    return allergy


def counts() -> dict[str, int]:
    from triggerpoint.audit.models import AuditEvent
    from triggerpoint.patients.models import Allergy, ImportedItem, Medication, Patient, PatientIdentifier

    return {m.__name__: m.all_objects.count() if hasattr(m, "all_objects") else m.objects.count()
            for m in (Patient, Allergy, Medication, ImportedItem, PatientIdentifier)} | {
        "audit": AuditEvent.objects.filter(patient_id__isnull=False).count()}  # (a token's first use has none)


@pytest.fixture
def nurse(clinic_a):
    return make_staff("nina.import", "nurse", clinic_a)


@pytest.fixture
def post(client, bearer, nurse):
    headers = bearer(nurse)

    def _post(body, user=None, raw: bytes | None = None, **extra):
        hdrs = bearer(user) if user is not None else headers
        data = raw if raw is not None else json.dumps(body)
        return client.post("/fhir/R4/", data=data, content_type="application/fhir+json", **hdrs, **extra)

    return _post


def statuses(response) -> list[str]:
    return [e["response"]["status"] for e in response.json()["entry"]]


def issues(response) -> list[dict]:
    body = response.json()
    assert body["resourceType"] == "OperationOutcome", body
    return body["issue"]


# ------------------------------------------------------------------ create, re-send, update
def test_us_core_examples_create_a_chart_with_everything_kept(post, clinic_a):
    from triggerpoint.audit.models import AuditEvent
    from triggerpoint.patients.models import Patient

    response = post(us_core_bundle())
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["type"] == "transaction-response"
    assert statuses(response) == ["201 Created"] * 7
    patient = Patient.objects.get(clinic=clinic_a, family_name="Shaw")
    assert body["entry"][0]["response"]["location"] == f"Patient/{patient.public_id}"
    assert (patient.given_name, patient.date_of_birth, patient.sex) == ("Amy V.", date(1987, 2, 20), "female")
    assert patient.identifiers.filter(system=EHR, value="1032702").exists()
    # The sulfonamide allergy is on the chart (a safety fact) and flagged: the screening words do not know it.
    allergy = patient.allergies.get()
    assert allergy.substance == "sulfonamide antibacterial" and allergy.severity == "mild"
    assert allergy.reaction == "skin rash"
    assert body["entry"][1]["response"]["location"] == f"AllergyIntolerance/{allergy.public_id}"
    # Nizatidine: no class of ours → kept as "other", flagged, RxNorm code kept as sent.
    med = patient.medications.get()
    assert (med.name, med.drug_class) == ("Nizatidine 15 MG/ML Oral Solution", "other")
    kept = patient.imported_items.get(kind="medication")
    assert (kept.system, kept.code, kept.needs_classification) == (
        "http://www.nlm.nih.gov/research/umls/rxnorm", "476872", True)
    # Conditions are kept and flagged, never dropped.
    assert set(patient.imported_items.filter(kind="condition", needs_classification=True)
               .values_list("code", flat=True)) == {"51868009", "39065001"}
    # The 1999 weight is kept but not applied; the recent one is the chart's weight.
    assert patient.weight_kg == Decimal("72.5")
    assert patient.weight_measured_on == date.today() - timedelta(days=10)
    assert patient.imported_items.filter(kind="weight").count() == 2
    flagged = [e for e in body["entry"] if e["response"]["outcome"]["issue"][0]["severity"] == "warning"]
    assert len(flagged) == 4  # allergy, medication, two conditions
    # Audited per patient: the import, the creation, each item.
    actions = list(AuditEvent.objects.filter(patient_id=patient.pk).values_list("action", flat=True))
    assert "fhir.bundle.imported" in actions and "patients.patient.created" in actions
    assert actions.count("patients.imported_item.kept") == 6
    assert "patients.allergy.added" in actions and "patients.medication.added" in actions


def test_the_same_bundle_twice_changes_nothing(post):
    assert post(us_core_bundle()).status_code == 200
    before = counts()
    again = post(us_core_bundle())
    assert again.status_code == 200
    assert statuses(again) == ["200 OK"] * 7
    after = counts()
    assert after.pop("audit") == before.pop("audit") + 1  # only the import itself is recorded
    assert after == before


def test_an_updated_bundle_adds_the_new_allergy_and_the_anticoagulant(post, clinic_a):
    from triggerpoint.patients.models import Patient

    post(us_core_bundle())
    before = counts()
    response = post(us_core_bundle(lidocaine_allergy(), warfarin_request()))
    assert response.status_code == 200
    assert statuses(response) == ["200 OK"] * 7 + ["201 Created"] * 2
    patient = Patient.objects.get(clinic=clinic_a, family_name="Shaw")
    assert set(patient.allergies.values_list("substance", flat=True)) == {"sulfonamide antibacterial", "Lidocaine"}
    # Lidocaine is known to the screening vocabulary: not flagged.
    assert not patient.imported_items.get(kind="allergy", text="Lidocaine").needs_classification
    warfarin = patient.medications.get(name__startswith="Warfarin")
    assert warfarin.drug_class == "anticoagulant"
    assert not patient.imported_items.get(code="855332").needs_classification
    after = counts()
    assert after["Patient"] == before["Patient"] and after["Allergy"] == before["Allergy"] + 1
    assert after["Medication"] == before["Medication"] + 1


def test_an_allergy_dropped_by_the_ehr_stays_on_the_chart_and_is_listed(post, client, nurse, clinic_a):
    from triggerpoint.patients.models import Patient

    post(us_core_bundle(lidocaine_allergy()))
    verified_client(client, nurse)
    bundle = us_core_bundle()
    response = client.post("/fhir/R4/import/", {"bundle_json": json.dumps(bundle)})
    assert response.status_code == 200
    assert "On the chart but not in this Bundle" in response.content.decode() and "Lidocaine" in response.content.decode()
    patient = Patient.objects.get(clinic=clinic_a, family_name="Shaw")
    assert patient.allergies.filter(substance="Lidocaine").exists()


def test_inactive_medication_and_refuted_allergy_are_kept_not_applied(post, clinic_a):
    from triggerpoint.patients.models import Patient

    refuted = lidocaine_allergy()
    refuted["verificationStatus"]["coding"][0]["code"] = "refuted"
    post(us_core_bundle(refuted, warfarin_request("stopped")))
    patient = Patient.objects.get(clinic=clinic_a, family_name="Shaw")
    assert not patient.allergies.filter(substance="Lidocaine").exists()
    assert not patient.medications.filter(name__startswith="Warfarin").exists()
    assert patient.imported_items.get(text="Lidocaine").detail.startswith("not added")
    assert patient.imported_items.get(code="855332").detail == "not added: stopped in the sending system"


def test_weight_in_pounds_is_converted(post, clinic_a):
    from triggerpoint.patients.models import Patient

    bundle = us_core_bundle()
    bundle["entry"][6]["resource"] = recent_weight(160, "[lb_av]", days_ago=2)
    assert post(bundle).status_code == 200
    patient = Patient.objects.get(clinic=clinic_a, family_name="Shaw")
    assert patient.weight_kg == Decimal("72.6")  # 160 × 0.45359237 = 72.57


# ------------------------------------------------------------------ matching
def test_identifier_match_updates_the_chart_even_with_a_new_name(post, clinic_a):
    from triggerpoint.patients.models import Patient

    post(us_core_bundle())
    bundle = us_core_bundle()
    bundle["entry"][0]["resource"]["name"] = [{"family": "Shaw-Keller", "given": ["Amy"]}]
    response = post(bundle)
    assert response.status_code == 200
    assert Patient.objects.filter(clinic=clinic_a).count() == 1
    patient = Patient.objects.get(clinic=clinic_a)
    assert (patient.given_name, patient.family_name) == ("Amy", "Shaw-Keller")
    assert "updated" in response.json()["entry"][0]["response"]["outcome"]["issue"][0]["diagnostics"]


def test_our_own_mrn_system_matches_the_chart(post, clinic_a):
    from triggerpoint.fhir.mapping.patient import mrn_system

    chart = make_patient(clinic_a, "A-0077", "Someone", "Else", date_of_birth=date(1960, 1, 1))
    bundle = us_core_bundle()
    bundle["entry"][0]["resource"]["identifier"] = [{"system": mrn_system(clinic_a), "value": "A-0077"}]
    response = post(bundle)
    assert response.status_code == 200
    assert response.json()["entry"][0]["response"]["location"] == f"Patient/{chart.public_id}"


def test_a_likely_duplicate_without_identifier_is_a_409_naming_the_chart(post, clinic_a):
    chart = make_patient(clinic_a, "A-0100", "Amy", "Shaw", date_of_birth=date(1987, 2, 20))
    before = counts()
    response = post(us_core_bundle())
    assert response.status_code == 409
    problems = issues(response)
    assert problems[0]["code"] == "duplicate" and "A-0100" in problems[0]["diagnostics"]
    assert str(chart.public_id) in problems[0]["diagnostics"]
    after = counts()
    assert {k: v for k, v in after.items() if k != "audit"} == {k: v for k, v in before.items() if k != "audit"}
    from triggerpoint.audit.models import AuditEvent

    shown = AuditEvent.objects.filter(action="patients.duplicate.shown", patient_id=chart.pk)
    assert shown.count() == 1 and shown.get().details["channel"] == "fhir-import"  # the candidate shown is audited


def test_staff_resolve_a_duplicate_on_the_upload_page(client, nurse, clinic_a):
    chart = make_patient(clinic_a, "A-0100", "Amy", "Shaw", date_of_birth=date(1987, 2, 20))
    verified_client(client, nurse)
    text = json.dumps(us_core_bundle())
    page = client.post("/fhir/R4/import/", {"bundle_json": text})
    assert page.status_code == 409 and "Import into Shaw, Amy (A-0100" in page.content.decode()
    chosen = client.post("/fhir/R4/import/", {"bundle_json": text, "into": str(chart.public_id)})
    assert chosen.status_code == 200, chosen.content
    assert chart.identifiers.filter(system=EHR, value="1032702").exists()
    assert chart.allergies.count() == 1
    # From now on the identifier finds it.
    again = client.post("/fhir/R4/import/", {"bundle_json": text})
    assert again.status_code == 200 and "matched by identifier" in again.content.decode()


def test_another_clinics_chart_is_never_matched(post, clinic_a, clinic_b):
    from triggerpoint.patients.models import Patient

    other_nurse = make_staff("nora.other", "nurse", clinic_b)
    assert post(us_core_bundle(), user=other_nurse).status_code == 200
    response = post(us_core_bundle())  # the same person and identifier, in clinic A
    assert response.status_code == 200 and statuses(response)[0] == "201 Created"
    assert Patient.objects.filter(family_name="Shaw").count() == 2


# ------------------------------------------------------------------ refusals write nothing
def test_one_invalid_entry_refuses_the_whole_bundle(post):
    bundle = us_core_bundle(lidocaine_allergy())
    bundle["entry"][1]["resource"]["criticality"] = 7  # a code must be a string
    bundle["entry"][2]["resource"]["subject"] = {"reference": "Patient/someone-else"}
    bundle["entry"][6]["resource"]["valueQuantity"]["code"] = "stone"
    before = counts()
    response = post(bundle)
    assert response.status_code == 400
    found = {(i["code"], i["expression"][0]) for i in issues(response)}
    assert ("invalid", "Bundle.entry[1].resource.criticality") in found
    assert ("invalid", "Bundle.entry[2].resource.subject") in found
    assert ("value", "Bundle.entry[6].resource.valueQuantity.code") in found
    assert counts() == before


def test_a_failure_while_writing_rolls_everything_back(post, monkeypatch):
    from triggerpoint.fhir.importing import service

    def boom(*args, **kwargs):
        from django.core.exceptions import ValidationError
        raise ValidationError("condition refused by the chart")

    monkeypatch.setitem(service.APPLY, "Condition", boom)
    before = counts()
    response = post(us_core_bundle())
    assert response.status_code == 400
    assert "Bundle.entry[3].resource" in issues(response)[0]["diagnostics"]
    assert counts() == before  # the patient, allergy and medication written before it are gone too


@pytest.mark.parametrize("bundle_type", ["batch", "collection", "searchset", None])
def test_only_transactions_are_imported(post, bundle_type):
    bundle = us_core_bundle()
    bundle["type"] = bundle_type
    response = post(bundle)
    assert response.status_code == 400
    assert issues(response)[0]["expression"] == ["Bundle.type"]


@pytest.mark.parametrize("raw", [b"{not json", b"[]", b'{"resourceType": "Patient"}', "\u00e9".encode("latin-1")])
def test_malformed_bodies_are_400(post, raw):
    before = counts()
    response = post(None, raw=raw)
    assert response.status_code == 400
    assert issues(response)[0]["severity"] == "error"
    assert counts() == before


def test_unsupported_types_and_missing_patient_are_named(post):
    bundle = us_core_bundle()
    bundle["entry"][0] = entry({"resourceType": "Encounter", "id": "e1", "status": "finished",
                                "class": {"code": "AMB"}})
    response = post(bundle)
    assert response.status_code == 400
    text = " ".join(i["diagnostics"] for i in issues(response))
    assert "'Encounter' is not imported" in text and "exactly one Patient (it holds 0)" in text


# ------------------------------------------------------------------ who may
def test_front_desk_may_not_import_clinical_entries_but_may_import_demographics(post, clinic_a):
    desk = make_staff("fran.desk", "front_desk", clinic_a)
    before = counts()
    assert post(us_core_bundle(), user=desk).status_code == 403
    assert counts() == before
    bundle = us_core_bundle()
    bundle["entry"] = [bundle["entry"][0], bundle["entry"][6]]  # the Patient and a weight
    assert post(bundle, user=desk).status_code == 200


def test_no_token_is_401_and_analyst_is_403(client, clinic_a, post):
    response = client.post("/fhir/R4/", data=json.dumps(us_core_bundle()), content_type="application/fhir+json")
    assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Bearer")
    analyst = make_staff("ana.lyst", "analyst", clinic_a)
    assert post(us_core_bundle(), user=analyst).status_code == 403


def test_the_capability_statement_declares_transaction(client):
    rest = client.get("/fhir/R4/metadata").json()["rest"][0]
    assert {"transaction"} == {i["code"] for i in rest["interaction"]}


# ------------------------------------------------------------------ on the chart
def test_flagged_items_show_on_the_chart_and_a_clinician_classifies_them(post, client, nurse, clinic_a, clinic_b):
    from triggerpoint.audit.models import AuditEvent
    from triggerpoint.patients.models import Patient

    post(us_core_bundle())
    patient = Patient.objects.get(clinic=clinic_a, family_name="Shaw")
    verified_client(client, nurse)
    chart = client.get(f"/patients/{patient.public_id}/").content.decode()
    assert "From the EHR: needs classification (4)" in chart and "Active Duodenal Ulcer" in chart
    item = patient.imported_items.get(code="51868009")
    url = f"/patients/{patient.public_id}/imported/{item.public_id}/classified/"
    # Front desk may not; another clinic's clinician does not find it.
    desk = make_staff("fred.desk", "front_desk", clinic_a)
    verified_client(client, desk)
    assert client.post(url, {"note": "x"}).status_code == 403
    verified_client(client, make_staff("olga.other", "nurse", clinic_b))
    assert client.post(url, {"note": "x"}).status_code == 404
    verified_client(client, nurse)
    assert client.post(url, {"note": "no bearing on injections"}).status_code == 302
    item.refresh_from_db()
    assert not item.needs_classification and item.detail == "classified: no bearing on injections"
    assert AuditEvent.objects.filter(action="patients.imported_item.classified", patient_id=patient.pk).count() == 1
    assert "needs classification (3)" in client.get(f"/patients/{patient.public_id}/").content.decode()
    # Re-sending the Bundle does not flag it again.
    assert post(us_core_bundle()).status_code == 200
    item.refresh_from_db()
    assert not item.needs_classification


def test_after_a_merge_the_identifier_and_the_items_follow_the_surviving_chart(post, clinic_a, client, nurse):
    from triggerpoint.patients.merging import merge_charts
    from triggerpoint.patients.models import Patient

    post(us_core_bundle())
    absorbed = Patient.objects.get(clinic=clinic_a, family_name="Shaw")
    survivor = make_patient(clinic_a, "A-0200", "Amy", "Shaw-Other", date_of_birth=date(1987, 2, 21))
    merge_charts(make_staff("cleo.admin", "clinic_admin", clinic_a), absorbed, survivor)
    before = counts()
    response = post(us_core_bundle())
    assert response.status_code == 200, response.content
    assert response.json()["entry"][0]["response"]["location"] == f"Patient/{survivor.public_id}"
    assert statuses(response)[1:] == ["200 OK"] * 6  # the absorbed chart's items are the survivor's
    after = counts()
    assert {k: after[k] for k in ("Allergy", "Medication", "ImportedItem", "Patient")} == {
        k: before[k] for k in ("Allergy", "Medication", "ImportedItem", "Patient")}
    verified_client(client, nurse)
    assert "needs classification (4)" in client.get(f"/patients/{survivor.public_id}/").content.decode()


def test_a_session_caller_needs_the_csrf_token(nurse):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    verified_client(browser, nurse)
    before = counts()
    response = browser.post("/fhir/R4/", data=json.dumps(us_core_bundle()), content_type="application/fhir+json")
    assert response.status_code == 403 and "CSRF" in issues(response)[0]["diagnostics"]
    assert counts() == before


def test_the_upload_page_names_each_problem_and_writes_nothing(client, nurse):
    from django.core.files.uploadedfile import SimpleUploadedFile

    verified_client(client, nurse)
    bundle = us_core_bundle()
    bundle["entry"][0]["resource"]["birthDate"] = "1987-02-30"
    del bundle["entry"][1]["resource"]["code"]
    before = counts()
    upload = SimpleUploadedFile("bundle.json", json.dumps(bundle).encode(), content_type="application/json")
    page = client.post("/fhir/R4/import/", {"bundle": upload})
    assert page.status_code == 422
    text = page.content.decode()
    assert "Nothing was imported" in text and "Bundle.entry[0].resource.birthDate" in text
    assert "Bundle.entry[1].resource.code" in text
    assert counts() == before


def _odd_bundles():
    def with_(change):
        bundle = us_core_bundle()
        change(bundle)
        return bundle

    yield "entry not a list", with_(lambda b: b.update(entry={"a": 1}))
    yield "entry without request", with_(lambda b: b["entry"][1].pop("request"))
    yield "resource not an object", with_(lambda b: b["entry"][1].update(resource=[1]))
    yield "partial birth date", with_(lambda b: b["entry"][0]["resource"].update(birthDate="1987"))
    yield "future birth date", with_(lambda b: b["entry"][0]["resource"].update(birthDate="2999-01-01"))
    yield "unknown gender", with_(lambda b: b["entry"][0]["resource"].update(gender="x"))
    yield "no name", with_(lambda b: b["entry"][0]["resource"].pop("name"))
    yield "long identifier", with_(lambda b: b["entry"][0]["resource"]["identifier"][0].update(value="9" * 300))
    yield "two patients", with_(lambda b: b["entry"].append(copy.deepcopy(b["entry"][0])))
    yield "weight 4000 kg", with_(lambda b: b["entry"][6]["resource"]["valueQuantity"].update(value=4000))
    yield "weight without unit", with_(lambda b: b["entry"][6]["resource"]["valueQuantity"].pop("code"))
    yield "weight tomorrow+", with_(lambda b: b["entry"][6]["resource"].update(
        effectiveDateTime=(date.today() + timedelta(days=5)).isoformat()))
    yield "medication by reference", with_(lambda b: b["entry"][2]["resource"].update(
        medicationCodeableConcept=None, medicationReference={"reference": "Medication/x"}))
    yield "allergy without code", with_(lambda b: b["entry"][1]["resource"].pop("code"))
    yield "year 10000 date", with_(lambda b: b["entry"][6]["resource"].update(effectiveDateTime="9999-12-31T23:00:00-05:00"))


@pytest.mark.parametrize(("label", "bundle"), list(_odd_bundles()), ids=[label for label, _ in _odd_bundles()])
def test_odd_bundles_are_4xx_and_write_nothing(post, label, bundle):
    before = counts()
    response = post(bundle)
    assert response.status_code == 400, (label, response.content)
    assert all(i["severity"] == "error" for i in issues(response))
    assert counts() == before


@pytest.mark.parametrize("raw", [b'{"resourceType": "Bundle", "type": "transaction", "entry": [NaN]}',
                                 b'{"resourceType": "Bundle", "type": "transaction", "entry": [Infinity]}'])
def test_json_constants_are_refused(post, raw):
    assert post(None, raw=raw).status_code == 400


def test_other_methods_on_the_base_are_a_405_operation_outcome(client, bearer, nurse):
    response = client.get("/fhir/R4/", **bearer(nurse))
    assert response.status_code == 405 and response["Allow"] == "POST"
    assert issues(response)[0]["code"] == "not-supported"


def test_the_answers_are_valid_r4_for_validators_we_did_not_write(post, fhir_validator):
    from triggerpoint.fhir.tests import validator

    created = post(us_core_bundle(lidocaine_allergy(), warfarin_request())).json()
    again = post(us_core_bundle()).json()
    bundle = us_core_bundle()
    bundle["type"] = "batch"
    refused = post(bundle).json()
    malformed = post(None, raw=b"{").json()
    issues_found = validator.validate([created, again, refused, malformed])
    assert not validator.errors(issues_found), validator.explain(issues_found)


def test_a_verified_rxnorm_code_names_the_catalogue_drug_whatever_the_text(post, clinic_a):
    from triggerpoint.patients.models import Patient

    allergy = lidocaine_allergy()
    allergy["code"] = {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "6387"}],
                       "text": "Xylocaine jelly"}
    unknown = lidocaine_allergy()
    unknown["id"] = "unknown-code"
    unknown["code"] = {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "999999999"}],
                       "text": "Xylocaine spray"}
    assert post(us_core_bundle(allergy, unknown)).status_code == 200
    patient = Patient.objects.get(clinic=clinic_a, family_name="Shaw")
    assert set(patient.allergies.values_list("substance", flat=True)) == {
        "sulfonamide antibacterial", "Lidocaine", "Xylocaine spray"}
    kept = patient.imported_items.get(code="6387")
    assert kept.text == "Xylocaine jelly" and not kept.needs_classification
    assert patient.imported_items.get(code="999999999").needs_classification


def test_a_verified_rxnorm_code_classes_a_medication(post, clinic_a):
    from triggerpoint.patients.models import Patient

    med = warfarin_request()
    med["id"] = "kenalog"
    med["medicationCodeableConcept"] = {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                                                    "code": "10759"}], "text": "Depot injection 40 mg/mL"}
    assert post(us_core_bundle(med)).status_code == 200
    patient = Patient.objects.get(clinic=clinic_a, family_name="Shaw")
    assert patient.medications.get(name="Depot injection 40 mg/mL").drug_class == "corticosteroid"


@pytest.mark.parametrize("into", ["not-a-uuid", "6b6a3c0e-5bde-4c6b-9d3f-0b4e7b0c0001"])
def test_choosing_a_chart_that_is_not_there_is_a_404_that_writes_nothing(client, nurse, into):
    verified_client(client, nurse)
    before = counts()
    page = client.post("/fhir/R4/import/", {"bundle_json": json.dumps(us_core_bundle()), "into": into})
    assert page.status_code == 404 and "was not found in this clinic" in page.content.decode()
    assert {k: v for k, v in counts().items() if k != "audit"} == {k: v for k, v in before.items() if k != "audit"}
