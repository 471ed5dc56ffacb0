from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "triggerpoint.core"
    label = "core"
    plugin_hosts = frozenset({"worklist"})  # core.plugins: its `worklist` module defines the worklist section type
    verbose_name = "Core"
