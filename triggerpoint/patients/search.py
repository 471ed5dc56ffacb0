"""Front-desk patient search: name, date of birth, phone or part of an MRN, in one box.

What the box understands (the whole query is tried as each in turn):

* a date of birth: ``1980-05-17`` (ISO), ``05/17/1980`` (slashes are **US order, month/day/year**),
  ``17.05.1980`` (dots are day.month.year); two-digit years are not accepted (ambiguous century);
* a phone number: 7 or more digits with any punctuation (``555-010-2345``, ``(555) 010 2345``); only the
  digits are compared (against the stored ``Patient.phone_digits``, which a trigram index serves on
  PostgreSQL), so any stored format matches, and a number without its area code finds the full one;
  a leading US country code 1 is ignored;
* otherwise words: each word must appear in the given or family name (accents and case ignored:
  ``garcia`` finds García; matched against the stored folded key ``Patient.search_name``, which a trigram
  index serves on PostgreSQL) or, for a word with digits, in the MRN (partial: ``0037`` finds RIV-100037);
  ``last, first`` (a comma) matches the family name with the part before the comma and the given name
  with the part after.

The database does the matching (the folded key for names; after a comma, an accent-folding regular
expression, which both SQLite — Django supplies REGEXP — and PostgreSQL run, tells the family name from
the given name), so only the page of results is loaded. Each result carries its
last visit (assessment visit or signed procedure, from `last_visits`). Every patient shown is audited (`audit.record_patient_views`).
"""

from __future__ import annotations

import re
from datetime import date

from django.db.models import Q

from triggerpoint.accounts.policy import scope_to_user
from triggerpoint.audit import services as audit
from triggerpoint.patients import last_visits
from triggerpoint.patients.folding import fold, phone_digits
from triggerpoint.patients.models import Patient

ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
US_SLASHES = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")  # month/day/year
DOTS = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")  # day.month.year
PHONE_LIKE = re.compile(r"^\+?[\d\s().-]+$")

# Each plain letter and the accented letters that fold to it (case is handled by iregex).
_VARIANTS = {
    "a": "aàáâãäåā", "c": "cçćč", "e": "eèéêëēę", "i": "iìíîïī", "n": "nñń", "o": "oòóôõöøō",
    "u": "uùúûüū", "y": "yýÿ", "s": "sśš", "z": "zźżž", "l": "lł", "g": "gğ",
}


def parse_birth_date(query: str) -> date | None:
    query = query.strip()
    for pattern, order in ((ISO, "ymd"), (US_SLASHES, "mdy"), (DOTS, "dmy")):
        match = pattern.match(query)
        if match:
            parts = dict(zip(order, (int(g) for g in match.groups()), strict=True))
            try:
                return date(parts["y"], parts["m"], parts["d"])
            except ValueError:
                return None
    return None


def _folding_regex(word: str) -> str:
    """A regular expression matching `word` (already folded) with or without accents."""
    return "".join(f"[{_VARIANTS[ch]}]" if ch in _VARIANTS else re.escape(ch) for ch in word)


def _name_q(field: str, text: str) -> Q:
    q = Q()
    for word in fold(text).split():
        q &= Q(**{f"{field}__iregex": _folding_regex(word)})
    return q


def build_filter(query: str) -> Q | None:
    """The filter for `query`, or None for an empty query."""
    query = (query or "").strip()
    if not query:
        return None
    born = parse_birth_date(query)
    if born:
        return Q(date_of_birth=born)
    digits = phone_digits(query)
    if PHONE_LIKE.match(query) and len(digits) >= 7:
        return Q(phone_digits__contains=digits) | Q(mrn__icontains=query)
    if "," in query:
        last, _, first = query.partition(",")
        # The folded key narrows (an index serves it on PostgreSQL); the fields say which part is which.
        return _search_name_q(query) & _name_q("family_name", last) & _name_q("given_name", first)
    q = Q()
    for term in query.split():
        has_digits = any(ch.isdigit() for ch in term)
        if not fold(term) and not has_digits:
            continue  # punctuation alone narrows nothing
        term_q = _search_name_q(term) if fold(term) else Q(pk__in=[])
        if has_digits:  # MRNs have digits; a word without any is a name
            term_q |= Q(mrn__icontains=term)
        q &= term_q
    return q


def _search_name_q(text: str) -> Q:
    """Every folded word of `text` in the patient's folded "family given" (`Patient.search_name`)."""
    q = Q()
    for word in fold(text).split():
        q &= Q(search_name__contains=word)
    return q


def find_patients(user, query: str = "", limit: int = 50, *, channel: str = "ui") -> list[Patient]:
    """Patients of the user's clinic matching `query`, with `last_visit`; every patient shown is audited."""
    qs = scope_to_user(Patient.objects.filter(merged_into__isnull=True), user, "patient.list")  # merged: hidden
    condition = build_filter(query)
    if condition is not None:
        qs = qs.filter(condition)
    results = list(qs.order_by("family_name", "given_name", "date_of_birth")[:limit])
    # A chart merged into a result is the same patient: its visits count for the result's last visit.
    owner = {p.pk: p.pk for p in results}
    if results:
        owner.update(Patient.all_objects.filter(merged_into_id__in=list(owner)).values_list("pk", "merged_into_id"))
    seen: dict = {}
    for pk, day in last_visits.last_visit_dates(owner).items():
        seen[owner[pk]] = max(day, seen.get(owner[pk], day))
    for patient in results:
        patient.last_visit = seen.get(patient.pk)
    details = {"channel": channel, "query_length": len((query or "").strip()), "results": len(results)}
    if results:
        audit.record_patient_views("patients.patient.searched", results, clinic=getattr(user, "clinic_id", None),
                                   details=details)
    else:
        audit.record("patients.patient.searched", clinic=getattr(user, "clinic", None), details=details)
    return results
