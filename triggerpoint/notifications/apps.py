from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "triggerpoint.notifications"
    label = "notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from triggerpoint.accounts.services import set_staff_mailer
        from triggerpoint.notifications.services import email_staff

        set_staff_mailer(email_staff)  # staff enrolment links go through the outbox (accounts sits below)
