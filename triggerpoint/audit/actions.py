"""Every audit action the system records: one registry, one naming scheme.

An action is ``<app>.<record>.<verb>`` (``procedures.procedure.signed``): the app that
owns the record, the kind of record, and what happened to it in the past tense. The
audit trail is evidence, so a misspelt or ad-hoc action would hide an event from
the searches that answer "who opened this chart": writing an action that is not
registered here raises (`AuditEvent.save` and `bulk_create` call `check_action`), and
``audit/tests/test_action_registry.py`` checks every action named in the code
against this list and this list against the code.

Events written before the names were unified (release 2026-12) keep their stored
names — the trail is append-only and hash-chained, so they are never rewritten.
`LEGACY_ACTIONS` maps each old name to its current one so searches find both.
"""

from __future__ import annotations

from enum import StrEnum


class AuditAction(StrEnum):
    # accounts
    ACCOUNTS_SECOND_FACTOR_ENROLLED = "accounts.second_factor.enrolled"
    ACCOUNTS_SECOND_FACTOR_REJECTED = "accounts.second_factor.rejected"
    ACCOUNTS_SECOND_FACTOR_RESET = "accounts.second_factor.reset"
    ACCOUNTS_SMART_CLIENT_DEACTIVATED = "accounts.smart_client.deactivated"
    ACCOUNTS_SMART_CLIENT_REGISTERED = "accounts.smart_client.registered"
    ACCOUNTS_SMART_TOKEN_ISSUED = "accounts.smart_token.issued"  # noqa: S105 - an audit code, not a secret
    ACCOUNTS_SMART_TOKEN_REFUSED = "accounts.smart_token.refused"  # noqa: S105 - an audit code, not a secret
    ACCOUNTS_SESSION_LOCKED_OUT = "accounts.session.locked_out"
    ACCOUNTS_SESSION_SIGN_IN_FAILED = "accounts.session.sign_in_failed"
    ACCOUNTS_SESSION_SIGNED_IN = "accounts.session.signed_in"
    ACCOUNTS_SESSION_SIGNED_OUT = "accounts.session.signed_out"
    ACCOUNTS_TOKEN_FIRST_USED = "accounts.token.first_used"  # noqa: S105 - an audit code, not a secret
    ACCOUNTS_TOKEN_ISSUED = "accounts.token.issued"  # noqa: S105 - an audit code, not a secret
    ACCOUNTS_TOKEN_REVOKED = "accounts.token.revoked"  # noqa: S105 - an audit code, not a secret
    ACCOUNTS_USER_CREATED = "accounts.user.created"
    ACCOUNTS_USER_DEACTIVATED = "accounts.user.deactivated"
    ACCOUNTS_USER_REACTIVATED = "accounts.user.reactivated"
    ACCOUNTS_USER_ROLES_CHANGED = "accounts.user.roles_changed"
    # aftercare
    AFTERCARE_PLAN_CREATED = "aftercare.plan.created"
    AFTERCARE_PLAN_DOWNLOADED = "aftercare.plan.downloaded"
    AFTERCARE_PLAN_EXTENDED = "aftercare.plan.extended"
    AFTERCARE_PLAN_NOT_CREATED = "aftercare.plan.not_created"
    AFTERCARE_PLAN_VIEWED = "aftercare.plan.viewed"
    AFTERCARE_REMINDERS_NOT_SCHEDULED = "aftercare.reminders.not_scheduled"
    AFTERCARE_REMINDERS_RESCHEDULED = "aftercare.reminders.rescheduled"
    AFTERCARE_REMINDERS_SCHEDULED = "aftercare.reminders.scheduled"
    AFTERCARE_REMINDERS_STOPPED = "aftercare.reminders.stopped"
    AFTERCARE_TASK_CHECKED = "aftercare.task.checked"
    AFTERCARE_TASK_UNCHECKED = "aftercare.task.unchecked"
    # assessment
    ASSESSMENT_DIAGNOSIS_ADDED = "assessment.diagnosis.added"
    ASSESSMENT_DIAGNOSIS_MADE_PRIMARY = "assessment.diagnosis.made_primary"
    ASSESSMENT_DIAGNOSIS_REMOVED = "assessment.diagnosis.removed"
    ASSESSMENT_EXAM_FINDING_RECORDED = "assessment.exam_finding.recorded"
    ASSESSMENT_EXAM_FINDING_REMOVED = "assessment.exam_finding.removed"
    ASSESSMENT_EXAM_FINDING_REPLACED = "assessment.exam_finding.replaced"
    ASSESSMENT_VISIT_AMENDED = "assessment.visit.amended"
    ASSESSMENT_VISIT_CREATED = "assessment.visit.created"
    ASSESSMENT_VISIT_DRAFT_SAVED = "assessment.visit.draft_saved"
    ASSESSMENT_VISIT_LISTED = "assessment.visit.listed"
    ASSESSMENT_VISIT_SIGNED = "assessment.visit.signed"
    ASSESSMENT_VISIT_VIEWED = "assessment.visit.viewed"
    # audit
    AUDIT_ACCESS_REFUSED = "audit.access.refused"
    AUDIT_LOG_EXPORTED = "audit.log.exported"
    AUDIT_LOG_READ = "audit.log.read"  # the trail read as FHIR AuditEvent (one event per read or search)
    # billing
    BILLING_CLAIMS_EXPORTED = "billing.claims.exported"
    BILLING_CLAIMS_VIEWED = "billing.claims.viewed"
    BILLING_NOTE_BILLED = "billing.note.billed"
    BILLING_NOTE_REOPENED = "billing.note.reopened"
    # shell (pages that assemble the apps)
    SHELL_WORKLIST_VIEWED = "shell.worklist.viewed"
    # fhir (the FHIR R4 interface)
    FHIR_BUNDLE_IMPORTED = "fhir.bundle.imported"
    FHIR_EVERYTHING_READ = "fhir.everything.read"
    FHIR_EXPORT_CANCELLED = "fhir.export.cancelled"
    FHIR_EXPORT_FILE_DOWNLOADED = "fhir.export_file.downloaded"
    FHIR_EXPORT_READ = "fhir.export.read"
    FHIR_EXPORT_REQUESTED = "fhir.export.requested"
    FHIR_GROUP_CREATED = "fhir.group.created"
    FHIR_GROUP_MEMBERS_ADDED = "fhir.group.members_added"
    FHIR_RESOURCE_READ = "fhir.resource.read"
    FHIR_RESOURCE_SEARCHED = "fhir.resource.searched"
    # followup
    FOLLOWUP_ALERT_ACKNOWLEDGED = "followup.alert.acknowledged"
    FOLLOWUP_ALERT_ESCALATED = "followup.alert.escalated"
    FOLLOWUP_ALERT_PAGED = "followup.alert.paged"
    FOLLOWUP_ALERT_RAISED = "followup.alert.raised"
    FOLLOWUP_ALERT_RESOLVED = "followup.alert.resolved"
    FOLLOWUP_ALERT_VIEWED = "followup.alert.viewed"
    FOLLOWUP_ALERTS_LISTED = "followup.alerts.listed"
    FOLLOWUP_CALL_NOTE_CREATED = "followup.call_note.created"
    FOLLOWUP_CHECKIN_ANSWERED = "followup.checkin.answered"
    FOLLOWUP_CHECKIN_MISSED = "followup.checkin.missed"
    FOLLOWUP_CHECKIN_OPENED = "followup.checkin.opened"
    FOLLOWUP_CHECKIN_REVIEWED = "followup.checkin.reviewed"
    FOLLOWUP_CHECKIN_VIEWED = "followup.checkin.viewed"
    FOLLOWUP_CHECKINS_JOINED = "followup.checkins.joined"
    FOLLOWUP_CHECKINS_LISTED = "followup.checkins.listed"
    FOLLOWUP_CHECKINS_SCHEDULED = "followup.checkins.scheduled"
    FOLLOWUP_CHECKINS_VIEWED = "followup.checkins.viewed"
    FOLLOWUP_ONCALL_UPDATED = "followup.oncall.updated"
    FOLLOWUP_REPORT_OPENED = "followup.report.opened"
    FOLLOWUP_WORKLIST_VIEWED = "followup.worklist.viewed"
    # notifications
    NOTIFICATIONS_MESSAGE_WITHDRAWN = "notifications.message.withdrawn"
    # outcomes
    OUTCOMES_ANALYTICS_EXPORTED = "outcomes.analytics.exported"
    OUTCOMES_ANALYTICS_EXPORTED_DEIDENTIFIED = "outcomes.analytics.exported_deidentified"
    OUTCOMES_ANALYTICS_VIEWED = "outcomes.analytics.viewed"
    OUTCOMES_DIARY_VIEWED = "outcomes.diary.viewed"
    OUTCOMES_MEASUREMENT_RECORDED = "outcomes.measurement.recorded"
    OUTCOMES_MEASUREMENTS_LISTED = "outcomes.measurements.listed"
    OUTCOMES_PATIENT_VIEWED = "outcomes.patient.viewed"
    OUTCOMES_REPEAT_DECISION_VIEWED = "outcomes.repeat_decision.viewed"
    OUTCOMES_REQUEST_EXPIRED = "outcomes.request.expired"
    OUTCOMES_REQUEST_OPENED = "outcomes.request.opened"
    OUTCOMES_REQUESTS_SCHEDULED = "outcomes.requests.scheduled"
    # patients
    PATIENTS_ALLERGY_ADDED = "patients.allergy.added"
    PATIENTS_ALLERGY_STATUS_RECORDED = "patients.allergy_status.recorded"
    PATIENTS_DUPLICATE_DISMISSED = "patients.duplicate.dismissed"
    PATIENTS_DUPLICATE_SHOWN = "patients.duplicate.shown"
    PATIENTS_IDENTIFIER_ADDED = "patients.identifier.added"
    PATIENTS_IMPORTED_ITEM_CLASSIFIED = "patients.imported_item.classified"
    PATIENTS_IMPORTED_ITEM_KEPT = "patients.imported_item.kept"
    PATIENTS_MEDICATION_ADDED = "patients.medication.added"
    PATIENTS_MERGE_PREVIEWED = "patients.merge.previewed"
    PATIENTS_PATIENT_CREATED = "patients.patient.created"
    PATIENTS_PATIENT_LISTED = "patients.patient.listed"
    PATIENTS_PATIENT_MERGED = "patients.patient.merged"
    PATIENTS_PATIENT_SEARCHED = "patients.patient.searched"
    PATIENTS_PATIENT_UPDATED = "patients.patient.updated"
    PATIENTS_PATIENT_VIEWED = "patients.patient.viewed"
    PATIENTS_REMINDERS_OPTED_IN = "patients.reminders.opted_in"
    PATIENTS_REMINDERS_OPTED_OUT = "patients.reminders.opted_out"
    PATIENTS_RISK_FACTOR_ADDED = "patients.risk_factor.added"
    PATIENTS_TIMELINE_VIEWED = "patients.timeline.viewed"
    # procedures
    PROCEDURES_GUIDANCE_IMAGE_REMOVED = "procedures.guidance_image.removed"
    PROCEDURES_GUIDANCE_IMAGE_UPLOADED = "procedures.guidance_image.uploaded"
    PROCEDURES_GUIDANCE_IMAGE_VIEWED = "procedures.guidance_image.viewed"
    PROCEDURES_PROCEDURE_AMENDED = "procedures.procedure.amended"
    PROCEDURES_PROCEDURE_AUTOSAVED = "procedures.procedure.autosaved"
    PROCEDURES_PROCEDURE_CREATED = "procedures.procedure.created"
    PROCEDURES_PROCEDURE_DISCARDED = "procedures.procedure.discarded"
    PROCEDURES_PROCEDURE_DOSE_OVERRIDDEN = "procedures.procedure.dose_overridden"
    PROCEDURES_PROCEDURE_LISTED = "procedures.procedure.listed"
    PROCEDURES_PROCEDURE_REPEAT_OVERRIDDEN = "procedures.procedure.repeat_overridden"
    PROCEDURES_PROCEDURE_SCREENING_OVERRIDDEN = "procedures.procedure.screening_overridden"
    PROCEDURES_PROCEDURE_SIGNED = "procedures.procedure.signed"
    PROCEDURES_PROCEDURE_VIEWED = "procedures.procedure.viewed"
    # scheduling
    SCHEDULING_APPOINTMENT_BOOKED = "scheduling.appointment.booked"
    SCHEDULING_APPOINTMENT_CANCELLED = "scheduling.appointment.cancelled"
    SCHEDULING_APPOINTMENT_CONFIRMED_BY_PATIENT = "scheduling.appointment.confirmed_by_patient"
    SCHEDULING_APPOINTMENT_LINK_OPENED = "scheduling.appointment.link_opened"
    SCHEDULING_APPOINTMENT_MOVED = "scheduling.appointment.moved"
    SCHEDULING_APPOINTMENT_NO_SHOW = "scheduling.appointment.no_show"
    SCHEDULING_APPOINTMENT_RESCHEDULE_REQUESTED = "scheduling.appointment.reschedule_requested"
    SCHEDULING_APPOINTMENT_STATUS_CHANGED = "scheduling.appointment.status_changed"
    SCHEDULING_APPOINTMENT_VIEWED = "scheduling.appointment.viewed"
    SCHEDULING_SCHEDULE_VIEWED = "scheduling.schedule.viewed"
    # screening
    SCREENING_ANSWERS_RECORDED = "screening.answers.recorded"
    SCREENING_CONSENT_GENERATED = "screening.consent.generated"
    SCREENING_CONSENT_PRINTED = "screening.consent.printed"
    SCREENING_CONSENT_SIGNED = "screening.consent.signed"
    SCREENING_CONSENT_VIEWED = "screening.consent.viewed"
    SCREENING_PLAN_PREFILLED = "screening.plan.prefilled"
    SCREENING_PREPARATION_PRINTED = "screening.preparation.printed"
    SCREENING_PREPARATION_VIEWED = "screening.preparation.viewed"
    SCREENING_QUESTIONNAIRE_LINK_SENT = "screening.questionnaire.link_sent"
    SCREENING_QUESTIONNAIRE_OPENED = "screening.questionnaire.opened"
    SCREENING_SCREENING_CREATED = "screening.screening.created"
    SCREENING_SCREENING_EVALUATED = "screening.screening.evaluated"
    SCREENING_SCREENING_LISTED = "screening.screening.listed"
    SCREENING_SCREENING_OVERRIDDEN = "screening.screening.overridden"
    SCREENING_SCREENING_REVIEWED = "screening.screening.reviewed"
    SCREENING_SCREENING_VIEWED = "screening.screening.viewed"


# Names used before the scheme was unified, as stored in older events.
LEGACY_ACTIONS: dict[str, AuditAction] = {
    "patient.viewed": AuditAction.PATIENTS_PATIENT_VIEWED,
    "patient.listed": AuditAction.PATIENTS_PATIENT_LISTED,
    "patient.searched": AuditAction.PATIENTS_PATIENT_SEARCHED,
    "patient.created": AuditAction.PATIENTS_PATIENT_CREATED,
    "patient.updated": AuditAction.PATIENTS_PATIENT_UPDATED,
    "patient.timeline_viewed": AuditAction.PATIENTS_TIMELINE_VIEWED,
    "patient.allergy_added": AuditAction.PATIENTS_ALLERGY_ADDED,
    "patient.allergy_status_set": AuditAction.PATIENTS_ALLERGY_STATUS_RECORDED,
    "patient.medication_added": AuditAction.PATIENTS_MEDICATION_ADDED,
    "patient.risk_factor_added": AuditAction.PATIENTS_RISK_FACTOR_ADDED,
    "patient.reminders_opt_out": AuditAction.PATIENTS_REMINDERS_OPTED_OUT,
    "patient.reminders_opt_in": AuditAction.PATIENTS_REMINDERS_OPTED_IN,
    "auth.login": AuditAction.ACCOUNTS_SESSION_SIGNED_IN,
    "auth.logout": AuditAction.ACCOUNTS_SESSION_SIGNED_OUT,
    "token.issued": AuditAction.ACCOUNTS_TOKEN_ISSUED,
    "token.revoked": AuditAction.ACCOUNTS_TOKEN_REVOKED,
    "access.refused": AuditAction.AUDIT_ACCESS_REFUSED,
    "worklist.viewed": AuditAction.SHELL_WORKLIST_VIEWED,
}


class UnregisteredAuditAction(ValueError):
    """A programming error: the code tried to record an action this registry does not list."""


def check_action(action: str) -> str:
    """Return `action` if it is registered; raise `UnregisteredAuditAction` otherwise."""
    if action not in AuditAction._value2member_map_:
        raise UnregisteredAuditAction(f"{action!r} is not a registered audit action (triggerpoint/audit/actions.py)")
    return action


def actions_starting_with(prefix: str) -> list[str]:
    """Stored action names (current and legacy) that a search for `prefix` must match."""
    current = [a.value for a in AuditAction if a.value.startswith(prefix)]
    legacy = [old for old, new in LEGACY_ACTIONS.items() if old.startswith(prefix) or new.value.startswith(prefix)]
    return current + legacy
