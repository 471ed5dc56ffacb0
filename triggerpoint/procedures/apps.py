from django.apps import AppConfig

from triggerpoint.patients import last_visits, payers
from triggerpoint.procedures import coding
from triggerpoint.scheduling import appointment_notes
from triggerpoint.screening import assessment_plan, history


class ProceduresConfig(AppConfig):
    name = "triggerpoint.procedures"
    label = "procedures"
    url_prefix = "procedures/"  # pages (core.plugins)
    api_prefix = "procedures"  # /api/v1/procedures/ (core.plugins)
    default_auto_field = "django.db.models.BigAutoField"
    plugin_hosts = frozenset({"note_links"})  # core.plugins: its `note_links` module collects the note page's links

    def ready(self) -> None:
        # Here, not at the top: selectors imports the models, which load only once the app registry is ready.
        from triggerpoint.assessment import visit_reads
        from triggerpoint.procedures import selectors

        # Screening (one layer down) reads the signed history through its port.
        history.provide(
            last_toxin_session_before=selectors.last_toxin_session_before,
            clinic_steroid_sessions_12m=selectors.clinic_steroid_sessions_12m,
            planned_session_checks=selectors.planned_session_checks,
        )
        # Screening and assessment are one layer and independent: the screening's plan prefill
        # reads the signed assessment plan through screening's port, wired here.
        assessment_plan.provide(visit_reads.latest_signed_plan)
        last_visits.provide("signed procedures", selectors.last_procedure_dates)
        # The day view links each appointment to the note written for it (scheduling sits below).
        appointment_notes.provide(selectors.notes_for_appointments)
        # The chart records a patient's payer with an id of the coders' payer table.
        payers.provide(lambda: [(p.id, p.name) for p in coding.load_code_tables().payers.values()])
