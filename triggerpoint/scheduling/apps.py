from django.apps import AppConfig

from triggerpoint.screening import appointments


class SchedulingConfig(AppConfig):
    name = "triggerpoint.scheduling"
    label = "scheduling"
    url_prefix = "schedule/"  # pages (core.plugins)
    api_prefix = "scheduling"  # /api/v1/scheduling/ (core.plugins)
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The patient's confirmation, reminder and preparation messages follow the appointment's signals.
        # Imported in ready(): patient_messages imports the models, which load only after every app's module.
        from triggerpoint.scheduling import patient_messages, selectors

        patient_messages.connect()
        # A new screening's planned date starts from the patient's procedure appointment (screening sits below).
        appointments.provide(selectors.upcoming_procedure_appointment)
