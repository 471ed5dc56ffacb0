"""ICD-10-CM diagnoses on the claim: billable on the date of service, and the payer-relevant flags."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

from triggerpoint.assessment.diagnoses import validate_code
from triggerpoint.core.rules import Finding, Rule, RuleInputError
from triggerpoint.procedures.code_tables import SEVERITY_WARNING, CodeTables

ICD10_PATTERN = re.compile(r"^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$")

DIAGNOSIS_BILLABLE_RULE = Rule(
    id="CODE-DX-BILLABLE",
    version=1,
    title="Diagnosis codes billable on the date of service",
    basis=(
        "Each ICD-10-CM code on the note must exist in the clinic's code table, be in force and be a billable "
        "leaf on the date of service (not a category header such as M79.1 after 2022-10-01 or G44.2); the same "
        "check the assessment visit applies."
    ),
    sources=("triggerpoint/assessment/data/icd10cm.yaml (CMS ICD-10-CM code set)", "tpi-clinical-facts.md §1.6"),
)


def diagnosis_problems(codes: Iterable[str], on: date) -> list[str]:
    """Why a diagnosis code on the note may not be reported for a service on `on` (empty when all are fine).

    Uses the assessment's `validate_code`, so the note and the visit apply one rule.
    """
    problems: list[str] = []
    for code in codes:
        try:
            validate_code(code, on)
        except RuleInputError as error:
            problems.extend(f"diagnosis {code}: {problem}" for problem in error.problems)
    return problems


def diagnosis_warnings(
    diagnoses: Iterable[str], on: date, tables: CodeTables, warnings: list[Finding]
) -> None:
    for problem in diagnosis_problems(diagnoses, on):
        warnings.append(Finding.of(DIAGNOSIS_BILLABLE_RULE, SEVERITY_WARNING, problem))
    for diagnosis in diagnoses:
        for flag in tables.diagnosis_flags:
            if flag.matches(diagnosis, on):
                warnings.append(Finding.of(flag.rule, SEVERITY_WARNING, flag.message, diagnosis=diagnosis))

