from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "triggerpoint.patients"
    label = "patients"
    plugin_hosts = frozenset({"timeline"})  # core.plugins: its `timeline` module merges the chart timeline
    url_prefix = "patients/"  # pages (core.plugins)
    api_prefix = "patients"  # /api/v1/patients/ (core.plugins)
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported in ready(): they import models, which Django loads only after every app's module.
        from triggerpoint.accounts.portal_lookup import set_portal_patient_lookup
        from triggerpoint.patients.selectors import chart_ids, portal_patient_of
        from triggerpoint.patients.timeline import connect_cache_invalidation

        set_portal_patient_lookup(portal_patient_of, chart_ids)
        connect_cache_invalidation()
