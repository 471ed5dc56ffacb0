"""Read and check a transaction Bundle before anything is written: every problem, each with where it is.

Checks: JSON object, `resourceType` Bundle, `type` transaction (a batch or any other type is refused),
1–`MAX_ENTRIES` entries, each with a `resource` of a supported type and a `request` (POST or PUT);
each resource against its `fhir.resources` R4B model (types, formats, unknown elements); then what the
import needs: exactly one Patient (name, birth date), every other entry about that Patient, a coded or
named allergy / medication / condition, an Observation that is a body weight (LOINC 29463-7) in a
UCUM mass unit with a date.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from triggerpoint.core import plausible
from triggerpoint.fhir.importing import vocabulary

MAX_BYTES = 5 * 1024 * 1024
MAX_ENTRIES = 500
SUPPORTED = ("Patient", "AllergyIntolerance", "MedicationRequest", "MedicationStatement", "Condition", "Observation")
SUBJECT_ELEMENT = {"AllergyIntolerance": "patient", "MedicationRequest": "subject", "MedicationStatement": "subject",
                   "Condition": "subject", "Observation": "subject"}
GENDERS = {"male", "female", "other", "unknown"}


@dataclass(frozen=True)
class Issue:
    code: str  # FHIR issue type: invalid, required, not-supported, value, conflict, …
    diagnostics: str
    expression: str = ""

    def as_fhir(self) -> dict[str, Any]:
        issue: dict[str, Any] = {"severity": "error", "code": self.code, "diagnostics": self.diagnostics}
        if self.expression:
            issue["expression"] = [self.expression]
        return issue


class Refused(Exception):  # noqa: N818 - an answer (4xx OperationOutcome), not a fault
    def __init__(self, status: int, issues: list[Issue], candidates: tuple = ()):
        super().__init__("; ".join(i.diagnostics for i in issues))
        self.status = status
        self.issues = issues
        self.candidates = candidates  # likely duplicate charts (409), for the upload page's choice

    def outcome(self) -> dict[str, Any]:
        return {"resourceType": "OperationOutcome", "issue": [i.as_fhir() for i in self.issues]}


@dataclass
class Entry:
    index: int
    type: str
    resource: Any  # the fhir.resources model
    raw: dict[str, Any]
    full_url: str = ""

    @property
    def where(self) -> str:
        return f"Bundle.entry[{self.index}].resource"


@dataclass
class ParsedBundle:
    patient: Entry
    entries: list[Entry] = field(default_factory=list)  # every entry but the Patient, in Bundle order

    @property
    def has_clinical(self) -> bool:
        return any(e.type != "Observation" for e in self.entries)


def load_json(body: bytes) -> Any:
    if len(body) > MAX_BYTES:
        raise Refused(413, [Issue("too-costly", f"The Bundle is larger than {MAX_BYTES // (1024 * 1024)} MB.")])
    try:
        return json.loads(body.decode("utf-8"), parse_float=Decimal, parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise Refused(400, [Issue("structure", f"The body is not JSON: {str(exc)[:200]}")]) from exc


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def _path(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _model_issues(where: str, model: type, raw: dict[str, Any]) -> tuple[Any, list[Issue]]:
    try:
        return model.model_validate(raw), []
    except ValidationError as exc:
        issues = []
        for error in exc.errors()[:50]:
            message = error["msg"] if error["type"] != "extra_forbidden" else "Unknown element"
            issues.append(Issue("invalid", f"{where}{_path(error['loc'])}: {message}", f"{where}{_path(error['loc'])}"))
        return None, issues
    except (ValueError, TypeError) as exc:  # fhir.resources raises plain errors for a few shapes
        return None, [Issue("invalid", f"{where}: {str(exc)[:200]}", where)]


def parse_bundle(data: Any) -> ParsedBundle:
    """The checked Bundle, or `Refused` (400) listing every problem found."""
    if not isinstance(data, dict) or data.get("resourceType") != "Bundle":
        raise Refused(400, [Issue("structure", "The body must be a FHIR Bundle (resourceType \"Bundle\").",
                                  "Bundle")])
    if data.get("type") != "transaction":
        raise Refused(400, [Issue("not-supported", f"Bundle.type must be \"transaction\" (got {str(data.get('type'))[:40]!r}): "
                                                   "only transactions are imported, all or nothing.", "Bundle.type")])
    raw_entries = data.get("entry")
    if not isinstance(raw_entries, list) or not raw_entries:
        raise Refused(400, [Issue("required", "The Bundle has no entries.", "Bundle.entry")])
    if len(raw_entries) > MAX_ENTRIES:
        raise Refused(400, [Issue("too-costly", f"At most {MAX_ENTRIES} entries per Bundle.", "Bundle.entry")])
    issues: list[Issue] = []
    entries: list[Entry] = []
    for index, raw in enumerate(raw_entries):
        where = f"Bundle.entry[{index}]"
        if not isinstance(raw, dict) or not isinstance(raw.get("resource"), dict):
            issues.append(Issue("required", f"{where}: an entry needs a resource.", f"{where}.resource"))
            continue
        resource = raw["resource"]
        kind = resource.get("resourceType")
        if kind not in SUPPORTED:
            issues.append(Issue("not-supported", f"{where}.resource: {str(kind)[:40]!r} is not imported "
                                                 f"(supported: {', '.join(SUPPORTED)}).", f"{where}.resource.resourceType"))
            continue
        request = raw.get("request")
        if not isinstance(request, dict) or request.get("method") not in ("POST", "PUT"):
            issues.append(Issue("required", f"{where}.request.method must be POST or PUT in a transaction.",
                                f"{where}.request.method"))
        model, problems = _model_issues(f"{where}.resource", get_fhir_model_class(kind), resource)
        issues.extend(problems)
        if model is not None:
            entries.append(Entry(index, kind, model, resource, str(raw.get("fullUrl") or "")))
    patients = [e for e in entries if e.type == "Patient"]
    patient_count = sum(1 for r in raw_entries if isinstance(r, dict) and isinstance(r.get("resource"), dict)
                        and r["resource"].get("resourceType") == "Patient")
    if patient_count != 1:
        issues.append(Issue("invalid", f"The Bundle must hold exactly one Patient (it holds {patient_count}): "
                                       "one chart is imported per Bundle.", "Bundle.entry"))
    if patients:
        issues.extend(_patient_issues(patients[0]))
    raw_patient = next((r for r in raw_entries if isinstance(r, dict) and isinstance(r.get("resource"), dict)
                        and r["resource"].get("resourceType") == "Patient"), None)
    if patient_count == 1:  # the other entries are checked even when the Patient itself is invalid
        refs = _patient_refs(str(raw_patient.get("fullUrl") or ""), raw_patient["resource"].get("id"))
        for entry in entries:
            if entry.type != "Patient":
                issues.extend(_entry_issues(entry, refs))
    if issues:
        raise Refused(400, issues)
    return ParsedBundle(patient=patients[0], entries=[e for e in entries if e.type != "Patient"])


def _patient_refs(full_url: str, resource_id: Any) -> set[str]:
    """How the other entries may refer to the Patient: its fullUrl, or `Patient/<id>`."""
    refs = {full_url} if full_url else set()
    if isinstance(resource_id, str) and resource_id:
        refs.add(f"Patient/{resource_id}")
    return refs


def _patient_issues(entry: Entry) -> list[Issue]:
    p, where, issues = entry.resource, entry.where, []
    names = [n for n in (p.name or []) if n.family and n.given]
    if not names:
        issues.append(Issue("required", f"{where}.name: a family name and a given name are required.", f"{where}.name"))
    if p.birthDate is None:
        issues.append(Issue("required", f"{where}.birthDate is required (the chart and its duplicate check need it).",
                            f"{where}.birthDate"))
    else:
        problem = plausible.problem("birth", p.birthDate if isinstance(p.birthDate, date) else None)
        if not isinstance(p.birthDate, date) or isinstance(p.birthDate, datetime):
            issues.append(Issue("value", f"{where}.birthDate must be a full date (YYYY-MM-DD).", f"{where}.birthDate"))
        elif problem:
            issues.append(Issue("value", f"{where}.birthDate: {problem}", f"{where}.birthDate"))
    if p.gender is not None and p.gender not in GENDERS:
        issues.append(Issue("value", f"{where}.gender must be one of {', '.join(sorted(GENDERS))}.", f"{where}.gender"))
    for i, ident in enumerate(p.identifier or []):
        if bool(ident.system) != bool(ident.value):
            issues.append(Issue("required", f"{where}.identifier[{i}] needs both system and value.",
                                f"{where}.identifier[{i}]"))
        elif len(str(ident.system or "")) > 255 or len(str(ident.value or "")) > 255:
            issues.append(Issue("value", f"{where}.identifier[{i}]: system and value are at most 255 characters.",
                                f"{where}.identifier[{i}]"))
    if p.deceasedBoolean or p.deceasedDateTime:
        issues.append(Issue("business-rule", f"{where}: the patient is recorded as deceased; such a chart is not "
                                             "imported.", f"{where}.deceased"))
    return issues


def _concept_named(concept: Any) -> bool:
    return concept is not None and bool(concept.text or any(c.display or c.code for c in (concept.coding or [])))


def _entry_issues(entry: Entry, patient_refs: set[str]) -> list[Issue]:
    r, where, issues = entry.resource, entry.where, []
    element = SUBJECT_ELEMENT[entry.type]
    subject = getattr(r, element)
    if subject is None or subject.reference not in patient_refs:
        issues.append(Issue("invalid", f"{where}.{element} must refer to the Bundle's Patient "
                                       f"({', '.join(sorted(patient_refs)) or 'give the Patient a fullUrl or id'}).",
                            f"{where}.{element}"))
    if entry.type in ("AllergyIntolerance", "Condition") and not _concept_named(r.code):
        issues.append(Issue("required", f"{where}.code: a code or text naming it is required.", f"{where}.code"))
    if entry.type in ("MedicationRequest", "MedicationStatement"):
        if not _concept_named(r.medicationCodeableConcept):
            issues.append(Issue("not-supported" if r.medicationReference else "required",
                                f"{where}.medicationCodeableConcept is required (a medicationReference to a "
                                "Medication resource is not imported).", f"{where}.medicationCodeableConcept"))
    if entry.type == "Observation":
        issues.extend(_weight_issues(entry))
    return issues


def _weight_issues(entry: Entry) -> list[Issue]:
    r, where, issues = entry.resource, entry.where, []
    if not any(c.system == vocabulary.LOINC and c.code == vocabulary.BODY_WEIGHT for c in (r.code.coding or [])):
        return [Issue("not-supported", f"{where}.code: only body weight (LOINC {vocabulary.BODY_WEIGHT}) "
                                       "Observations are imported.", f"{where}.code")]
    if r.status in ("entered-in-error", "cancelled"):
        return []
    q = r.valueQuantity
    if q is None or q.value is None:
        issues.append(Issue("required", f"{where}.valueQuantity with a value is required.", f"{where}.valueQuantity"))
    else:
        kg = vocabulary.weight_kg(q.value, q.system, q.code)
        if kg is None:
            issues.append(Issue("value", f"{where}.valueQuantity: the unit must be a UCUM mass unit "
                                         "(kg, g, [lb_av]).", f"{where}.valueQuantity.code"))
        elif not vocabulary.MIN_KG <= kg <= vocabulary.MAX_KG:
            issues.append(Issue("value", f"{where}.valueQuantity: {kg:.1f} kg is outside "
                                         f"{vocabulary.MIN_KG}–{vocabulary.MAX_KG} kg.", f"{where}.valueQuantity.value"))
    day = effective_day(r)
    if day is None:
        issues.append(Issue("required", f"{where}.effectiveDateTime (the day it was measured) is required.",
                            f"{where}.effective"))
    elif day > plausible.bounds("recorded")[1]:
        issues.append(Issue("value", f"{where}.effectiveDateTime {day.isoformat()} is in the future.",
                            f"{where}.effective"))
    return issues


def effective_day(observation: Any) -> date | None:
    value = observation.effectiveDateTime or (observation.effectivePeriod.start if observation.effectivePeriod else None)
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else None
