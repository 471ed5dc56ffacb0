from django.apps import AppConfig


class OutcomesConfig(AppConfig):
    name = "triggerpoint.outcomes"
    label = "outcomes"
    url_prefix = "outcomes/"  # pages (core.plugins)
    api_prefix = "outcomes"  # /api/v1/outcomes/ (core.plugins)
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from triggerpoint.outcomes import services
        from triggerpoint.procedures.signals import procedure_signed

        # Outcome requests are written inside the signing transaction (idempotent receiver).
        procedure_signed.connect(services.on_procedure_signed, dispatch_uid="outcomes.schedule_requests")
