"""Schemathesis against the API of a living demo clinic with its real ids (shared by the fuzz tests).

Random ids never reach a record, so every path parameter is drawn from a pool of the demo
clinic's real, coherent ids (a visit with its own patient, a consent with its screening, ...)
and every response is checked by schemathesis: no 5xx, and status, content type, headers and
body conform to /api/v1/openapi.json. Failures are collected per operation and reported
together, with the run's figures.
"""

from __future__ import annotations

import re
from collections import Counter

PARAM = re.compile(r"\{(\w+)\}")


def id_pool(ctx) -> list[dict[str, str]]:
    """Coherent path-parameter sets from the demo clinic: each child id comes with its own parents."""
    from triggerpoint.assessment.models import ExamFinding, Visit, VisitDiagnosis
    from triggerpoint.atlas.catalog import load_atlas
    from triggerpoint.followup.models import Alert, CheckIn
    from triggerpoint.procedures.models import Procedure
    from triggerpoint.scheduling.models import Appointment
    from triggerpoint.screening.models import Consent, ScreeningRecord

    clinic = ctx.clinics[0]
    pool: list[dict[str, str]] = []
    for patient in ctx.patients:
        if patient.clinic_id == clinic.pk:
            pool.append({"patient_id": str(patient.public_id), "public_id": str(patient.public_id)})

    def with_patient(patient, **ids):
        return {"patient_id": str(patient.public_id), "public_id": str(patient.public_id),
                **{k: str(v) for k, v in ids.items()}}

    for visit in Visit.objects.filter(clinic=clinic).select_related("patient"):
        pool.append(with_patient(visit.patient, visit_id=visit.public_id))
    for finding in ExamFinding.objects.filter(visit__clinic=clinic).select_related("visit__patient"):
        pool.append(with_patient(finding.visit.patient, visit_id=finding.visit.public_id, finding_id=finding.public_id))
    for diagnosis in VisitDiagnosis.objects.filter(visit__clinic=clinic).select_related("visit__patient"):
        pool.append(with_patient(diagnosis.visit.patient, visit_id=diagnosis.visit.public_id,
                                 diagnosis_id=diagnosis.public_id))
    for screening in ScreeningRecord.objects.filter(clinic=clinic).select_related("patient"):
        pool.append(with_patient(screening.patient, screening_id=screening.public_id))
    for consent in Consent.objects.filter(clinic=clinic).select_related("patient", "screening"):
        pool.append(with_patient(consent.patient, screening_id=consent.screening.public_id, consent_id=consent.public_id))
    for procedure in Procedure.objects.filter(clinic=clinic).select_related("patient"):
        pool.append(with_patient(procedure.patient, procedure_id=procedure.public_id))
    for checkin in CheckIn.objects.filter(clinic=clinic).select_related("patient"):
        pool.append(with_patient(checkin.patient, checkin_id=checkin.public_id))
    for alert in Alert.objects.filter(clinic=clinic).select_related("patient"):
        pool.append(with_patient(alert.patient, alert_id=alert.public_id))
    for appointment in Appointment.objects.filter(clinic=clinic).select_related("patient")[:40]:
        pool.append(with_patient(appointment.patient, appointment_id=appointment.public_id))
    for muscle in list(load_atlas().muscles)[:20]:
        pool.append({"muscle_id": muscle})
    return pool


def fuzz_operation(operation, choices, headers, checks, figures: Counter, failures: dict[str, str], examples: int) -> None:
    """`examples` generated cases of one operation, path parameters from `choices`; failures collected, not raised."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import strategies as st
    from schemathesis.core.failures import FailureGroup

    label = f"{operation.method.upper()} {operation.path}"

    @settings(max_examples=examples, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(), ids=st.sampled_from(choices) if choices else st.just({}))
    def run(case, ids):
        case.path_parameters = {**(case.path_parameters or {}), **ids}
        response = case.call(headers=headers)
        figures["cases"] += 1
        figures[f"status {response.status_code // 100}xx"] += 1
        try:
            case.validate_response(response, checks=checks, headers=headers)
        except (AssertionError, FailureGroup) as error:  # every failure is collected, then reported together
            failures.setdefault(label, f"{type(error).__name__}: {str(error)[:600]}")

    run()
    figures["operations"] += 1




def fuzz_the_api(clinic_ctx, wsgi_app, user, examples: int) -> tuple[Counter, dict[str, str]]:
    """Every operation of /api/v1/openapi.json as `user` (a bearer token), path ids from the demo clinic."""
    import schemathesis
    from schemathesis.specs.openapi import checks as openapi_checks

    from triggerpoint.accounts.models import ApiToken

    _token, raw = ApiToken.issue(user, "fuzz")
    headers = {"Authorization": f"Bearer {raw}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", wsgi_app)
    pool = id_pool(clinic_ctx)
    checks = [schemathesis.checks.not_a_server_error, openapi_checks.status_code_conformance,
              openapi_checks.content_type_conformance, openapi_checks.response_headers_conformance,
              openapi_checks.response_schema_conformance]
    figures: Counter = Counter()
    failures: dict[str, str] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        needed = set(PARAM.findall(operation.path))
        choices = [{k: v for k, v in ids.items() if k in needed} for ids in pool if needed <= set(ids)]
        if needed and not choices:
            figures["operations without real ids"] += 1
        fuzz_operation(operation, choices, headers, checks, figures, failures, examples)
    return figures, failures
