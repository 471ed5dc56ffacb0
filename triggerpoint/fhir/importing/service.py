"""Apply a checked transaction Bundle to one chart, all or nothing, through the public services of `patients`.

Matching the chart, in order:
1. an identifier of the Patient (system + value) already on a chart of the caller's clinic
   (`patients.importing.patient_by_identifier`), or our own MRN system (`urn:uuid:<clinic id>`, what our
   FHIR Patient sends) with the MRN; identifiers naming two different charts → 409;
2. else the registration duplicate rules (`patients.registration.find_likely_duplicates`: date of birth
   and a similar name, phone, e-mail): a likely duplicate is a 409 OperationOutcome naming the candidate
   charts (MRN and id), audited as shown — never merged silently. Staff resolve it on the upload page
   ("import into this chart", which records the identifiers there, or "a different person");
3. else a new chart (`registration.register_patient`, MRN generated) with the identifiers recorded.
Another clinic's charts are never looked at.

Then each entry, in Bundle order: demographics sent replace ours where they differ (a blank is not sent
over a value); allergies, medications and conditions are kept as sent (`patients.importing.keep_item`)
and applied where they mean something on the chart; a weight newer than the chart's sets it. A re-sent
item is found by its natural key and changes nothing (200); the allergy or medication is not added
twice, and one removed on the chart by a person is not brought back by a re-send. Nothing on the chart
is deleted because the EHR no longer sends it: the result lists the chart's allergies the Bundle did not
name, for a person to look at.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from triggerpoint.accounts.policy import can
from triggerpoint.audit import services as audit
from triggerpoint.core import plausible
from triggerpoint.fhir.importing import vocabulary
from triggerpoint.fhir.importing.parse import Entry, Issue, ParsedBundle, Refused, effective_day
from triggerpoint.fhir.mapping.patient import mrn_system
from triggerpoint.patients import importing as chart_import
from triggerpoint.patients import registration, services
from triggerpoint.patients.selectors import get_patient_for_user, patient_by_mrn

ALLERGY_ACTIVE = {"active"}
ALLERGY_NOT_TRUE = {"refuted", "entered-in-error"}
MED_ACTIVE = {"MedicationRequest": {"active", "on-hold", "draft"},
              "MedicationStatement": {"active", "intended", "on-hold", "unknown"}}
SEVERITIES = {"mild", "moderate", "severe"}


@dataclass
class EntryOutcome:
    index: int
    type: str
    status: int  # 201 created on our side, 200 already there / updated / nothing to change
    text: str
    note: str = ""
    location: str = ""
    needs_classification: bool = False


@dataclass
class ImportResult:
    patient: Any
    created: bool
    matched_by: str  # identifier | mrn | chosen | new
    entries: list[EntryOutcome] = field(default_factory=list)
    not_in_bundle: list[str] = field(default_factory=list)

    @property
    def changed(self) -> int:
        return sum(1 for e in self.entries if e.status == 201 or e.note.startswith("updated"))

    @property
    def flagged(self) -> list[EntryOutcome]:
        return [e for e in self.entries if e.needs_classification]


def _demographics(bundle: ParsedBundle) -> dict[str, Any]:
    p = bundle.patient.resource
    name = next(n for n in p.name if n.family and n.given)
    telecom = list(p.telecom or [])
    phone = next((t.value for t in telecom if t.system == "phone" and t.value), "")
    email = next((t.value for t in telecom if t.system == "email" and t.value), "")
    address = ""
    if p.address:
        a = p.address[0]
        address = a.text or ", ".join(x for x in [*(a.line or []), a.city, a.state, a.postalCode] if x)
    return {"given_name": " ".join(name.given)[:100], "family_name": name.family[:100],
            "date_of_birth": p.birthDate, "sex": p.gender or "unknown", "phone": phone[:40], "email": email[:254],
            "address": address}


def _identifiers(bundle: ParsedBundle) -> list[tuple[str, str]]:
    return [(str(i.system), str(i.value)) for i in (bundle.patient.resource.identifier or []) if i.system and i.value]


def _where(entry: Entry) -> str:
    return f"Bundle.entry[{entry.index}].resource"


def match_chart(user, clinic, bundle: ParsedBundle, *, into: str = "") -> tuple[Any, str]:
    """(chart, how) for the Bundle's Patient, or (None, "new"); `Refused` 409 for an ambiguous match."""
    where = _where(bundle.patient)
    if into:  # staff chose the chart on the upload page
        return get_patient_for_user(user, into, "patient.update"), "chosen"
    found: dict[int, tuple[Any, str]] = {}
    for system, value in _identifiers(bundle):
        if system == mrn_system(clinic):
            chart, how = patient_by_mrn(clinic, value), "mrn"
        else:
            chart, how = chart_import.patient_by_identifier(clinic, system, value), "identifier"
        if chart is not None:
            found.setdefault(chart.pk, (chart, how))
    if len(found) > 1:
        charts = [c for c, _ in found.values()]
        raise Refused(409, [Issue("conflict", f"{where}.identifier: the identifiers name different charts "
                                              f"({', '.join(c.mrn for c in charts)}); resolve them first.",
                                  f"{where}.identifier")])
    if found:
        return next(iter(found.values()))
    candidates = registration.find_likely_duplicates(clinic, _demographics(bundle))
    if candidates:
        audit.record_patient_views("patients.duplicate.shown", [c.patient for c in candidates], clinic=clinic.pk,
                                   details={"channel": "fhir-import",
                                            "reasons": sorted({r for c in candidates for r in c.reasons})})
        raise Refused(409, [Issue("duplicate", f"{where}: no chart holds this patient's identifiers, but chart "
                                               f"{c.patient.mrn} (Patient/{c.patient.public_id}) may be the same "
                                               f"person ({', '.join(c.reasons)}). Nothing was imported: a person "
                                               "decides on the upload page (/fhir/R4/import/).", where)
                                  for c in candidates], candidates=tuple(c.patient for c in candidates))
    return None, "new"


def import_bundle(user, clinic, bundle: ParsedBundle, *, into: str = "", new_person: bool = False,
                  channel: str = "fhir") -> ImportResult:
    """Create or update the chart from the Bundle, in one transaction. Raises `Refused` (4xx), never half-writes."""
    if not can(user, "patient.create", clinic) or not can(user, "patient.update", clinic):
        raise PermissionDenied("Your role does not allow importing patients (patient.create and patient.update).")
    if bundle.has_clinical and not can(user, "patient.update_clinical", clinic):
        raise PermissionDenied("Your role does not allow importing allergies, medications or conditions "
                               "(patient.update_clinical).")
    chart, how = (None, "new") if new_person else match_chart(user, clinic, bundle, into=into)
    try:
        with transaction.atomic():
            result = _apply(user, clinic, bundle, chart, how, new_person)
            audit.record("fhir.bundle.imported", obj=result.patient, details={
                "channel": channel, "matched_by": result.matched_by, "created": result.created,
                "entries": len(result.entries), "changed": result.changed,
                "needs_classification": len(result.flagged)})
    except ValidationError as exc:
        raise Refused(400, [Issue("invalid", m) for m in exc.messages]) from exc
    return result


def _apply(user, clinic, bundle: ParsedBundle, chart, how: str, new_person: bool) -> ImportResult:
    data = _demographics(bundle)
    where = _where(bundle.patient)
    if chart is None:
        try:
            chart = registration.register_patient(user, clinic, data, confirm_not_duplicate=new_person,
                                                  channel="fhir-import")
        except registration.LikelyDuplicates as exc:  # registered meanwhile: the same answer as before
            raise Refused(409, [Issue("duplicate", f"{where}: chart {c.patient.mrn} may be the same person.", where)
                                for c in exc.candidates]) from exc
        result = ImportResult(chart, True, how)
        result.entries.append(EntryOutcome(bundle.patient.index, "Patient", 201, chart.full_name, "created",
                                           f"Patient/{chart.public_id}"))
    else:
        result = ImportResult(chart, False, how)
        changes = {k: v for k, v in data.items() if v not in ("", None, "unknown") and getattr(chart, k) != v}
        if changes:
            chart = services.update_patient(user, chart, chart.version, changes)
            result.patient = chart
        note = f"updated: {', '.join(sorted(changes))}" if changes else "unchanged"
        result.entries.append(EntryOutcome(bundle.patient.index, "Patient", 200, chart.full_name, note,
                                           f"Patient/{chart.public_id}"))
    source = ""
    for system, value in _identifiers(bundle):
        source = source or system
        if system != mrn_system(clinic):
            try:
                chart_import.add_identifier(user, chart, system, value)
            except ValueError as exc:
                raise Refused(409, [Issue("conflict", f"{where}.identifier: {exc}", f"{where}.identifier")]) from exc
    for entry in bundle.entries:
        try:
            outcome = APPLY[entry.type](user, chart, entry, source)
        except ValidationError as exc:
            raise Refused(400, [Issue("invalid", f"{_where(entry)}: {m}", _where(entry)) for m in exc.messages]) from exc
        result.entries.append(outcome)
    named = {e.text.casefold() for e in result.entries if e.type == "AllergyIntolerance"}
    result.not_in_bundle = [s for s in chart.allergies.values_list("substance", flat=True) if s.casefold() not in named]
    return result


def _status_code(concept: Any) -> str:
    return next((c.code for c in (concept.coding or []) if c.code), "") if concept is not None else ""


def _keep(user, chart, entry: Entry, kind: str, item: vocabulary.Coded, source: str, *, detail: str = "",
          mapped_to: str = "", flag: bool = False, apply=None) -> EntryOutcome:
    """Keep the item; the first time, `apply()` changes the chart. 201 the first time, 200 after."""
    existing = chart_import.find_item(chart, kind=kind, system=item.system, code=item.code, text=item.text)
    if existing is not None:
        return EntryOutcome(entry.index, entry.type, 200, item.text, "already imported",
                            needs_classification=existing.needs_classification)
    location = apply() if apply else ""
    chart_import.keep_item(user, chart, kind=kind, system=item.system, code=item.code, text=item.text, detail=detail,
                           mapped_to=mapped_to, needs_classification=flag, source=source)
    note = mapped_to or "kept"
    if flag:
        note = f"{note}; needs classification" if mapped_to else "kept; needs classification"
    return EntryOutcome(entry.index, entry.type, 201, item.text, note, location or "", flag)


def _allergy(user, chart, entry: Entry, source: str) -> EntryOutcome:
    r = entry.resource
    item = vocabulary.coded(r.code)
    clinical, verification = _status_code(r.clinicalStatus), _status_code(r.verificationStatus)
    if verification in ALLERGY_NOT_TRUE or (clinical and clinical not in ALLERGY_ACTIVE):
        return _keep(user, chart, entry, "allergy", item, source, flag=True,
                     detail=f"not added: {clinical or ''} {verification or ''} in the sending system".strip())
    if vocabulary.is_no_known_allergy(r.code):
        if chart.allergies.exists():
            return _keep(user, chart, entry, "allergy", item, source, flag=True,
                         detail="the sending system says no known drug allergies; the chart lists allergies")
        return _keep(user, chart, entry, "allergy", item, source, mapped_to="no known drug allergies",
                     apply=lambda: services.record_no_known_allergies(user, chart) and "")
    substance = item.text[:120]
    by_code = vocabulary.catalogue_drug_name(r.code)
    if by_code and not vocabulary.allergy_recognised(substance):
        substance = by_code  # the verified code names a drug the screening knows; the text sent stays on the item
    reaction = next(iter(r.reaction or []), None)
    manifestation = ""
    if reaction is not None and reaction.manifestation:
        manifestation = vocabulary.coded(reaction.manifestation[0]).text[:200]
    severity = (reaction.severity if reaction is not None else None) or "unknown"
    severity = severity if severity in SEVERITIES else "unknown"
    recognised = vocabulary.allergy_recognised(substance)

    def add() -> str:
        if chart_import.has_allergy(chart, substance):
            return ""
        allergy = services.add_allergy(user, chart, substance, manifestation, severity)
        return f"AllergyIntolerance/{allergy.public_id}"

    return _keep(user, chart, entry, "allergy", item, source, detail=manifestation,
                 mapped_to=f"allergy: {substance}", flag=not recognised, apply=add)


def _medication(user, chart, entry: Entry, source: str) -> EntryOutcome:
    r = entry.resource
    item = vocabulary.coded(r.medicationCodeableConcept)
    if r.status not in MED_ACTIVE[entry.type]:
        return _keep(user, chart, entry, "medication", item, source, flag=False,
                     detail=f"not added: {r.status} in the sending system")
    drug_class, _word = vocabulary.medication_class(item)
    by_code = vocabulary.catalogue_drug_name(r.medicationCodeableConcept)
    if drug_class is None and by_code:  # a verified RxNorm code of a catalogue drug (e.g. a corticosteroid)
        drug_class, _word = vocabulary.medication_class(vocabulary.Coded(item.system, item.code, by_code, ()))
    dosages = r.dosageInstruction if entry.type == "MedicationRequest" else r.dosage
    dose = next((d.text for d in (dosages or []) if d.text), "") or ""
    name = item.text[:120]

    def add() -> str:
        if not chart_import.has_medication(chart, name):
            services.add_medication(user, chart, name, drug_class or "other", dose[:120])
        return ""

    mapped = f"medication: {drug_class}" if drug_class else "medication: other"
    return _keep(user, chart, entry, "medication", item, source, detail=dose, mapped_to=mapped,
                 flag=drug_class is None, apply=add)


def _condition(user, chart, entry: Entry, source: str) -> EntryOutcome:
    r = entry.resource
    item = vocabulary.coded(r.code)
    clinical = _status_code(r.clinicalStatus)
    return _keep(user, chart, entry, "condition", item, source, detail=f"clinical status: {clinical or 'not sent'}",
                 flag=True)


def _weight(user, chart, entry: Entry, source: str) -> EntryOutcome:
    r = entry.resource
    q = r.valueQuantity
    day: date = effective_day(r)
    item = vocabulary.Coded(vocabulary.LOINC, vocabulary.BODY_WEIGHT, f"{q.value} {q.code} on {day.isoformat()}", ())
    if r.status in ("entered-in-error", "cancelled"):
        return _keep(user, chart, entry, "weight", item, source, detail=f"not applied: {r.status}")
    kg = vocabulary.weight_kg(q.value, q.system, q.code)
    problem = plausible.problem("recorded", day)
    if problem:
        return _keep(user, chart, entry, "weight", item, source,
                     detail=f"not applied: measured {day.isoformat()}, too long ago for dosing")
    applied: list[bool] = []

    def apply() -> str:
        applied.append(chart_import.record_weight(user, chart, kg, day))
        return ""

    outcome = _keep(user, chart, entry, "weight", item, source, mapped_to="weight", apply=apply)
    if applied and not applied[0]:
        outcome.note = "kept; the chart has a newer weight"
    return outcome


APPLY = {"AllergyIntolerance": _allergy, "MedicationRequest": _medication, "MedicationStatement": _medication,
         "Condition": _condition, "Observation": _weight}
