from django.apps import AppConfig

from triggerpoint.procedures.signals import procedure_signed


class AftercareConfig(AppConfig):
    name = "triggerpoint.aftercare"
    label = "aftercare"
    url_prefix = "aftercare/"  # pages (core.plugins)
    api_prefix = "aftercare"  # /api/v1/aftercare/ (core.plugins)
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported in ready(): they import models, which Django loads only after every app's module.
        from triggerpoint.aftercare.receivers import create_plan_on_signature

        # dispatch_uid: connecting twice (tests re-running ready) still runs the receiver once.
        procedure_signed.connect(create_plan_on_signature, dispatch_uid="aftercare.create_plan_on_signature")
