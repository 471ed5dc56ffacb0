"""The independent FHIR validator harness (issue 18) passes what HL7 wrote and catches what is broken.

HL7's own US Core 6.1.0 examples (from the package in ../shared/fhir) must validate with zero errors,
and each deliberately broken resource is a copy of one of those examples with one thing broken, so the
error found can only come from that break.
"""

from __future__ import annotations

import copy
import json
import subprocess
import tarfile

import pytest

from triggerpoint.fhir.tests import validator

US_CORE = "http://hl7.org/fhir/us/core/StructureDefinition/"


def _examples() -> dict[str, dict]:
    """file name -> resource, for every example HL7 ships in the US Core package (empty when absent)."""
    if not validator.US_CORE_PACKAGE.is_file():
        return {}
    out = {}
    with tarfile.open(validator.US_CORE_PACKAGE) as package:
        for member in package.getmembers():
            if member.isfile() and member.name.startswith("package/example/") and member.name.endswith(".json"):
                out[member.name.rsplit("/", 1)[1]] = json.load(package.extractfile(member))
    return out


EXAMPLES = _examples()


@pytest.fixture(scope="module")
def example_report(fhir_validator):
    """All HL7 examples validated in one batch (one call, as the suite uses it)."""
    names = sorted(EXAMPLES)
    out = fhir_validator.report([EXAMPLES[name] for name in names])
    return dict(zip(names, out["results"], strict=True))


def example(name: str) -> dict:
    return copy.deepcopy(EXAMPLES[name])


def errors_of(resource: dict) -> list[validator.Issue]:
    return validator.errors(validator.validate([resource]))


# --- HL7's examples pass ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_us_core_example_has_zero_errors(example_report, name):
    result = example_report[name]
    errors = [i for i in result["issues"] if i["severity"] in validator.ERROR_SEVERITIES]
    assert errors == [], name
    assert "medplum-r4" in result["checked"] and "fhirjs" in result["checked"]


def test_examples_cover_the_resource_types_we_export(example_report):
    types = {EXAMPLES[name]["resourceType"] for name in example_report}
    assert {"Patient", "Procedure", "Observation", "Encounter", "Condition", "AllergyIntolerance",
            "DocumentReference", "CarePlan", "QuestionnaireResponse", "Provenance"} <= types


def test_every_example_claiming_a_us_core_profile_was_checked_against_it(example_report):
    """Medplum 4.5.2 cannot parse one US Core StructureDefinition (us-core-provenance: its slice on
    Provenance.agent is declared before the discriminator Medplum expects); the Provenance example is
    then checked against base R4 and FHIR.js only, and the report says so with a warning."""
    unchecked = {}
    for name, result in example_report.items():
        for url in result["profiles"]:
            if url.startswith(US_CORE) and f"medplum-profile {url}" not in result["checked"]:
                unchecked[name] = url
                warning = [i for i in result["issues"] if i["severity"] == "warning" and "NOT CHECKED" in i["message"]]
                assert warning, name
    assert unchecked == {"Provenance-example-targeted-provenance.json": US_CORE + "us-core-provenance"}


# --- broken copies are caught ------------------------------------------------------------------------------


def test_us_core_patient_without_identifier_is_an_error(fhir_validator):
    patient = example("Patient-example.json")
    assert errors_of(patient) == []
    del patient["identifier"]
    found = errors_of(patient)
    assert [(i.validator, i.path, i.profile) for i in found] == [
        ("medplum-profile", "Patient.identifier", US_CORE + "us-core-patient")], validator.explain(found)
    # base R4 allows a Patient without identifier: the error comes from the US Core profile
    del patient["meta"]
    assert errors_of(patient) == []


def test_completed_procedure_without_performed_breaks_us_core_7(fhir_validator):
    procedure = example("Procedure-rehab.json")
    assert procedure["status"] == "completed"
    assert errors_of(procedure) == []
    for key in [k for k in procedure if k.startswith("performed")]:
        del procedure[key]
    found = errors_of(procedure)
    assert len(found) == 1 and "us-core-7" in found[0].message, validator.explain(found)
    assert found[0].validator == "medplum-profile"


def test_code_outside_a_required_binding_is_an_error(fhir_validator):
    procedure = example("Procedure-rehab.json")
    procedure["status"] = "finished"  # event-status (required) has completed, not finished
    found = errors_of(procedure)
    assert [(i.validator, i.path) for i in found] == [("fhirjs", "Procedure.status")], validator.explain(found)

    allergy = example("AllergyIntolerance-example.json")
    assert errors_of(allergy) == []
    allergy["clinicalStatus"]["coding"][0]["code"] = "gone"  # CodeableConcept bound (required)
    found = errors_of(allergy)
    assert [(i.validator, i.path) for i in found] == [("fhirjs", "AllergyIntolerance.clinicalStatus")]


def test_wrong_json_types_are_errors(fhir_validator):
    patient = example("Patient-example.json")
    patient["birthDate"] = 19870206
    patient["active"] = "yes"
    found = errors_of(patient)
    paths = {(i.validator, i.path) for i in found}
    assert {("medplum-r4", "Patient.birthDate"), ("medplum-r4", "Patient.active"),
            ("fhirjs", "Patient.active")} <= paths, validator.explain(found)

    observation = example("Observation-weight.json")
    assert errors_of(observation) == []
    observation["valueQuantity"]["value"] = "78"  # decimal as a JSON string
    found = errors_of(observation)
    assert {("medplum-r4", "Observation.value[x].value"), ("fhirjs", "Observation.valueQuantity.value")} <= {
        (i.validator, i.path) for i in found}, validator.explain(found)



def test_bad_date_format_and_unknown_property_are_errors(fhir_validator):
    patient = example("Patient-example.json")
    patient["birthDate"] = "1987-13-02"
    patient["favouriteColour"] = "blue"
    found = errors_of(patient)
    # FHIR.js's date pattern accepts month 13; Medplum's does not
    assert {("medplum-r4", "Patient.birthDate"), ("medplum-r4", "Patient.favouriteColour"),
            ("fhirjs", "Patient.favouriteColour")} <= {(i.validator, i.path) for i in found}, validator.explain(found)


def test_missing_required_slice_of_a_us_core_profile_is_an_error(fhir_validator):
    lab = next(r for r in map(example, sorted(EXAMPLES))
               if r.get("meta", {}).get("profile") == [US_CORE + "us-core-observation-lab"])
    assert errors_of(lab) == []
    lab["category"] = [{"text": "not coded"}]
    found = errors_of(lab)
    assert any(i.validator == "medplum-profile" and "slice" in i.message for i in found), validator.explain(found)


def test_us_core_extension_is_checked_against_its_definition(fhir_validator):
    patient = example("Patient-example.json")
    race = next(e for e in patient["extension"] if e["url"] == US_CORE + "us-core-race")
    race["extension"] = [e for e in race["extension"] if e["url"] != "text"]  # text is 1..1
    found = errors_of(patient)
    assert [(i.validator, i.profile) for i in found] == [("medplum-profile", US_CORE + "us-core-race")]
    assert "text" in found[0].message and found[0].path.startswith("Patient.extension[")


def test_profile_that_is_not_in_us_core_6_1_0_is_an_error(fhir_validator):
    patient = example("Patient-example.json")
    patient["meta"]["profile"] = [US_CORE + "us-core-patient-typo"]
    assert [i.path for i in errors_of(patient)] == ["meta.profile"]


def test_not_a_resource_and_unknown_type_are_errors(fhir_validator):
    found = validator.errors(validator.validate([{"id": "x"}, {"resourceType": "Pateint", "id": "y"}]))
    assert {i.index for i in found} == {0, 1}


def test_one_batch_reports_each_resource_at_its_index(fhir_validator):
    good, bad = example("Patient-example.json"), example("Patient-example.json")
    del bad["identifier"]
    found = validator.errors(validator.validate([good, bad, good]))
    assert {i.index for i in found} == {1}


# --- a quirk of Medplum 4.5.2 that the FHIR mapping must respect -----------------------------------------------


def test_risk_assessment_prediction_needs_a_probability_for_medplum(fhir_validator):
    """R4 invariant ras-2 is `probability is decimal implies (probability as decimal) <= 100`. Medplum 4.5.2
    evaluates it to empty, so to "not met", when a prediction has no probability[x]: HL7's own R4 examples
    RiskAssessment-breastcancer-risk and RiskAssessment-prognosis fail it. An exported RiskAssessment passes
    when every prediction carries probabilityDecimal (0-100); above 100 is a genuine error."""
    def risk(**prediction):
        return {"resourceType": "RiskAssessment", "id": "r", "status": "final", "subject": {"reference": "Patient/p"},
                "prediction": [{"outcome": {"text": "flare within 4 weeks"}, **prediction}]}

    assert errors_of(risk(probabilityDecimal=30)) == []
    assert [i.message[:24] for i in errors_of(risk(probabilityDecimal=130))] == ["Constraint ras-2 not met"]
    assert [i.message[:24] for i in errors_of(risk())] == ["Constraint ras-2 not met"]


def test_fhirjs_rejects_a_translation_beside_a_required_code(fhir_validator):
    """FHIR.js 4.12.0 checks every coding of a required-bound CodeableConcept, not "at least one" as R4 asks:
    the mapping must not add local translations to such concepts (clinicalStatus, verificationStatus...)."""
    allergy = example("AllergyIntolerance-example.json")
    allergy["clinicalStatus"]["coding"].append({"system": "urn:triggerpoint:local", "code": "A"})
    found = errors_of(allergy)
    assert [(i.validator, i.path) for i in found] == [("fhirjs", "AllergyIntolerance.clinicalStatus")]


# --- the command line: array, Bundle and NDJSON on stdin -----------------------------------------------------


def _cli(text: str) -> tuple[int, dict]:
    done = subprocess.run(["node", str(validator.SCRIPT)], input=text, capture_output=True, text=True,
                          cwd=validator.TOOL_DIR, timeout=300, check=False)
    return done.returncode, json.loads(done.stdout)


def test_command_line_reads_ndjson_and_exits_1_on_errors(fhir_validator):
    good = example("Patient-example.json")
    bad = example("Patient-example.json")
    del bad["identifier"]
    code, out = _cli("\n".join(json.dumps(r) for r in (good, bad, good)) + "\n")
    assert (code, out["resource_count"], out["error_count"]) == (1, 3, 1)
    assert [bool(r["issues"]) for r in out["results"]] == [False, True, False]
    assert out["versions"]["@medplum/core"].startswith("4.5.") and out["versions"]["fhir"] == "4.12.0"


def test_a_bundle_is_validated_entry_by_entry(fhir_validator):
    good = example("Patient-example.json")
    bad = example("Procedure-rehab.json")
    bad["status"] = "finished"
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": good}, {"resource": bad}]}
    found = validator.errors(validator.validate(bundle))
    assert [(i.index, i.resource_type, i.path) for i in found] == [(1, "Procedure", "Procedure.status")]


# --- skip or fail when Node is missing -----------------------------------------------------------------------


def test_without_node_the_test_skips_and_says_why(monkeypatch):
    monkeypatch.setattr(validator.shutil, "which", lambda name: None)
    monkeypatch.setattr(validator, "_reason_cache", [])
    monkeypatch.delenv("TRIGGERPOINT_REQUIRE_NODE", raising=False)
    with pytest.raises(pytest.skip.Exception, match="Node.js is not installed"):
        validator.require()


def test_on_ci_a_missing_validator_fails_instead_of_skipping(monkeypatch):
    monkeypatch.setattr(validator.shutil, "which", lambda name: None)
    monkeypatch.setattr(validator, "_reason_cache", [])
    monkeypatch.setenv("TRIGGERPOINT_REQUIRE_NODE", "1")
    with pytest.raises(pytest.fail.Exception, match="TRIGGERPOINT_REQUIRE_NODE=1"):
        validator.require()


def test_without_node_modules_the_reason_names_the_install_step(monkeypatch):
    monkeypatch.setattr(validator, "TOOL_DIR", validator.REPO / "tools" / "no-such-dir")
    reason = validator.unavailable_reason()
    if reason and not reason.startswith("@medplum"):
        pytest.skip(f"Node itself is missing or too old here: {reason}")
    assert reason is not None and "npm ci --prefix tools/fhir-validator" in reason
