"""`triggerpoint fhir_group`: a clinic's patient groups (served as FHIR Group, exported by Group/{id}/$export).

    triggerpoint fhir_group list --clinic riverside
    triggerpoint fhir_group create --clinic riverside --name "Research cohort" [--description ...]
    triggerpoint fhir_group add --clinic riverside --group <group id> --mrn RIV-000001 --mrn RIV-000002
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from triggerpoint.clinics import selectors as clinics
from triggerpoint.core.context import acting_as
from triggerpoint.fhir import groups


class Command(BaseCommand):
    help = "List, create and fill a clinic's patient groups (FHIR Group)."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["list", "create", "add"])
        parser.add_argument("--clinic", required=True, help="the clinic's slug")
        parser.add_argument("--name", default="")
        parser.add_argument("--description", default="")
        parser.add_argument("--group", default="", help="the group's id (from list)")
        parser.add_argument("--mrn", action="append", default=[], dest="mrns", help="a patient's MRN (add; repeat)")

    def handle(self, *args, action: str, clinic: str, name: str, description: str, group: str, mrns, **options):
        found = clinics.clinic_by_slug(clinic)
        if found is None:
            raise CommandError(f"No clinic with slug {clinic!r}.")
        with acting_as(None):
            try:
                if action == "create":
                    made = groups.create_group(found, name, description=description)
                    self.stdout.write(f"{made.public_id}  {made.name}")
                elif action == "add":
                    target = groups.groups(clinic_id=found.pk, public_id=group).first() if group else None
                    if target is None:
                        raise CommandError(f"No group {group!r} in {found}.")
                    added = groups.add_members(target, mrns)
                    self.stdout.write(f"added {added} patient(s) to {target.name}")
                else:
                    for item in groups.groups(clinic_id=found.pk).order_by("name"):
                        self.stdout.write(f"{item.public_id}  {item.name}  ({len(item.members.all())} members)")
            except (groups.GroupError, ValueError) as error:
                raise CommandError(str(error)) from None
