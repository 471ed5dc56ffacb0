from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "triggerpoint.scheduling"
    label = "scheduling"
    url_prefix = "schedule/"  # pages (core.plugins)
    api_prefix = "scheduling"  # /api/v1/scheduling/ (core.plugins)
    default_auto_field = "django.db.models.BigAutoField"
