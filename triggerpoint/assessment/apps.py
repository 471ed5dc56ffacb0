from django.apps import AppConfig

from triggerpoint.patients import last_visits


class AssessmentConfig(AppConfig):
    name = "triggerpoint.assessment"
    label = "assessment"
    url_prefix = "assessments/"  # pages (core.plugins)
    api_prefix = "assessments"  # /api/v1/assessments/ (core.plugins)
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Here, not at the top: visit_reads imports the models, which load only once the app registry is ready.
        from triggerpoint.assessment.visit_reads import last_visit_dates

        last_visits.provide("assessment visits", last_visit_dates)
