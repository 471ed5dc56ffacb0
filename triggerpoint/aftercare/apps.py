from django.apps import AppConfig


class AftercareConfig(AppConfig):
    name = "triggerpoint.aftercare"
    label = "aftercare"
    default_auto_field = "django.db.models.BigAutoField"
