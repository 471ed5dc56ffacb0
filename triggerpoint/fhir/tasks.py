"""Background tasks (django-tasks), run by `triggerpoint worker`: a thin entry into `bulk_run`.

`FhirConfig.ready` hands `run_export_job` to `bulk_export.provide_export_task`, so the service never
imports this module. The import path is stored with queued tasks, so it stays here.
"""

from __future__ import annotations

from django_tasks import task

from triggerpoint.fhir import bulk_run


@task()
def run_export_job(job_id: int) -> str:
    return bulk_run.run_export(job_id)
