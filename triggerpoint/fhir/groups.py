"""The clinic's patient groups ("All TPI patients 2026", "Research cohort"): made and filled here, served as FHIR Group.

`create_group` and `add_members` are the only writers (the `fhir_group` command and the demo call
them); each is audited. `register_group_type` adds `Group` to the registry (read and search by
`_id`, `name`, `member`), called from `FhirConfig.ready` after `resources`. A group is an actual
list of persons (`type` person, `actual` true); its members are the charts the clinic still has
(merged or deleted charts drop out). Reading a group shows who is in it, so the audit names each
member (`patient_of` gives the member list).
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from triggerpoint.audit import services as audit
from triggerpoint.fhir.errors import invalid
from triggerpoint.fhir.models import PatientGroup
from triggerpoint.fhir.registry import ResourceType, SearchParam, Source, by_uuid, register
from triggerpoint.patients import selectors as patients

GROUP_ACTION = "patient.view"  # who may read a group: whoever may read the patients in it


class GroupError(ValueError):
    pass


def groups(**filters) -> QuerySet:
    """The groups narrowed by `filters`, with their current members (public ids) loaded."""
    members = Prefetch("members", queryset=patients.patients().only("pk", "public_id", "clinic_id").order_by("pk"))
    return PatientGroup.objects.filter(**filters).select_related("clinic").prefetch_related(members)


def member_public_ids(group: PatientGroup) -> list[Any]:
    """The public ids of the group's members that are still charts of the clinic (merged or deleted ones drop out)."""
    return list(patients.patients(clinic_id=group.clinic_id, pk__in=group.members.values("pk"))
                .order_by("pk").values_list("public_id", flat=True))


@transaction.atomic
def create_group(clinic: Any, name: str, *, description: str = "", by: Any = None) -> PatientGroup:
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise GroupError("A group needs a name of 1 to 200 characters.")
    try:
        with transaction.atomic():
            group = PatientGroup.objects.create(clinic=clinic, name=name, description=description.strip(),
                                                created_by=by if getattr(by, "pk", None) else None)
    except IntegrityError:
        raise GroupError(f"The clinic already has a group named {name!r}.") from None
    audit.record("fhir.group.created", obj=group, clinic=clinic, actor=by,
                 details={"name": name, "group": str(group.public_id)})
    return group


@transaction.atomic
def add_members(group: PatientGroup, members: Iterable[Any], *, by: Any = None) -> int:
    """Add patients (records, or MRNs of the group's clinic) to the group; returns how many were new."""
    pks: list[int] = []
    for member in members:
        if isinstance(member, str):
            found = patients.patient_by_mrn(group.clinic, member)
            if found is None:
                raise GroupError(f"No patient with MRN {member!r} in {group.clinic}.")
            member = found
        if member.clinic_id != group.clinic_id:
            raise GroupError("A group holds only its own clinic's patients.")
        pks.append(member.pk)
    existing = set(group.members.filter(pk__in=pks).values_list("pk", flat=True))
    new = [pk for pk in dict.fromkeys(pks) if pk not in existing]
    if new:
        group.members.add(*new)
        PatientGroup.objects.filter(pk=group.pk).update(updated_at=timezone.now())
        audit.record_patient_views("fhir.group.members_added", new, clinic=group.clinic_id, actor=by,
                                   details={"group": str(group.public_id), "name": group.name})
    return len(new)


# ------------------------------------------------------------------ FHIR Group
def to_fhir(group: PatientGroup) -> dict[str, Any]:
    members = list(group.members.all())
    return {
        "resourceType": "Group",
        "id": str(group.public_id),
        "meta": {"lastUpdated": group.updated_at.isoformat().replace("+00:00", "Z")},
        "identifier": [{"system": f"urn:uuid:{group.clinic.public_id}", "value": str(group.public_id)}],
        "active": True,
        "type": "person",
        "actual": True,
        "name": group.name,
        "quantity": len(members),
        "managingEntity": {"display": group.clinic.name},
        **({"member": [{"entity": {"reference": f"Patient/{p.public_id}"}} for p in members]} if members else {}),
    }


def _records(scope) -> QuerySet:
    if scope.patient_id is not None:  # a portal account is never shown the clinic's cohorts
        return PatientGroup.objects.none()
    return groups(clinic_id=scope.clinic_id)


def _name(queryset: QuerySet, values: list[str]) -> QuerySet:
    return queryset.filter(functools.reduce(operator.or_, (_starts(v) for v in values)))


def _starts(value: str):
    text = value.strip()
    if not text:
        raise invalid("Parameter 'name' needs a value.")
    return Q(name__istartswith=text)


def register_group_type() -> ResourceType:
    return register(ResourceType(
        name="Group",
        action=GROUP_ACTION,
        patient_param=None,  # not in $everything nor a Patient export; Group/{id}/$export exports it
        search_params=(
            SearchParam("_id", "token", "http://hl7.org/fhir/SearchParameter/Resource-id", "The group's logical id."),
            SearchParam("name", "string", None, "The group's name starts with the value (case ignored)."),
            SearchParam("member", "reference", "http://hl7.org/fhir/SearchParameter/Group-member",
                        "Groups with this patient as a member (`Patient/<id>` or `<id>`).", target="Patient"),
        ),
        sources=(Source(
            records=_records,
            to_resource=to_fhir,
            patient_of=lambda group: list(group.members.all()),
            filters={"_id": by_uuid("public_id"), "name": _name,
                     "member": lambda qs, values: by_uuid("members__public_id")(qs, values).distinct()},
            order_by=("name", "pk"),
        ),),
    ))
