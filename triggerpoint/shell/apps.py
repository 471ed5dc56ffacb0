from django.apps import AppConfig


class ShellConfig(AppConfig):
    """The top layer: pages that assemble every app (home, worklist, portal), the demo clinic,
    the background worker and plug-in discovery. Nothing below imports it."""

    name = "triggerpoint.shell"
    label = "shell"
    verbose_name = "Shell"
