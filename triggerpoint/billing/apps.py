from django.apps import AppConfig


class BillingConfig(AppConfig):
    """The coder's hand-off: signed notes' claim lines, marked billed, exported for the practice-management system."""

    name = "triggerpoint.billing"
    label = "billing"
    url_prefix = "billing/"  # pages (core.plugins)
    default_auto_field = "django.db.models.BigAutoField"
