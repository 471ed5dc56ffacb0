from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "triggerpoint.scheduling"
    label = "scheduling"
    url_prefix = "schedule/"  # pages (core.plugins)
    api_prefix = "scheduling"  # /api/v1/scheduling/ (core.plugins)
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The patient's confirmation, reminder and preparation messages follow the appointment's signals.
        # Imported in ready(): patient_messages imports the models, which load only after every app's module.
        from triggerpoint.scheduling import patient_messages

        patient_messages.connect()
