from django.apps import AppConfig

from triggerpoint.procedures.signals import procedure_signed


class OutcomesConfig(AppConfig):
    name = "triggerpoint.outcomes"
    label = "outcomes"
    url_prefix = "outcomes/"  # pages (core.plugins)
    api_prefix = "outcomes"  # /api/v1/outcomes/ (core.plugins)
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported in ready(): they import models, which Django loads only after every app's module.
        from triggerpoint.outcomes import outcome_requests

        # Outcome requests are written inside the signing transaction (idempotent receiver).
        procedure_signed.connect(outcome_requests.on_procedure_signed, dispatch_uid="outcomes.schedule_requests")
