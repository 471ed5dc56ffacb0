"""MedicationAdministration: each injectate of a signed note (base R4; US Core has no profile).

Registration (see ``clinical_common`` for the common surface):

* ``records(**filters) -> QuerySet[Injectate]`` - the injectates of signed notes; ``PATIENT_FIELD``
  ``procedure__patient_id``, ``CLINIC_FIELD`` ``procedure__clinic_id``, ``patient`` search on
  ``procedure__patient__public_id``;
* ``to_resource(injectate, *, base_url=None) -> dict``; ``patient_of(injectate)``;
* ``filter_ids(queryset, ids)`` - id ``<procedure public id>-m<n>``, n the injectate's place in the note;
  ``get(id, clinic)``, ``resources_for_patient(patient_ids, clinic)``.

What it says: ``partOf`` the Procedure, ``context`` its Encounter, given by the performing clinician
at the time the note records. The drug is a contained Medication so the vial's lot and expiry
(``Medication.batch``, the only place R4 has for them) travel with it; its code is RxNorm when the
standard-codes table has a verified one, else our own system's drug id with the catalogue's name.
``dosage.dose`` is the amount in the drug's unit (mg, or units for a botulinum toxin) when the note
has it, else the volume in mL; UCUM codes come from the standard-codes table's verified ``unit`` rows,
else the UCUM codes ``mg``/``mL`` (spelled by UCUM itself) and, for toxin units, the annotation
``{units}`` (product units are not a UCUM unit). The route is intramuscular (a trigger point
injection goes into the muscle), coded by the standard-codes table's ``route`` row when verified.
"""

from __future__ import annotations

import sys
from decimal import Decimal
from typing import Any

from triggerpoint.catalogues import standard_codes
from triggerpoint.catalogues.drugs import load_drugs
from triggerpoint.fhir.mapping import procedure as procedure_mapper
from triggerpoint.fhir.mapping.clinical_common import (
    UCUM,
    base_or_default,
    codeable,
    filter_places,
    first_by_id,
    for_patients,
    numbered_id,
    ordered_rows,
    patient_reference,
    place_in_note,
    practitioner_reference,
    procedure_encounter_reference,
    prune,
    standard_coding,
)
from triggerpoint.procedures import selectors as procedure_selectors

ROUTE = "intramuscular"
UCUM_FALLBACK = {"mg": "mg", "mL": "mL", "units": "{units}"}
PATIENT_FIELD, CLINIC_FIELD, PATIENT_UUID_FIELD = "procedure__patient_id", "procedure__clinic_id", "procedure__patient__public_id"


def records(**filters):
    """The injectates, each numbered in its note by the query (`place`): no per-row read of the note's others."""
    return (procedure_selectors.numbered_injectates(**filters)
            .select_related("procedure__patient", "procedure__clinic", "procedure__performed_by")
            .order_by("-procedure__procedure_date", "procedure_id", "pk"))


def patient_of(injectate):
    return injectate.procedure.patient


def ordered_injectates(procedure) -> list:
    """The note's injectates in its own order (`procedures.selectors.injectate_order`)."""
    return ordered_rows(procedure, "injectates", procedure_selectors.injectate_order)


def injectate_number(injectate) -> int:
    return place_in_note(injectate, "injectates", procedure_selectors.injectate_order)


def administration_id(procedure, n: int) -> str:
    return numbered_id(procedure, "-m", n)


def filter_ids(queryset, ids):
    return filter_places(queryset, ids, "-m")


def get(resource_id: str, clinic):
    return first_by_id(sys.modules[__name__], resource_id, clinic)


def resources_for_patient(patient_ids, clinic):
    return for_patients(sys.modules[__name__], patient_ids, clinic)


def quantity(amount: Decimal, unit: str) -> dict[str, Any]:
    """A UCUM quantity: the table's verified unit code, else UCUM's own spelling."""
    found = standard_codes.lookup("unit", unit)
    code = found.code if found is not None and found.verified else UCUM_FALLBACK[unit]
    return {"value": float(amount), "unit": unit, "system": UCUM, "code": code}


def strength_text(injectate) -> str:
    if injectate.concentration_percent is not None:
        text = f"{injectate.concentration_percent.normalize():f}%"
    elif injectate.concentration_mg_per_ml is not None:
        text = f"{injectate.concentration_mg_per_ml.normalize():f} mg/mL"
    elif injectate.concentration_units_per_ml is not None:
        text = f"{injectate.concentration_units_per_ml.normalize():f} units/mL"
    else:
        text = ""
    return text + (" with epinephrine" if injectate.with_epinephrine else "")


def dose(injectate) -> dict[str, Any] | None:
    if injectate.dose_mg is not None:
        return quantity(injectate.dose_mg, "mg")
    if injectate.dose_units is not None:
        return quantity(injectate.dose_units, "units")
    if injectate.volume_ml is not None:
        return quantity(injectate.volume_ml, "mL")
    return None


def to_resource(injectate, *, base_url: str | None = None) -> dict[str, Any]:
    base_url = base_or_default(base_url)
    procedure = injectate.procedure
    n = injectate_number(injectate)
    catalog = load_drugs()
    name = catalog.drugs[injectate.drug].name if injectate.drug in catalog.drugs else injectate.drug
    drug_coding, _verified = standard_coding("drug", injectate.drug, base_url, name)
    strength = strength_text(injectate)
    label = f"{name} {strength}".strip()
    route_coding, _route_verified = standard_coding("route", ROUTE, base_url, "Intramuscular")
    volume = f"{injectate.volume_ml.normalize():f} mL" if injectate.volume_ml is not None else ""
    given = dose(injectate)
    dose_text = ""
    if given and given["unit"] != "mL":
        dose_text = f" ({given['value']:g} {given['unit']})"
    medication = {
        "resourceType": "Medication",
        "id": "med",
        "code": codeable(drug_coding, label),
        "batch": {"lotNumber": injectate.lot_number, "expirationDate": injectate.expiry.isoformat() if injectate.expiry else None},
    }
    if injectate.ndc:
        medication["identifier"] = [{"system": "http://hl7.org/fhir/sid/ndc", "value": injectate.ndc}]
    resource = {
        "resourceType": "MedicationAdministration",
        "id": administration_id(procedure, n),
        "contained": [medication],
        "partOf": [{"reference": f"Procedure/{procedure.public_id}"}],
        "status": "completed",
        "medicationReference": {"reference": "#med", "display": label},
        "subject": patient_reference(procedure.patient),
        "context": procedure_encounter_reference(procedure),
        "effectiveDateTime": procedure_mapper.performed(procedure),
        "performer": [{"actor": practitioner_reference(procedure.performed_by)}],
        "dosage": {
            "text": f"{volume} of {label}{dose_text}".strip(),
            "route": codeable(route_coding, "Intramuscular"),
            "dose": given,
        },
    }
    return prune(resource)
