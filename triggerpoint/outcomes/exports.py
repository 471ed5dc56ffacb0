"""Exports of the clinic report (CSV, Parquet) and a de-identified per-procedure dataset for research.

De-identification (HIPAA Safe Harbor in spirit, for a clinic's own research use):

* no names, MRNs, contact details, addresses, public ids or database keys —
  patients and clinicians appear as keyed pseudonyms (HMAC of the record's key
  with the deployment's secret and the export's purpose, so they are stable across
  exports but cannot be reversed or linked to other systems);
* no exact dates: a procedure is given as its month (``YYYY-MM``) and as days
  since the patient's first procedure in the clinic; follow-up timing is implicit
  in the time points;
* ages are banded (10-year bands, ``90+`` above 89 as Safe Harbor asks);
* free text never leaves: only coded fields (ICD-10-CM code, atlas muscle ids,
  drug ids, guidance, technique) and numbers.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
from collections.abc import Iterable, Iterator, Mapping
from datetime import date

from django.conf import settings

from triggerpoint.outcomes.models import ProcedureOutcome

DEIDENTIFIED_COLUMNS = (
    "subject", "procedure_number", "procedure_month", "days_since_first_procedure", "age_band", "sex",
    "condition", "muscles", "injectates", "technique", "guidance", "clinician",
    "baseline_pain", "immediate_pain", "pain_2w", "pain_6w", "pain_12w",
    "relief_2w", "relief_6w", "relief_12w", "responder_2w", "responder_6w",
    "pain_change_2w", "pain_change_6w", "beats_mcid_6w", "relief_days", "relief_ended",
)


def pseudonym(kind: str, key: int) -> str:
    digest = hmac.new(settings.SECRET_KEY.encode(), f"outcomes-research:{kind}:{key}".encode(), hashlib.sha256)
    return f"{kind[0].upper()}-{digest.hexdigest()[:12]}"


def age_band(born: date, on: date) -> str:
    age = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    if age < 18:
        return "under 18"
    if age >= 90:
        return "90+"
    if age < 20:
        return "18-19"
    low = age // 10 * 10
    return f"{low}-{low + 9}"


def deidentified_rows(clinic_id: int, date_from: date | None = None, date_to: date | None = None) -> Iterator[dict]:
    """One de-identified row per signed procedure of the clinic in the range."""
    from triggerpoint.patients.models import Patient

    first_by_patient: dict[int, date] = {}
    numbers: dict[int, int] = {}
    for patient_id, day in (
        ProcedureOutcome.objects.filter(clinic_id=clinic_id).order_by("patient_id", "procedure_date", "procedure_id")
        .values_list("patient_id", "procedure_date").iterator(chunk_size=20000)
    ):
        first_by_patient.setdefault(patient_id, day)
    queryset = ProcedureOutcome.objects.filter(clinic_id=clinic_id)
    if date_from is not None:
        queryset = queryset.filter(procedure_date__gte=date_from)
    if date_to is not None:
        queryset = queryset.filter(procedure_date__lte=date_to)
    patients = dict(
        Patient.all_objects.filter(clinic_id=clinic_id).values_list("pk", "date_of_birth").iterator(chunk_size=20000)
    )
    sexes = dict(Patient.all_objects.filter(clinic_id=clinic_id).values_list("pk", "sex").iterator(chunk_size=20000))
    for outcome in queryset.order_by("patient_id", "procedure_date", "procedure_id").iterator(chunk_size=20000):
        numbers[outcome.patient_id] = numbers.get(outcome.patient_id, 0) + 1
        day = outcome.procedure_date
        yield {
            "subject": pseudonym("subject", outcome.patient_id),
            "procedure_number": numbers[outcome.patient_id],
            "procedure_month": day.strftime("%Y-%m"),
            "days_since_first_procedure": (day - first_by_patient[outcome.patient_id]).days,
            "age_band": age_band(patients[outcome.patient_id], day) if patients.get(outcome.patient_id) else "",
            "sex": sexes.get(outcome.patient_id, "unknown"),
            "condition": outcome.condition,
            "muscles": ";".join(outcome.muscles or []),
            "injectates": ";".join(outcome.injectates or []),
            "technique": outcome.technique,
            "guidance": outcome.guidance,
            "clinician": pseudonym("clinician", outcome.clinician_id) if outcome.clinician_id else "",
            "baseline_pain": outcome.baseline_pain,
            "immediate_pain": outcome.immediate_pain,
            "pain_2w": outcome.pain_2w,
            "pain_6w": outcome.pain_6w,
            "pain_12w": outcome.pain_12w,
            "relief_2w": outcome.relief_2w,
            "relief_6w": outcome.relief_6w,
            "relief_12w": outcome.relief_12w,
            "responder_2w": outcome.responder_2w,
            "responder_6w": outcome.responder_6w,
            "pain_change_2w": outcome.change_2w,
            "pain_change_6w": outcome.change_6w,
            "beats_mcid_6w": outcome.mcid_6w,
            "relief_days": outcome.relief_days,
            "relief_ended": outcome.relief_event if outcome.relief_days is not None else None,
        }


def to_csv(rows: Iterable[Mapping], columns: Iterable[str]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="raise")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
    return buffer.getvalue().encode("utf-8")


def to_parquet(rows: Iterable[Mapping], columns: Iterable[str]) -> bytes:
    import pyarrow as pa  # imported when used: a C extension that must not load under a frozen clock
    import pyarrow.parquet as pq

    names = list(columns)
    data = list(rows)
    table = pa.Table.from_pylist(data, schema=None) if data else pa.table({name: pa.array([], pa.string()) for name in names})
    table = table.select(names)
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd")
    return buffer.getvalue()
