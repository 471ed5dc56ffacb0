from django.apps import AppConfig


class AssessmentConfig(AppConfig):
    name = "triggerpoint.assessment"
    label = "assessment"
    url_prefix = "assessments/"  # pages (core.plugins)
    api_prefix = "assessments"  # /api/v1/assessments/ (core.plugins)
    default_auto_field = "django.db.models.BigAutoField"
