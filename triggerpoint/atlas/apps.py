from django.apps import AppConfig


class AtlasConfig(AppConfig):
    name = "triggerpoint.atlas"
    label = "atlas"
    default_auto_field = "django.db.models.BigAutoField"
