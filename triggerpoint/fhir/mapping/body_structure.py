"""BodyStructure: each injected muscle and side of a signed note (base R4; US Core has no profile).

Registration (see ``clinical_common`` for the common surface):

* ``records(**filters) -> QuerySet[InjectionSite]`` - the sites of signed notes; ``PATIENT_FIELD``
  ``procedure__patient_id``, ``CLINIC_FIELD`` ``procedure__clinic_id``, ``patient`` search on
  ``procedure__patient__public_id``;
* ``to_resource(site, *, base_url=None) -> dict``; ``patient_of(site)``;
* ``filter_ids(queryset, ids)`` - id ``<procedure public id>-<n>``, n the site's place in the note (1-based);
  ``get(id, clinic)``, ``resources_for_patient(patient_ids, clinic)``.

One BodyStructure per site of a note, not per muscle of the patient: the site is what the note
records (trigger point, technique) and a signed note never changes, so ``<note>-<n>`` is a stable id
that says where to read it (sites have no public id of their own). ``location`` is the muscle
(SNOMED CT when the standard-codes table has a verified code, else our own system with the atlas id);
``locationQualifier`` is the side as a SNOMED CT laterality qualifier value (left 7771000, right
24028007, both 51440002). ``patient`` is required by R4.
"""

from __future__ import annotations

import sys
from typing import Any

from triggerpoint.atlas.catalog import load_atlas
from triggerpoint.catalogues import standard_codes
from triggerpoint.fhir.mapping.clinical_common import (
    LATERALITY_FALLBACK,
    SNOMED,
    base_or_default,
    codeable,
    filter_places,
    first_by_id,
    for_patients,
    numbered_id,
    ordered_rows,
    patient_reference,
    place_in_note,
    prune,
    standard_coding,
)
from triggerpoint.procedures import selectors as procedure_selectors

PATIENT_FIELD, CLINIC_FIELD, PATIENT_UUID_FIELD = "procedure__patient_id", "procedure__clinic_id", "procedure__patient__public_id"


def records(**filters):
    """The sites, each numbered in its note by the query (`place`): no per-row read of the note's other sites."""
    return (procedure_selectors.numbered_sites(**filters).select_related("procedure__patient")
            .order_by("-procedure__procedure_date", "procedure_id", "position", "pk"))


def patient_of(site):
    return site.procedure.patient


def ordered_sites(procedure) -> list:
    """The note's sites in its own order (`procedures.selectors.site_order`), from the prefetched rows."""
    return ordered_rows(procedure, "sites", procedure_selectors.site_order)


def site_number(site) -> int:
    return place_in_note(site, "sites", procedure_selectors.site_order)


def site_id(procedure, n: int) -> str:
    return numbered_id(procedure, "-", n)


def filter_ids(queryset, ids):
    return filter_places(queryset, ids, "-")


def get(resource_id: str, clinic):
    return first_by_id(sys.modules[__name__], resource_id, clinic)


def resources_for_patient(patient_ids, clinic):
    return for_patients(sys.modules[__name__], patient_ids, clinic)


def laterality(side: str) -> dict[str, Any] | None:
    """The SNOMED CT qualifier value for a side: the standard-codes table's verified row, else the README's."""
    found = standard_codes.lookup("laterality", side)
    if found is not None and found.verified:
        return {"system": found.system, "code": found.code, "display": found.display}
    if side in LATERALITY_FALLBACK:
        code, display = LATERALITY_FALLBACK[side]
        return {"system": SNOMED, "code": code, "display": display}
    return None


def to_resource(site, *, base_url: str | None = None) -> dict[str, Any]:
    base_url = base_or_default(base_url)
    procedure = site.procedure
    atlas = load_atlas()
    name = atlas.muscle(site.muscle).name if atlas.has_muscle(site.muscle) else site.muscle
    muscle, _verified = standard_coding("muscle", site.muscle, base_url, name)
    side = laterality(site.side)
    where = f" ({site.trigger_point})" if site.trigger_point else ""
    resource = {
        "resourceType": "BodyStructure",
        "id": site_id(procedure, site_number(site)),
        "active": True,
        "location": codeable(muscle, name),
        "locationQualifier": [codeable(side, site.get_side_display())] if side else [],
        "description": f"{site.get_side_display()} {name}{where}, injected {procedure.procedure_date.isoformat()}",
        "patient": patient_reference(procedure.patient),
    }
    return prune(resource)
