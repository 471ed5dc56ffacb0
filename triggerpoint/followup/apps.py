from django.apps import AppConfig

from triggerpoint.procedures.signals import procedure_signed


class FollowupConfig(AppConfig):
    name = "triggerpoint.followup"
    label = "followup"
    url_prefix = "followup/"  # pages (core.plugins)
    api_prefix = "followup"  # /api/v1/followup/ (core.plugins)
    verbose_name = "Follow-up check-ins and alerts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported here, not at the top: they import models, which Django can load only after this module.
        from triggerpoint.followup import alerts, tasks
        from triggerpoint.followup.checkins import on_procedure_signed

        # The escalation task's enqueue, handed to alerts so that alerts never imports tasks (see followup.tasks).
        alerts.provide_escalation_scheduler(tasks.schedule_escalation_task)
        # dispatch_uid: connecting twice (tests, autoreload) must not schedule twice.
        procedure_signed.connect(on_procedure_signed, dispatch_uid="followup.schedule_checkins")
