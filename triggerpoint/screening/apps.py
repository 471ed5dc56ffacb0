from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    name = "triggerpoint.screening"
    label = "screening"
    url_prefix = "screening/"  # pages (core.plugins)
    api_prefix = "screening"  # /api/v1/screening/ (core.plugins)
    default_auto_field = "django.db.models.BigAutoField"
