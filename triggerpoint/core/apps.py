from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "triggerpoint.core"
    label = "core"
    verbose_name = "Core"
