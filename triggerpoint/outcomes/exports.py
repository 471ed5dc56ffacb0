"""Exports of the clinic report (CSV, Parquet) and a de-identified per-procedure dataset for research.

The research dataset follows HIPAA Safe Harbor (45 CFR 164.514(b)(2)): none of
its 18 identifiers leaves (``SAFE_HARBOR_REVIEW`` states, column by column, why):

* no names, MRNs, contact details, addresses, public ids or database keys —
  patients and clinicians appear as pseudonyms: an HMAC of the record's key
  under a **random key made for this export and then discarded**, so two
  exports cannot be joined and nobody (not even whoever holds the server's
  SECRET_KEY) can recompute them. An analyst who needs to follow subjects
  across exports supplies a study key of their own; the clinic does not keep
  it. The export's manifest says which policy was used;
* no date element except the year: a procedure is given by its year and as
  days since the patient's first procedure in the clinic (an interval, not a
  date); a requested date range is widened to whole years;
* ages are banded (10-year bands, ``90+`` for 90 and over as Safe Harbor asks);
* free text never leaves: only coded fields (ICD-10-CM code, atlas muscle ids,
  drug ids, guidance, technique) and numbers.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import secrets
import uuid
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from typing import Any

from triggerpoint.outcomes.models import ProcedureOutcome
from triggerpoint.patients.selectors import birth_dates_and_sexes

DEIDENTIFIED_COLUMNS = (
    "subject", "procedure_number", "procedure_year", "days_since_first_procedure", "age_band", "sex",
    "condition", "muscles", "injectates", "technique", "guidance", "clinician",
    "baseline_pain", "immediate_pain", "pain_2w", "pain_6w", "pain_12w",
    "relief_2w", "relief_6w", "relief_12w", "responder_2w", "responder_6w",
    "pain_change_2w", "pain_change_6w", "beats_mcid_6w", "relief_days", "relief_ended",
)


STUDY_KEY_MIN_LENGTH = 32

# Safe Harbor's 18 identifiers (45 CFR 164.514(b)(2)(i)) against every column: each column is either not one of
# them, or is generalised as Safe Harbor allows. The test checks that this covers every column exactly.
SAFE_HARBOR_REVIEW = {
    "subject": "pseudonym (HMAC under a per-export or analyst-held key), not derived from any identifier (R)",
    "procedure_number": "count of the subject's procedures, not an identifier",
    "procedure_year": "year only; Safe Harbor allows the year of a date (C)",
    "days_since_first_procedure": "interval between two of the subject's procedures, no date element (C)",
    "age_band": "10-year band, 90 and over as one group '90+' (C)",
    "sex": "not an identifier",
    "condition": "ICD-10-CM diagnosis code, not an identifier",
    "muscles": "atlas muscle ids, not an identifier",
    "injectates": "drug ids, not an identifier",
    "technique": "coded technique, not an identifier",
    "guidance": "coded guidance, not an identifier",
    "clinician": "pseudonym of the clinician under the same export key (R); no names (A)",
    **{name: "number (score or flag), not an identifier" for name in (
        "baseline_pain", "immediate_pain", "pain_2w", "pain_6w", "pain_12w", "relief_2w", "relief_6w",
        "relief_12w", "responder_2w", "responder_6w", "pain_change_2w", "pain_change_6w", "beats_mcid_6w",
        "relief_days", "relief_ended")},
}


class StudyKeyTooShort(ValueError):
    pass


def pseudonym(kind: str, record_key: int, export_key: bytes) -> str:
    digest = hmac.new(export_key, f"outcomes-research:{kind}:{record_key}".encode(), hashlib.sha256)
    return f"{kind[0].upper()}-{digest.hexdigest()[:12]}"


def export_key(study_key: str | None) -> tuple[bytes, dict]:
    """The key pseudonyms are made under, and how the manifest describes it.

    Without a study key: 32 random bytes that live only for this export, so
    pseudonyms link nothing outside it. With one: the analyst's own secret (the
    clinic keeps no copy), so exports made with the same study key share pseudonyms.
    """
    if study_key is None:
        return secrets.token_bytes(32), {
            "policy": "per-export",
            "linkable_across_exports": False,
            "kept": False,
            "explanation": "Pseudonyms were made under a random key created for this export and then discarded. "
                           "They cannot be recomputed or matched with any other export.",
        }
    if len(study_key) < STUDY_KEY_MIN_LENGTH:
        raise StudyKeyTooShort(f"A study key must be at least {STUDY_KEY_MIN_LENGTH} characters long.")
    return hashlib.sha256(b"outcomes-research-study:" + study_key.encode()).digest(), {
        "policy": "study",
        "linkable_across_exports": True,
        "kept": False,
        "explanation": "Pseudonyms were made under the study key the analyst supplied; exports made with the same "
                       "key share pseudonyms. The clinic does not keep the key: whoever holds it can link exports.",
    }


def whole_years(date_from: date | None, date_to: date | None) -> tuple[date | None, date | None]:
    """A requested range widened to whole years, so a narrow range cannot pin procedures to a day."""
    return (date(date_from.year, 1, 1) if date_from else None, date(date_to.year, 12, 31) if date_to else None)


def deidentified_export(
    clinic_id: int, date_from: date | None = None, date_to: date | None = None, *, study_key: str | None = None
) -> tuple[list[dict], dict]:
    """The research rows and their manifest (key policy, generalisations, columns)."""
    key, key_policy = export_key(study_key)
    date_from, date_to = whole_years(date_from, date_to)
    rows = list(deidentified_rows(clinic_id, date_from, date_to, key=key))
    manifest = {
        "dataset": "trigger-point outcomes, one row per signed procedure",
        "export_id": uuid.uuid4().hex,
        "deidentification": "HIPAA Safe Harbor, 45 CFR 164.514(b)(2)",
        "pseudonym_key": key_policy,
        "years": [date_from.year if date_from else None, date_to.year if date_to else None],
        "rows": len(rows),
        "columns": {name: SAFE_HARBOR_REVIEW[name] for name in DEIDENTIFIED_COLUMNS},
    }
    return rows, manifest


def manifest_json(manifest: dict) -> bytes:
    return json.dumps(manifest, indent=2, sort_keys=True).encode("utf-8")


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


def deidentified_rows(
    clinic_id: int, date_from: date | None = None, date_to: date | None = None, *, key: bytes
) -> Iterator[dict]:
    """One de-identified row per signed procedure of the clinic in the range; pseudonyms under `key`."""
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
    patients: dict[int, Any] = {}
    sexes: dict[int, str] = {}
    for patient_id, born, sex in birth_dates_and_sexes(clinic_id):
        patients[patient_id] = born
        sexes[patient_id] = sex
    for outcome in queryset.order_by("patient_id", "procedure_date", "procedure_id").iterator(chunk_size=20000):
        numbers[outcome.patient_id] = numbers.get(outcome.patient_id, 0) + 1
        day = outcome.procedure_date
        yield {
            "subject": pseudonym("subject", outcome.patient_id, key),
            "procedure_number": numbers[outcome.patient_id],
            "procedure_year": day.year,
            "days_since_first_procedure": (day - first_by_patient[outcome.patient_id]).days,
            "age_band": age_band(patients[outcome.patient_id], day) if patients.get(outcome.patient_id) else "",
            "sex": sexes.get(outcome.patient_id, "unknown"),
            "condition": outcome.condition,
            "muscles": ";".join(outcome.muscles or []),
            "injectates": ";".join(outcome.injectates or []),
            "technique": outcome.technique,
            "guidance": outcome.guidance,
            "clinician": pseudonym("clinician", outcome.clinician_id, key) if outcome.clinician_id else "",
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


def to_zip(files: Mapping[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def to_parquet(rows: Iterable[Mapping], columns: Iterable[str], metadata: Mapping[str, bytes] | None = None) -> bytes:
    import pyarrow as pa  # imported when used: a C extension that must not load under a frozen clock
    import pyarrow.parquet as pq

    names = list(columns)
    data = list(rows)
    table = pa.Table.from_pylist(data, schema=None) if data else pa.table({name: pa.array([], pa.string()) for name in names})
    table = table.select(names)
    if metadata:
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), **metadata})
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd")
    return buffer.getvalue()
