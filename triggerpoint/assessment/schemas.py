"""The assessment calculators' request bodies as typed contracts, and their answers: ``POST /exam/classify`` and
``/fibromyalgia/score``.

Each body is the whole input of a pure rule (`exam.ExamFinding`, `fibromyalgia.FibromyalgiaSymptoms`),
with the same field names. Here only its shape is checked — every field there, no other, the
list field a list — in the sentences the rule inputs have always used (missing fields, then
unknown ones in the order sent, then the list). The values are the rule's to check
(`exam.exam_problems`, `fibromyalgia.score_acr_2016`), so a body with the right shape reaches
the rule as sent and its problems come from the rule, as from the pages.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from pydantic import BaseModel

from triggerpoint.assessment.exam import DEFAULT_CRITERIA, ExamFinding
from triggerpoint.assessment.fibromyalgia import SEVERITY_ITEMS, SOMATIC_ITEMS, FibromyalgiaSymptoms
from triggerpoint.core.choices import SIDES
from triggerpoint.core.contracts import Contract, checked, parse
from triggerpoint.core.rule_schemas import RuleFindingOut


def _as_sent(schema: dict[str, Any]) -> Any:
    """A field the rule checks: its schema for the OpenAPI document, its value passed on as sent."""
    return checked(lambda value: value, schema)


BOOLEAN = _as_sent({"type": "boolean"})
SCORE = _as_sent({"type": "integer", "minimum": 0, "maximum": 3})


def _ids(description: str) -> Any:
    return _as_sent({"type": "array", "items": {"type": "string"}, "description": description})


class RuleInput(Contract):
    """Every field of a rule's input, checked for shape only (see the module docstring)."""

    unknown_fields: ClassVar[str | None] = None
    missing_field: ClassVar[str]  # "{name}" is the field
    unknown_field: ClassVar[str]  # "{name}" the field sent, "{allowed}" the fields
    list_field: ClassVar[str]
    not_a_list: ClassVar[str]

    @staticmethod
    def is_list(value: Any) -> bool:
        return not isinstance(value, str) and isinstance(value, Iterable)

    def problems(self, raw: Mapping[str, Any], context: Mapping[str, Any]) -> list[str]:
        fields = type(self).model_fields
        allowed = ", ".join(fields)
        found = [self.missing_field.format(name=name) for name, field in fields.items()
                 if name not in raw and field.is_required()]
        found += [self.unknown_field.format(name=name, allowed=allowed) for name in raw if name not in fields]
        if not self.is_list(raw.get(self.list_field, [])):
            found.append(self.not_a_list)
        return found


class ExamFindingIn(RuleInput):
    """What palpation of one muscle on one side showed: every yes/no finding stated, none defaulted."""

    missing_field: ClassVar[str] = "missing field: {name}"
    unknown_field: ClassVar[str] = "unknown field: {name}; allowed: {allowed}"
    list_field: ClassVar[str] = "referred_pain_zones"
    not_a_list: ClassVar[str] = "referred_pain_zones must be a list of zone ids"
    not_an_object: ClassVar[str] = "the request body must be a JSON object"

    muscle: _as_sent({"type": "string", "description": "An atlas muscle id."})
    side: _as_sent({"type": "string", "enum": list(SIDES)})
    taut_band: BOOLEAN
    tender_spot: BOOLEAN
    recognised_pain: BOOLEAN
    spontaneous_pain: BOOLEAN
    local_twitch_response: BOOLEAN
    jump_sign: BOOLEAN
    focal_nodule: BOOLEAN
    referred_pain_zones: _ids("Body-map zone ids.")
    pressure_pain_threshold_kg_cm2: _as_sent({
        "anyOf": [{"type": "number", "exclusiveMinimum": 0,
                   "maximum": DEFAULT_CRITERIA.ppt_plausible_max_kg_cm2}, {"type": "null"}],
        "description": "Algometer reading; null when none was used.",
    }) = None

    def to_finding(self) -> ExamFinding:
        values = {name: getattr(self, name) for name in type(self).model_fields}
        return ExamFinding(**{**values, "referred_pain_zones": frozenset(self.referred_pain_zones)})


class FibromyalgiaIn(RuleInput):
    """The 2016 ACR questionnaire answers: painful WPI areas, severity 0–3, somatic yes/no, months."""

    missing_field: ClassVar[str] = "fibromyalgia_inputs: {name} is missing"
    unknown_field: ClassVar[str] = "fibromyalgia_inputs: unknown field {name}; allowed: {allowed}"
    list_field: ClassVar[str] = "painful_areas"
    not_a_list: ClassVar[str] = "fibromyalgia_inputs: painful_areas must be a list of WPI area ids"
    not_an_object: ClassVar[str] = "the request body must be a JSON object"

    painful_areas: _ids("WPI area ids painful in the past week.")
    fatigue: SCORE
    waking_unrefreshed: SCORE
    cognitive_symptoms: SCORE
    headaches: BOOLEAN
    lower_abdominal_pain_or_cramps: BOOLEAN
    depression: BOOLEAN
    symptom_months: _as_sent({"type": "integer", "minimum": 0, "description": "Months at a similar level."})

    @staticmethod
    def is_list(value: Any) -> bool:
        return isinstance(value, list | tuple | set | frozenset)

    def to_symptoms(self) -> FibromyalgiaSymptoms:
        values = {name: getattr(self, name) for name in (*SEVERITY_ITEMS, *SOMATIC_ITEMS, "symptom_months")}
        return FibromyalgiaSymptoms(painful_areas=frozenset(self.painful_areas), **values)


def parse_exam_finding(payload: Any) -> ExamFinding:
    """A form's or the API's exam finding as the rule's input; every missing or unknown field listed at once."""
    return parse(ExamFindingIn, payload).to_finding()


def parse_fibromyalgia(payload: Any) -> FibromyalgiaSymptoms:
    """Stored or sent 2016 ACR answers as the scorer's input; every missing answer listed."""
    return parse(FibromyalgiaIn, payload).to_symptoms()


# ---------------------------------------------------------------------------------------------
# The answers, described field for field in their key order, so validating one changes nothing in
# the JSON (the operations declare ``exclude_unset=True``: a finding's absent `data` stays absent).


class ExamClassificationOut(BaseModel):
    """ASM-TRP-CLASSIFY and ASM-TRP-LCD-DOC on one muscle-side: the status, and the findings that carried it."""

    muscle: str
    side: str
    status: str
    meets_lcd_documentation: bool
    supporting_findings: list[str]
    findings: list[RuleFindingOut]


class FibromyalgiaScoreOut(BaseModel):
    """The 2016 ACR fibromyalgia criteria: WPI, SSS, generalised pain, duration, and whether they are met."""

    wpi: int
    sss: int
    fibromyalgia_severity: int
    painful_regions: list[str]
    generalised_pain: bool
    duration_met: bool
    criteria_met: bool
    clinician_message: str | None
    findings: list[RuleFindingOut]

