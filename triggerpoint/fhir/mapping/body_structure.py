"""BodyStructure: each injected muscle and side of a signed note (base R4; US Core has no profile).

Registration:

* ``to_resource((procedure, n, site), *, base_url: str) -> dict`` - site ``n`` (1-based, the note's order);
* ``get(resource_id: str, clinic) -> (procedure, n, site) | None`` - id ``<procedure public id>-<n>``;
* ``resources_for_patient(patient_ids, clinic) -> iterator of (procedure, n, site)`` - every site of the
  patients' signed notes (``patient=`` search and ``$everything``).

One BodyStructure per site of a note, not per muscle of the patient: the site is what the note
records (trigger point, technique) and a signed note never changes, so ``<note>-<n>`` is a stable id
that says where to read it. ``location`` is the muscle (SNOMED CT when verified, else our own system
with the atlas id); ``locationQualifier`` is the side as a SNOMED CT laterality qualifier value
(left 7771000, right 24028007, both 51440002). ``patient`` is required by R4.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from triggerpoint.atlas.catalog import load_atlas
from triggerpoint.catalogues import standard_codes
from triggerpoint.fhir.mapping.clinical_common import (
    LATERALITY_FALLBACK,
    SNOMED,
    codeable,
    fhir_id,
    parse_uuid,
    patient_reference,
    prune,
    standard_coding,
)
from triggerpoint.procedures import selectors as procedure_selectors


def ordered_sites(procedure) -> list:
    """The note's sites in its own order (position, then entry), from the prefetched rows."""
    return sorted(procedure.sites.all(), key=lambda site: (site.position, site.pk))


def site_id(procedure, n: int) -> str:
    return fhir_id(f"{procedure.public_id}-{n}")


def laterality(side: str) -> dict[str, Any] | None:
    """The SNOMED CT qualifier value for a side: the standard-codes table's verified row, else the README's."""
    found = standard_codes.lookup("laterality", side)
    if found is not None and found.verified:
        return {"system": found.system, "code": found.code, "display": found.display}
    if side in LATERALITY_FALLBACK:
        code, display = LATERALITY_FALLBACK[side]
        return {"system": SNOMED, "code": code, "display": display}
    return None


def resources_for_patient(patient_ids, clinic) -> Iterator[tuple]:
    notes = (procedure_selectors.signed_procedures(patient_id__in=list(patient_ids), clinic=clinic)
             .select_related("patient").prefetch_related("sites").order_by("-procedure_date", "-signed_at"))
    for procedure in notes:
        for n, site in enumerate(ordered_sites(procedure), start=1):
            yield procedure, n, site


def get(resource_id: str, clinic):
    note_id, _, number = str(resource_id).rpartition("-")
    key = parse_uuid(note_id)
    if key is None or not number.isdigit():
        return None
    procedure = (procedure_selectors.signed_procedures(public_id=key, clinic=clinic)
                 .select_related("patient").prefetch_related("sites").first())
    if procedure is None:
        return None
    sites = ordered_sites(procedure)
    n = int(number)
    return (procedure, n, sites[n - 1]) if 1 <= n <= len(sites) else None


def to_resource(record, *, base_url: str) -> dict[str, Any]:
    procedure, n, site = record
    atlas = load_atlas()
    name = atlas.muscle(site.muscle).name if atlas.has_muscle(site.muscle) else site.muscle
    muscle, _verified = standard_coding("muscle", site.muscle, base_url, name)
    side = laterality(site.side)
    where = f" ({site.trigger_point})" if site.trigger_point else ""
    resource = {
        "resourceType": "BodyStructure",
        "id": site_id(procedure, n),
        "active": True,
        "morphology": None,
        "location": codeable(muscle, name),
        "locationQualifier": [codeable(side, site.get_side_display())] if side else [],
        "description": f"{site.get_side_display()} {name}{where}, injected {procedure.procedure_date.isoformat()}",
        "patient": patient_reference(procedure.patient),
    }
    return prune(resource)
