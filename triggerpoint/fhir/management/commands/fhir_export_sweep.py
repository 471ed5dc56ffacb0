"""`triggerpoint fhir_export_sweep`: delete expired Bulk Data export files and fail stale export jobs.

The worker does this every sweep (`fhir.sweeps`) and each kick-off does it too; this is for cron.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from triggerpoint.fhir import bulk_export


class Command(BaseCommand):
    help = "Delete expired FHIR export files and fail export jobs whose worker stopped."

    def handle(self, *args, **options):
        self.stdout.write(f"fhir export sweep: {bulk_export.sweep()}")
