from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "triggerpoint.notifications"
    label = "notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported in ready(): they import models, which Django loads only after every app's module.
        from triggerpoint.accounts.services import set_staff_mailer
        from triggerpoint.notifications import services, tasks

        # The delivery task runs `services.deliver`, so `services` cannot import `tasks`; it is given the task here.
        services.provide_delivery_task(tasks.deliver_notification)
        # Staff enrolment links go through the outbox (accounts sits below and is given the sender here).
        set_staff_mailer(services.email_staff)
