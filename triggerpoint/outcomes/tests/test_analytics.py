"""The clinic report on a small hand-built dataset, its incremental upkeep, date ranges and exports."""

from __future__ import annotations

import csv
import io
import math
import re
from datetime import date

import pytest
from freezegun import freeze_time

from triggerpoint.conftest import make_patient
from triggerpoint.outcomes import analytics, exports, relief
from triggerpoint.outcomes.models import OutcomeRollup, ReliefRollup
from triggerpoint.outcomes.tests.factories import answer, signed_procedure

pytestmark = pytest.mark.django_db


@pytest.fixture
def dataset(clinic_a, physician):
    """Four procedures whose outcomes are worked out by hand below."""
    people = [make_patient(clinic_a, f"H-{i}", f"Hand{i}", "Built", phone="(555) 010-9999") for i in range(4)]
    with freeze_time("2026-02-01 15:00:00"):
        p1 = signed_procedure(people[0], physician, date(2026, 1, 5), pre=8, sites=(("upper_trapezius", "left"),))
        p2 = signed_procedure(people[1], physician, date(2026, 1, 12), pre=6, guidance="ultrasound",
                              sites=(("levator_scapulae", "right"),))
        p3 = signed_procedure(people[2], physician, date(2026, 1, 20), pre=7, drugs=("bupivacaine",))
        p4 = signed_procedure(people[3], physician, date(2026, 2, 1), pre=5, technique="dry_needling", codes=("M54.50",))
    with freeze_time("2026-04-01 15:00:00"):
        answer(p1, "2w", days=14, pain=4, relief=60)
        answer(p1, "6w", days=42, pain=5, relief=50)
        answer(p2, "2w", days=14, pain=5, relief=20)
        answer(p2, "6w", days=42, pain=6, relief=0)
        answer(p3, "2w", days=15, pain=1, relief=80)
        answer(p4, "6w", days=43, pain=2, relief=70)
    return {"clinic": clinic_a, "procedures": (p1, p2, p3, p4), "patients": people}


def test_responder_rates_and_mean_change_match_the_hand_calculation(dataset):
    report = analytics.clinic_report(dataset["clinic"].pk, use_cache=False)
    overall = report.overall
    assert overall.n == 4
    # 2 weeks: P1 60% yes, P2 20% no, P3 80% yes (P4 did not answer) -> 2 of 3
    assert (overall.responders_2w.k, overall.responders_2w.n) == (2, 3)
    # 6 weeks: P1 50% yes (boundary), P2 0% no, P4 70% yes -> 2 of 3
    assert (overall.responders_6w.k, overall.responders_6w.n) == (2, 3)
    # pain change at 6 weeks: 5-8 = -3, 6-6 = 0, 2-5 = -3 -> mean -2, sd sqrt(3), t(0.975, 2) = 4.303
    assert overall.change_6w.mean == pytest.approx(-2.0)
    half = 4.302652729911275 * math.sqrt(3) / math.sqrt(3)
    assert overall.change_6w.ci_low == pytest.approx(-2.0 - half)
    assert overall.change_6w.ci_high == pytest.approx(-2.0 + half)
    # MCID (2 points or 30%): P1 yes (3), P2 no, P4 yes (3 points, 60%)
    assert (overall.mcid_6w.k, overall.mcid_6w.n) == (2, 3)


def test_breakdowns_by_guidance_injectate_condition_and_muscle(dataset):
    report = analytics.clinic_report(dataset["clinic"].pk, use_cache=False)
    landmark = report.group("guidance", "landmark")
    ultrasound = report.group("guidance", "ultrasound")
    assert (landmark.n, landmark.responders_2w.k, landmark.responders_2w.n) == (3, 2, 2)
    assert (ultrasound.n, ultrasound.responders_2w.k, ultrasound.responders_2w.n) == (1, 0, 1)
    assert report.group("injectate", "dry_needling").n == 1
    assert report.group("injectate", "lidocaine").n == 2
    assert report.group("injectate", "bupivacaine").responders_2w.rate == 1.0
    assert report.group("condition", "M54.50").n == 1 and report.group("condition", "M54.2").n == 3
    assert report.group("muscle", "upper_trapezius").n == 3
    assert report.group("clinician", str(dataset["procedures"][0].performed_by_id)).n == 4


def test_median_duration_of_relief_is_kaplan_meier_from_lifelines(dataset):
    # P1: relief 60 then 50, pain 5 < 8 -> censored at day 42; P2: 20% at day 14 -> ended 14;
    # P3: censored 15; P4: censored 43.
    report = analytics.clinic_report(dataset["clinic"].pk, use_cache=False)
    km = report.overall.relief
    expected = relief.kaplan_meier({"x": [
        relief.ReliefDuration(42, False, "", relief.CENSORED), relief.ReliefDuration(14, True, "", relief.RELIEF_ENDED),
        relief.ReliefDuration(15, False, "", relief.CENSORED), relief.ReliefDuration(43, False, "", relief.CENSORED),
    ]})["x"]
    assert (km.n, km.events) == (4, 1)
    assert km.survival == expected.survival and km.median_days == expected.median_days


def test_kaplan_meier_from_counts_agrees_with_the_expanded_cases():
    counts = [relief.DurationCount(14, True, 3), relief.DurationCount(14, False, 2), relief.DurationCount(42, True, 4),
              relief.DurationCount(42, False, 1), relief.DurationCount(84, False, 5), relief.DurationCount(60, True, 2)]
    expanded = [relief.ReliefDuration(c.days, c.event_observed, "", "x") for c in counts for _ in range(c.count)]
    by_counts = relief.kaplan_meier_counts({"g": counts})["g"]
    by_cases = relief.kaplan_meier({"g": expanded})["g"]
    assert by_counts.survival == pytest.approx(by_cases.survival)
    assert by_counts.ci_low == pytest.approx(by_cases.ci_low)
    assert (by_counts.median_days, by_counts.median_ci_low, by_counts.n, by_counts.events) == (
        by_cases.median_days, by_cases.median_ci_low, by_cases.n, by_cases.events)


def test_incremental_rollups_equal_a_rebuild_from_scratch(dataset):
    def snapshot():
        stats_rows = sorted(
            (r.month, r.dimension, r.value, r.n, r.n_2w, r.resp_2w, r.n_6w, r.resp_6w, r.n_change_6w,
             round(r.sum_change_6w, 9), round(r.sumsq_change_6w, 9), r.n_mcid_6w, r.n_not_evaluable)
            for r in OutcomeRollup.objects.all() if r.n
        )
        relief_rows = sorted((r.month, r.dimension, r.value, r.days, r.event, r.count)
                             for r in ReliefRollup.objects.all() if r.count)
        return stats_rows, relief_rows

    incremental = snapshot()
    analytics.rebuild_rollups()
    assert snapshot() == incremental
    assert incremental[0]  # not an empty comparison


def test_a_date_range_with_partial_months_counts_exactly_the_procedures_inside(dataset):
    # 2026-01-10 .. 2026-01-31 holds P2 (Jan 12) and P3 (Jan 20); January is a partial month here.
    report = analytics.clinic_report(dataset["clinic"].pk, date(2026, 1, 10), date(2026, 1, 31), use_cache=False)
    assert report.overall.n == 2 and report.edge_procedures == 2
    whole_months = analytics.clinic_report(dataset["clinic"].pk, date(2026, 1, 1), date(2026, 1, 31), use_cache=False)
    assert whole_months.overall.n == 3 and whole_months.edge_procedures == 0
    mixed = analytics.clinic_report(dataset["clinic"].pk, date(2026, 1, 15), date(2026, 2, 28), use_cache=False)
    assert mixed.overall.n == 2  # P3 from the partial January, P4 from the whole February


def test_another_clinics_procedures_never_enter_the_report(dataset, clinic_b, physician_b, patient_in_b):
    with freeze_time("2026-02-01 15:00:00"):
        signed_procedure(patient_in_b, physician_b, date(2026, 1, 8))
    assert analytics.clinic_report(dataset["clinic"].pk, use_cache=False).overall.n == 4
    assert analytics.clinic_report(clinic_b.pk, use_cache=False).overall.n == 1


def test_the_cached_report_is_refreshed_when_an_answer_arrives(dataset):
    first = analytics.clinic_report(dataset["clinic"].pk)
    with freeze_time("2026-04-01 15:00:00"):
        answer(dataset["procedures"][3], "2w", days=14, pain=1, relief=90)
    second = analytics.clinic_report(dataset["clinic"].pk)
    assert (first.overall.responders_2w.n, second.overall.responders_2w.n) == (3, 4)


def test_report_exports_parse_back_as_csv_and_parquet(dataset):
    import pyarrow.parquet as pq

    rows = analytics.report_rows(analytics.clinic_report(dataset["clinic"].pk, use_cache=False))
    columns = list(rows[0])
    parsed = list(csv.DictReader(io.StringIO(exports.to_csv(rows, columns).decode())))
    assert len(parsed) == len(rows) and parsed[0]["dimension"] == "all" and parsed[0]["procedures"] == "4"
    table = pq.read_table(io.BytesIO(exports.to_parquet(rows, columns)))
    assert table.num_rows == len(rows) and table.column("procedures").to_pylist()[0] == 4


IDENTIFIER_PATTERNS = (
    re.compile(r"\b\d{4}-\d{2}-\d{2}\b"),  # exact dates
    re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}"),  # public ids
    re.compile(r"@"),  # e-mail addresses
    re.compile(r"\(\d{3}\)"),  # phone numbers
)


def test_the_deidentified_export_holds_no_names_contacts_record_numbers_or_exact_dates(dataset):
    import pyarrow.parquet as pq

    rows, _manifest = exports.deidentified_export(dataset["clinic"].pk)
    assert len(rows) == 4
    text = exports.to_csv(rows, exports.DEIDENTIFIED_COLUMNS).decode()
    forbidden = []
    for person in dataset["patients"]:
        forbidden += [person.given_name, person.family_name, person.mrn, person.email, person.phone, str(person.public_id),
                      person.date_of_birth.isoformat()]
    for procedure in dataset["procedures"]:
        forbidden += [procedure.procedure_date.isoformat(), str(procedure.public_id), procedure.performed_by.username]
    for value in forbidden:
        assert value not in text, f"{value!r} leaked into the research export"
    for pattern in IDENTIFIER_PATTERNS:
        assert not pattern.search(text), f"{pattern.pattern} matched the research export"
    header = text.splitlines()[0].split(",")
    assert header == list(exports.DEIDENTIFIED_COLUMNS)
    assert all(re.fullmatch(r"S-[0-9a-f]{12}", r["subject"]) for r in rows)  # a keyed pseudonym, not a database key
    assert {r["procedure_year"] for r in rows} == {2026}
    assert {r["age_band"] for r in rows} == {"40-49"}
    table = pq.read_table(io.BytesIO(exports.to_parquet(rows, exports.DEIDENTIFIED_COLUMNS)))
    assert table.num_rows == 4 and "subject" in table.column_names and "mrn" not in table.column_names


def test_pseudonyms_differ_between_patients_and_between_exports(dataset):
    first = [r["subject"] for r in exports.deidentified_export(dataset["clinic"].pk)[0]]
    again = [r["subject"] for r in exports.deidentified_export(dataset["clinic"].pk)[0]]
    assert len(set(first)) == 4 and len(set(again)) == 4
    assert not set(first) & set(again)  # a per-export key: two exports cannot be joined


def test_a_study_key_links_exports_and_the_manifest_says_so(dataset):
    study_key = "an analyst's own secret, 32+ chars long"
    first, manifest = exports.deidentified_export(dataset["clinic"].pk, study_key=study_key)
    again, _ = exports.deidentified_export(dataset["clinic"].pk, study_key=study_key)
    assert [r["subject"] for r in first] == [r["subject"] for r in again]
    assert manifest["pseudonym_key"]["policy"] == "study" and manifest["pseudonym_key"]["linkable_across_exports"]
    assert study_key not in exports.manifest_json(manifest).decode()
    _, per_export = exports.deidentified_export(dataset["clinic"].pk)
    assert per_export["pseudonym_key"] == {**per_export["pseudonym_key"], "policy": "per-export",
                                           "linkable_across_exports": False, "kept": False}
    with pytest.raises(exports.StudyKeyTooShort):
        exports.deidentified_export(dataset["clinic"].pk, study_key="short")


def test_pseudonyms_cannot_be_recomputed_with_the_servers_secret_key(dataset, settings):
    import hashlib
    import hmac

    rows, _ = exports.deidentified_export(dataset["clinic"].pk)
    under_secret_key = {
        "S-" + hmac.new(settings.SECRET_KEY.encode(), f"outcomes-research:subject:{p.pk}".encode(),
                        hashlib.sha256).hexdigest()[:12]
        for p in dataset["patients"]
    }
    assert not under_secret_key & {r["subject"] for r in rows}


@pytest.mark.parametrize(("born", "on", "band"), [
    (date(2000, 6, 2), date(2018, 6, 1), "under 18"), (date(2000, 6, 1), date(2018, 6, 1), "18-19"),
    (date(1980, 1, 1), date(2020, 1, 1), "40-49"), (date(1936, 6, 2), date(2026, 6, 1), "80-89"),
    (date(1936, 6, 1), date(2026, 6, 1), "90+"),
])
def test_ages_are_banded_with_90_and_over_together(born, on, band):
    assert exports.age_band(born, on) == band


# Safe Harbor's 18 identifiers (45 CFR 164.514(b)(2)(i)), (A) to (R), as checks on exported values.
SAFE_HARBOR_VALUE_CHECKS = {
    "C: date elements other than the year": re.compile(r"\b\d{4}-\d{1,2}\b|\b\d{1,2}/\d{1,2}\b|\b\d{8}\b"),
    "D/E: telephone or fax number": re.compile(r"\(?\d{3}\)?[ -]?\d{3}-\d{4}"),
    "F: e-mail address": re.compile(r"@"),
    "N: URL": re.compile(r"https?://|www\."),
    "O: IP address": re.compile(r"\b\d{1,3}(\.\d{1,3}){3}\b"),
    "H/R: record numbers, public ids": re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}"),
}


def test_every_research_column_is_checked_against_the_18_safe_harbor_identifiers(dataset, clinic_a, physician):
    old = make_patient(clinic_a, "H-OLD", "Nonagenarian", "Elder", date_of_birth=date(1930, 3, 3),
                       address="12 Elm Street, Springfield 01101")
    with freeze_time("2026-02-01 15:00:00"):
        signed_procedure(old, physician, date(2026, 1, 30), pre=6)
    rows, manifest = exports.deidentified_export(clinic_a.pk)
    assert set(exports.SAFE_HARBOR_REVIEW) == set(exports.DEIDENTIFIED_COLUMNS) == set(manifest["columns"])
    people = [*dataset["patients"], old]
    identifiers = []  # (A) names, (B) address and ZIP, (C) birth dates, (F) e-mail, (H) MRN, (R) keys
    for person in people:
        identifiers += [person.given_name, person.family_name, person.mrn, person.email, str(person.public_id),
                        person.date_of_birth.isoformat()]
    database_keys = {str(person.pk) for person in people} | {f"S-{person.pk}" for person in people}
    identifiers += ["Elm Street", "01101", physician.username, physician.get_full_name() or physician.username]
    for column in exports.DEIDENTIFIED_COLUMNS:
        values = [("" if row[column] is None else str(row[column])) for row in rows]
        for value in values:
            for label, pattern in SAFE_HARBOR_VALUE_CHECKS.items():
                assert not pattern.search(value), f"{column}={value!r} looks like Safe Harbor identifier {label}"
            for identifier in identifiers:
                assert identifier not in value, f"{column}={value!r} carries {identifier!r}"
            if column in ("subject", "clinician"):
                assert value not in database_keys, f"{column}={value!r} is a database key"
    assert {row["procedure_year"] for row in rows} == {2026}  # (C): the year is all of a date that leaves
    assert {row["age_band"] for row in rows} == {"40-49", "90+"}  # (C): 95-year-old grouped as 90+
    assert all(re.fullmatch(r"[SC]-[0-9a-f]{12}", row[c]) for row in rows for c in ("subject", "clinician"))


def test_a_requested_date_range_is_widened_to_whole_years(dataset):
    rows, manifest = exports.deidentified_export(dataset["clinic"].pk, date(2026, 1, 10), date(2026, 1, 13))
    assert len(rows) == 4  # not only the procedure of 12 January: a narrow range would pin rows to days
    assert manifest["years"] == [2026, 2026]
