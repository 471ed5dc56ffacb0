"""Front-desk registration: a generated MRN per clinic, and likely duplicates shown before a chart is created.

MRN: the clinic's prefix + its next number, zero-padded to the clinic's width (RIV-000123). The number
comes from one `MrnCounter` row per clinic, locked with SELECT … FOR UPDATE for the length of the
transaction that creates the patient, so two registrations at the same moment never get the same
number on PostgreSQL. SQLite has no row locks; there the database's single write lock (transactions
start IMMEDIATE, see settings) serialises the same code. Either way the unique (clinic, MRN)
constraint is the last word: a collision (an MRN typed by hand for an imported patient that equals
the next generated one) is skipped, and an IntegrityError retries with the next number.

Likely duplicates (before creating): a patient of the same clinic with
* the same date of birth and a similar name — accents, case, punctuation and word order ignored
  ("José García-López" ≈ "Lopez Garcia, Jose"), or
* the same phone number (digits compared; a leading US country code 1 ignored), or
* the same e-mail address (case ignored).
The caller either opens one of them or confirms "this is a different person"; the confirmation is
audited (`patients.duplicate.dismissed`) with the candidates' public ids, then the chart is created.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

from django.db import IntegrityError, transaction

from triggerpoint.accounts.policy import require
from triggerpoint.audit import services as audit
from triggerpoint.patients import services
from triggerpoint.patients.folding import name_key, phone_digits
from triggerpoint.patients.models import MrnCounter, Patient

MRN_SHAPE = re.compile(r"^(?P<prefix>\D*?)(?P<number>\d+)$")
NAME_SIMILARITY = 0.85  # SequenceMatcher ratio of the normalised, sorted names
MAX_CANDIDATES = 10
_ATTEMPTS = 5


# --- normalisation ------------------------------------------------------------------------


# --- MRN ----------------------------------------------------------------------------------


def format_mrn(clinic, number: int) -> str:
    return f"{clinic.mrn_prefix}{number:0{clinic.mrn_width}d}"


def _highest_number(clinic) -> int:
    """The largest number among the clinic's MRNs of its own shape (seeds a new counter)."""
    highest = 0
    mrns = Patient.all_objects.filter(clinic=clinic, mrn__startswith=clinic.mrn_prefix).values_list("mrn", flat=True)
    for mrn in mrns.iterator():
        match = MRN_SHAPE.match(mrn)
        if match and match["prefix"] == clinic.mrn_prefix:
            highest = max(highest, int(match["number"]))
    return highest


def next_mrn(clinic) -> str:
    """Take the clinic's next MRN. Call inside the transaction that saves the patient: the counter row stays locked."""
    counter, _ = MrnCounter.objects.get_or_create(clinic=clinic, defaults={"last_number": _highest_number(clinic)})
    counter = MrnCounter.objects.select_for_update().get(pk=counter.pk)
    number = counter.last_number + 1
    while Patient.all_objects.filter(clinic=clinic, mrn=format_mrn(clinic, number)).exists():
        number += 1  # taken by hand (an imported patient): skip it
    counter.last_number = number
    counter.save(update_fields=["last_number"])
    return format_mrn(clinic, number)


# --- duplicates ---------------------------------------------------------------------------


@dataclass
class Candidate:
    patient: Patient
    reasons: list[str] = field(default_factory=list)


class LikelyDuplicates(Exception):  # noqa: N818 - a condition the caller answers, not a fault
    def __init__(self, candidates: list[Candidate]):
        super().__init__(f"{len(candidates)} likely duplicate(s)")
        self.candidates = candidates


def find_likely_duplicates(clinic, data: dict[str, Any]) -> list[Candidate]:
    """Patients of `clinic` that may be the person in `data` (see the module docstring)."""
    found: dict[int, Candidate] = {}

    def add(patient: Patient, reason: str) -> None:
        entry = found.setdefault(patient.pk, Candidate(patient))
        if reason not in entry.reasons:
            entry.reasons.append(reason)

    base = Patient.objects.filter(clinic=clinic, merged_into__isnull=True)  # a merged chart is its survivor
    dob = data.get("date_of_birth")
    wanted = name_key(data.get("given_name", ""), data.get("family_name", ""))
    if dob and wanted:
        for patient in base.filter(date_of_birth=dob):
            theirs = name_key(patient.given_name, patient.family_name)
            if SequenceMatcher(None, wanted, theirs).ratio() >= NAME_SIMILARITY or _same_words(wanted, theirs):
                add(patient, "date of birth and name")
    digits = phone_digits(data.get("phone", ""))
    if len(digits) >= 7:
        # The stored digits (Patient.phone_digits, indexed with the clinic) match whatever format either was typed in.
        for patient in base.filter(phone_digits=digits):
            add(patient, "phone")
    email = (data.get("email") or "").strip()
    if email:
        for patient in base.filter(email__iexact=email):
            add(patient, "email")
    return list(found.values())[:MAX_CANDIDATES]


def _same_words(a: str, b: str) -> bool:
    """One name's words contained in the other's (a second family name or a middle name added)."""
    wa, wb = set(a.split()), set(b.split())
    return len(wa & wb) >= 2 and (wa <= wb or wb <= wa)


# --- registration -------------------------------------------------------------------------


def register_patient(user, clinic, data: dict[str, Any], *, confirm_not_duplicate: bool = False,
                     channel: str = "ui") -> Patient:
    """Create a chart: the MRN typed (imported patient) or generated; likely duplicates raise unless confirmed.

    Raises `LikelyDuplicates` (candidates shown to the caller are audited as viewed), or
    `services.DuplicateMRN` for a typed MRN already in use.
    """
    require(user, "patient.create", clinic)
    data = {k: v for k, v in data.items() if k in services.DEMOGRAPHIC_FIELDS}
    data["mrn"] = (data.get("mrn") or "").strip()
    candidates = find_likely_duplicates(clinic, data)
    if candidates and not confirm_not_duplicate:
        audit.record_patient_views("patients.duplicate.shown", [c.patient for c in candidates], clinic=clinic.pk,
                                   details={"channel": channel, "reasons": sorted({r for c in candidates for r in c.reasons})})
        raise LikelyDuplicates(candidates)
    if data["mrn"]:
        patient = services.create_patient(user, clinic, data)
    else:
        patient = _create_with_generated_mrn(clinic, data)
    if candidates:
        audit.record("patients.duplicate.dismissed", obj=patient, details={
            "channel": channel,
            "candidates": [str(c.patient.public_id) for c in candidates],
            "reasons": sorted({r for c in candidates for r in c.reasons}),
        })
    return patient


def _create_with_generated_mrn(clinic, data: dict[str, Any]) -> Patient:
    fields = {k: v for k, v in data.items() if k != "mrn"}
    Patient(clinic=clinic, mrn="pending", **fields).full_clean(validate_unique=False, validate_constraints=False)
    for attempt in range(_ATTEMPTS):
        try:
            with transaction.atomic():
                patient = Patient(clinic=clinic, mrn=next_mrn(clinic), **fields)
                patient.save()
                audit.record("patients.patient.created", obj=patient, details={"mrn": "generated"})
            return patient
        except IntegrityError:
            if attempt == _ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")
