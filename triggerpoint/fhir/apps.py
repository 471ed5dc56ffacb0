from django.apps import AppConfig


class FhirConfig(AppConfig):
    name = "triggerpoint.fhir"
    label = "fhir"
    url_prefix = "fhir/R4/"  # the FHIR R4 base (core.plugins mounts `fhir.urls` there)
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The resource types register themselves on import; they import other apps' selectors (models).
        from triggerpoint.fhir import bulk_export, groups, resources, tasks  # noqa: F401

        groups.register_group_type()  # Group: the clinic's patient groups (and Group/{id}/$export)
        bulk_export.provide_export_task(tasks.run_export_job)  # the service never imports the task module
