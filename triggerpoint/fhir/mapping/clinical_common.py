"""What the clinical mappers share: profile URLs, code systems, references, times.

The mappers (``procedure``, ``observation``, ``medication_administration``, ``body_structure``,
``provenance``, ``document_reference``, ``care_plan``, ``questionnaire_response``, ``consent``,
``flag``) turn signed records into FHIR R4 resources as plain dicts. They read records through
the owning apps' selectors and the records' own relations, never another app's models module.

Reference scheme (ids are public UUIDs, never integer keys):

* ``Patient/<patient public id>``, ``Organization/<clinic public id>``;
* ``Encounter/<procedure public id>`` for the procedure visit and ``Encounter/<visit public id>``
  for the assessment visit (the Encounter mapper's scheme: one Encounter per visit record);
* ``Condition/<visit diagnosis public id>`` (:func:`condition_id`; one Condition per encounter diagnosis);
* ``Practitioner/<user public id>`` for a staff member (:func:`practitioner_reference`; served by the
  Practitioner type, ``mapping/directory.py``); an account of no clinic is named by display only.

``base_url`` is the FHIR base (``https://host/fhir/R4``; default ``settings.SITE_URL`` + ``/fhir/R4``, so a
registry that calls ``to_resource(record)`` with one argument gets stable URLs); links to the existing
pages (PDFs) are made from the site root before ``/fhir/``. Our own code systems live under
``<base>/CodeSystem/``.

Registration surface of every mapper module (h-fhir's ``registry.Source`` takes these as they are):
``records(**filters) -> QuerySet`` (one row per resource; ``PATIENT_FIELD``/``CLINIC_FIELD`` name the
filters a scope applies, ``PATIENT_UUID_FIELD`` the ``patient=`` search's field), ``to_resource(row,
*, base_url=None) -> dict``, ``patient_of(row)``, ``filter_ids(queryset, ids) -> QuerySet`` (the
``_id`` search and read), and ``get(resource_id, clinic)`` / ``resources_for_patient(patient_ids,
clinic)`` built from them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q

from triggerpoint.catalogues import standard_codes

US_CORE = "http://hl7.org/fhir/us/core/StructureDefinition/"
PROFILE_PROCEDURE = US_CORE + "us-core-procedure"
PROFILE_OBSERVATION_SCREENING = US_CORE + "us-core-observation-screening-assessment"
PROFILE_PROVENANCE = US_CORE + "us-core-provenance"
PROFILE_DOCUMENT_REFERENCE = US_CORE + "us-core-documentreference"
PROFILE_CARE_PLAN = US_CORE + "us-core-careplan"
PROFILE_QUESTIONNAIRE_RESPONSE = US_CORE + "us-core-questionnaireresponse"

CPT = "http://www.ama-assn.org/go/cpt"
HCPCS = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"

# The laterality attribute's qualifier values (SNOMED CT), as /work/shared/fhir/README.md states them;
# used when the standard-codes table has no row for a side.
LATERALITY_FALLBACK = {
    "left": ("7771000", "Left"),
    "right": ("24028007", "Right"),
    "both": ("51440002", "Right and left"),
}


def default_base_url() -> str:
    return f"{settings.SITE_URL.rstrip('/')}/fhir/R4"


def base_or_default(base_url: str | None) -> str:
    return (base_url or default_base_url()).rstrip("/")


def uuids(ids, prefix: str = "") -> list:
    """The UUIDs named by resource ids (with ``prefix`` when given); an id that names nothing is left out."""
    found = []
    for value in ids:
        text = str(value)
        if prefix:
            if not text.startswith(prefix):
                continue
            text = text[len(prefix):]
        try:
            found.append(uuid.UUID(text))
        except ValueError:
            continue
    return found


def numbered_ids(ids, separator: str) -> list[tuple]:
    """(UUID, n) pairs from ids ``<uuid><separator><n>`` (n >= 1); anything else is left out."""
    found = []
    for value in ids:
        head, sep, number = str(value).rpartition(separator)
        if not sep or not number.isdigit() or int(number) < 1:
            continue
        key = uuids([head])
        if key:
            found.append((key[0], int(number)))
    return found


# ------------------------------------------------------------------ rows numbered in their note
# A note's sites (BodyStructure `<note>-<n>`) and injectates (MedicationAdministration `<note>-m<n>`)
# have no public id of their own: their id is their place in the note, in the order
# `procedures.selectors` defines (`site_order`, `injectate_order`). A mapper's `records()` reads
# them numbered by the database (`numbered_sites`, `numbered_injectates`: a `place` on each row), so
# a page costs the same queries however many rows a note has.


def ordered_rows(procedure, relation: str, key: Callable[[Any], tuple]) -> list:
    """The note's rows of `relation` ("sites", "injectates") in the note's order (prefetched rows are used)."""
    return sorted(getattr(procedure, relation).all(), key=key)


def place_in_note(row, relation: str, key: Callable[[Any], tuple]) -> int:
    """The row's place in its note (1-based): the `place` its query numbered; a row read some other
    way (one record on its own) is counted among its note's rows."""
    place = getattr(row, "place", None)
    if place is not None:
        return place
    return next(n for n, other in enumerate(ordered_rows(row.procedure, relation, key), start=1) if other.pk == row.pk)


def numbered_id(procedure, separator: str, n: int) -> str:
    return fhir_id(f"{procedure.public_id}{separator}{n}")


def filter_places(queryset, ids, separator: str):
    """The `_id` filter of numbered rows: ids `<note public id><separator><n>` matched against the
    `place` the queryset numbered (a `numbered_*` selector's queryset); anything else matches nothing."""
    wanted = numbered_ids(ids, separator)
    if not wanted:
        return queryset.none()
    match = Q(pk__in=[])
    for key, n in wanted:
        match |= Q(procedure__public_id=key, place=n)
    return queryset.filter(match)


def scoped(module, clinic, **filters):
    """``module.records`` for one clinic (``CLINIC_FIELD``) narrowed by ``filters``."""
    return module.records(**{module.CLINIC_FIELD: clinic.pk}, **filters)


def first_by_id(module, resource_id: str, clinic):
    """The clinic's record a resource id names, or None (an id that is not one of ours finds nothing)."""
    return module.filter_ids(scoped(module, clinic), [resource_id]).first()


def for_patients(module, patient_ids, clinic):
    """The clinic's records of these patients (``patient=`` and ``$everything``)."""
    return scoped(module, clinic, **{f"{module.PATIENT_FIELD}__in": list(patient_ids)})


def own_system(base_url: str, name: str) -> str:
    """A code system of ours (no standard code verified), published under the server's base."""
    return f"{base_url.rstrip('/')}/CodeSystem/{name}"


def site_root(base_url: str) -> str:
    """The site the FHIR base lives on: ``https://host/fhir/R4`` -> ``https://host``."""
    root = base_url.rstrip("/")
    marker = root.find("/fhir")
    return root[:marker] if marker >= 0 else root


def fhir_id(text: str) -> str:
    """A FHIR id from our ids: letters, digits, '-' and '.' only, at most 64 characters."""
    cleaned = "".join(ch if ch.isalnum() or ch in "-." else "-" for ch in str(text))
    return cleaned[:64]


def instant(moment: datetime | None) -> str | None:
    """A tz-aware moment as FHIR dateTime/instant, in UTC with seconds."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def start_of_day(value: date, clinic) -> str:
    """A clinical date as the clinic's local midnight, for fields that need a dateTime with a zone."""
    zone = ZoneInfo(getattr(clinic, "time_zone", None) or "UTC")
    return instant(datetime.combine(value, time.min, tzinfo=zone))


def patient_reference(patient) -> dict[str, Any]:
    return {"reference": f"Patient/{patient.public_id}", "display": getattr(patient, "full_name", "") or None}


def organization_reference(clinic) -> dict[str, Any]:
    return {"reference": f"Organization/{clinic.public_id}", "display": clinic.name}


def practitioner_reference(user) -> dict[str, Any] | None:
    """`Practitioner/<public id>` with the name, for a staff member; a user of no clinic is named only."""
    if user is None:
        return None
    name = (user.get_full_name() or user.get_username()).strip()
    public_id = getattr(user, "public_id", None)
    if public_id and getattr(user, "clinic_id", None):
        return {"reference": f"Practitioner/{public_id}", "display": name}
    return {"display": name}


def procedure_encounter_reference(procedure) -> dict[str, Any]:
    return {"reference": f"Encounter/{procedure.public_id}"}


def condition_id(diagnosis) -> str:
    """The Condition id of an encounter diagnosis (assessment ``VisitDiagnosis``): its public id."""
    return str(diagnosis.public_id)


def codeable(coding: dict[str, Any] | None = None, text: str | None = None) -> dict[str, Any]:
    concept: dict[str, Any] = {}
    if coding:
        concept["coding"] = [coding]
    if text:
        concept["text"] = text
    return concept


def standard_coding(kind: str, key: str, base_url: str, display: str = "") -> tuple[dict[str, Any], bool]:
    """(coding, verified) for a catalogue item: the standard code when the table has a verified one,
    else our own system's code for the key with its display (never an unverified standard code sent as fact)."""
    found = standard_codes.lookup(kind, key)
    if found is not None and found.verified:
        coding = {"system": found.system, "code": found.code, "display": found.display or display or None}
        return {k: v for k, v in coding.items() if v}, True
    own = {"system": own_system(base_url, kind.replace("_", "-")), "code": fhir_code(key)}
    if display:
        own["display"] = display
    return own, False


def fhir_code(key: str) -> str:
    """A FHIR code from a catalogue key (codes may not hold leading/trailing or double whitespace)."""
    return " ".join(str(key).split())


def prune(value: Any) -> Any:
    """Drop None, empty strings, lists and dicts (FHIR forbids empty elements), recursively."""
    if isinstance(value, dict):
        cleaned = {k: prune(v) for k, v in value.items()}
        return {k: v for k, v in cleaned.items() if v not in (None, "", [], {})}
    if isinstance(value, list):
        cleaned_list = [prune(v) for v in value]
        return [v for v in cleaned_list if v not in (None, "", [], {})]
    return value

