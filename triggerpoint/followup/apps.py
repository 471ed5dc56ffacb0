from django.apps import AppConfig


class FollowupConfig(AppConfig):
    name = "triggerpoint.followup"
    label = "followup"
    url_prefix = "followup/"  # pages (core.plugins)
    api_prefix = "followup"  # /api/v1/followup/ (core.plugins)
    verbose_name = "Follow-up check-ins and alerts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from triggerpoint.followup.services import on_procedure_signed
        from triggerpoint.procedures.signals import procedure_signed

        # dispatch_uid: connecting twice (tests, autoreload) must not schedule twice.
        procedure_signed.connect(on_procedure_signed, dispatch_uid="followup.schedule_checkins")
