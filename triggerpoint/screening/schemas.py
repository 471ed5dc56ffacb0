"""The `screening/evaluate` request body (ARCHITECTURE §8) as a typed contract, read into `ScreeningInput`.

A request missing a required fact or naming an unknown drug, muscle, unit or code is refused
with every problem at once, so that a missing fact can never come out as a silent ``ready``.
A fact sent as ``null`` counts as not sent; unknown fields are ignored. Every date must lie in
its plausible clinical window (`core.plausible`): the procedure date ``scheduled``, event dates
and the last toxin dose ``history`` (past, within 120 years), the INR date ``recorded``. An
event may not start on or after the procedure date: the procedure day's health is reported in
``today``. Pure: pydantic, no Django, ORM or HTTP.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, ClassVar

from pydantic import BeforeValidator, ConfigDict, ValidationError, ValidationInfo

from triggerpoint.atlas.catalog import Atlas, load_atlas
from triggerpoint.catalogues.drugs import DrugCatalog, load_drugs
from triggerpoint.core import plausible
from triggerpoint.core.choices import GUIDANCES, SIDES, TECHNIQUES
from triggerpoint.core.contracts import Contract, catalogue, checked, parse, problem
from triggerpoint.core.rules import RuleInputError
from triggerpoint.screening.inputs import (
    Event,
    HistoryFacts,
    InrReading,
    Medication,
    PatientFacts,
    PlanFacts,
    PlannedInjectate,
    PlannedSite,
    ScreeningInput,
    Temperature,
    TodayFacts,
    celsius_to_fahrenheit,
)
from triggerpoint.screening.policy import (
    ALLERGY_STATUSES,
    CONDITIONS,
    EVENT_TYPES,
    INPUT_LIMITS,
    MEDICATION_CLASSES,
    SEXES,
    TEMPERATURE_UNITS,
    VIAL_KINDS,
)

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class _Facts(Contract):
    """A screening object: ``null`` is "not sent", unknown fields are ignored (as the contract always has)."""

    model_config = ConfigDict(json_schema_extra={"additionalProperties": True})
    unknown_fields: ClassVar[str | None] = None
    null_is_absent: ClassVar[bool] = True


# ---------------------------------------------------------------------------------------------
# Field checks: each raises the contract's sentence for its field; a required one is checked as None.


def _required(value: Any, suffix: str = "") -> Any:
    if value is None:
        raise problem("{where} is required" + suffix)
    return value


def _number(limits: Any = None, *, whole: bool = False, required: bool = True, minimum: Any = None) -> Any:
    low_high = None if limits is None else tuple(map(Decimal, limits))

    def check(value: Any) -> Decimal | None:
        if value is None and not required:
            return None
        _required(value)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise problem(f"{{where}} must be a number, not {value!r}")
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            raise problem("{where} must be a finite number") from None
        if not number.is_finite():
            raise problem("{where} must be a finite number")
        if whole and number != number.to_integral_value():
            raise problem("{where} must be a whole number")
        if low_high is not None and not low_high[0] <= number <= low_high[1]:
            raise problem(f"{{where}} {value} is outside the plausible range {low_high[0]}–{low_high[1]}")
        return number

    schema: dict[str, Any] = {"type": "integer" if whole else "number"}
    if low_high is not None:
        schema.update(minimum=float(low_high[0]), maximum=float(low_high[1]))
    return checked(check, schema, Decimal | None)


def _bool(value: Any) -> bool:
    if not isinstance(_required(value, " (true or false)"), bool):
        raise problem(f"{{where}} must be true or false, not {value!r}")
    return value


def _boolean(required: bool = True) -> Any:
    return checked(_bool if required else lambda value: None if value is None else _bool(value),
                   {"type": "boolean"}, bool | None)


def _text(value: Any) -> str:
    _required(value)
    if not isinstance(value, str) or not value.strip():
        raise problem("{where} must be a non-empty string")
    return value.strip()


Text = checked(_text, {"type": "string", "minLength": 1}, str)


def _one_of(value: Any, allowed: tuple[str, ...]) -> str:
    text = _text(value)
    if text not in allowed:
        raise problem(f"{{where}} {text!r} is not allowed; allowed: {', '.join(allowed)}")
    return text


def _choice(allowed: tuple[str, ...]) -> Any:
    return checked(lambda value: _one_of(value, allowed), {"type": "string", "enum": list(allowed)}, str)


def _date(kind: str, required: bool = True) -> Any:
    def check(value: Any) -> date | None:
        if value is None and not required:
            return None
        _required(value, " (YYYY-MM-DD)")
        if not isinstance(value, str) or not _ISO_DATE.match(value):
            raise problem(f"{{where}} must be a date written YYYY-MM-DD, not {value!r}")
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise problem(f"{{where}} {value!r} is not a real date") from None
        reason = plausible.problem(kind, day)
        if reason:
            raise problem(f"{{where}} {reason}")
        return day

    return checked(check, {"type": "string", "format": "date"}, date | None)


def _list_of(value: Any) -> list:
    _required(value, " (use [] when there are none)")
    if not isinstance(value, list):
        raise problem("{where} must be a list")
    return value


ListOf = BeforeValidator(_list_of)
Section = BeforeValidator(_required)


def _allergy(value: Any) -> str:
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise problem("{where} must be a substance name (non-empty string)")


def _condition(value: Any) -> str:
    if value in CONDITIONS:
        return value
    raise problem(f"{{where}} {value!r} is not allowed; allowed: {', '.join(CONDITIONS)}")


def _muscle(value: Any, info: ValidationInfo) -> str:
    return _one_of(value, tuple(sorted(catalogue(info.context or {}, "atlas", load_atlas).muscles)))


def _quiet(contract: type[Contract], name: str, raw: Any, context: Mapping[str, Any]) -> Any:
    """`raw`'s field `name` parsed on its own (None when absent or not valid): what the other checks can rely on."""
    if not isinstance(raw, Mapping) or raw.get(name) is None:
        return None
    try:
        return contract._adapters()[name].validate_python(raw[name], context=context)
    except ValidationError:
        return None


# ---------------------------------------------------------------------------------------------
# patient


class InrIn(_Facts):
    value: _number(INPUT_LIMITS.inr)
    date: _date("recorded")


class MedicationIn(_Facts):
    not_an_object: ClassVar[str] = "{where} must be an object with name and drug_class"

    name: Text
    drug_class: _choice(MEDICATION_CLASSES)


class ScreeningPatientIn(_Facts):
    age: _number(INPUT_LIMITS.age_years, whole=True)
    sex: _choice(SEXES)
    weight_kg: _number(INPUT_LIMITS.weight_kg)
    bmi: _number(INPUT_LIMITS.bmi, required=False) = None
    pregnant: _boolean()
    high_bleeding_risk: _boolean()
    allergy_status: _choice(ALLERGY_STATUSES)
    breastfeeding: _boolean(required=False) = None
    inr: InrIn = None
    allergies: Annotated[list[checked(_allergy, {"type": "string", "minLength": 1})], ListOf]
    medications: Annotated[list[MedicationIn], ListOf]
    conditions: Annotated[list[checked(_condition, {"type": "string", "enum": list(CONDITIONS)})], ListOf]

    def problems(self, raw: Mapping[str, Any], context: Mapping[str, Any]) -> list[str]:
        items = raw.get("allergies")
        named = [item.strip() for item in items if isinstance(item, str) and item.strip()] if isinstance(items, list) else []
        if self.allergy_status == "nkda" and named:
            return [f"{{where}}.allergy_status 'nkda' (no known drug allergies) contradicts patient.allergies {named}"]
        if self.allergy_status == "has_allergies" and not named and "allergies" in raw:
            return ["{where}.allergy_status 'has_allergies' but patient.allergies is empty: name them"]
        return []

    def to_input(self) -> PatientFacts:
        return PatientFacts(
            age=int(self.age),
            sex=self.sex,
            weight_kg=self.weight_kg,
            bmi=self.bmi,
            pregnant=self.pregnant,
            allergies=tuple(self.allergies),
            medications=tuple(Medication(m.name, m.drug_class) for m in self.medications),
            conditions=frozenset(self.conditions),
            high_bleeding_risk=self.high_bleeding_risk,
            allergy_status=self.allergy_status,
            breastfeeding=self.breastfeeding,
            inr=None if self.inr is None else InrReading(self.inr.value, self.inr.date),
        )


# ---------------------------------------------------------------------------------------------
# events, today


class EventIn(_Facts):
    not_an_object: ClassVar[str] = "{where} must be an object with type and date"

    type: _choice(EVENT_TYPES)
    date: _date("history")
    end_date: _date("history", required=False) = None

    def problems(self, raw: Mapping[str, Any], context: Mapping[str, Any]) -> list[str]:
        start, end, procedure_date = self.date, self.end_date, context.get("procedure_date")
        if start and end and end < start:
            return [f"{{where}}.end_date {end.isoformat()} is before its date {start.isoformat()}"]
        if start and procedure_date and start >= procedure_date:
            return [f"{{where}}.date {start.isoformat()} is not before the procedure date; "
                    "report the procedure day's fever, antibiotics or illness under 'today'"]
        return []

    def to_input(self) -> Event:
        return Event(self.type, self.date, self.end_date)


class TemperatureIn(_Facts):
    unit: _choice(TEMPERATURE_UNITS)
    value: _number()

    def problems(self, raw: Mapping[str, Any], context: Mapping[str, Any]) -> list[str]:
        if self.unit is None or self.value is None:
            return []
        low, high = INPUT_LIMITS.temperature_c
        if low <= Temperature(self.value, self.unit).celsius <= high:
            return []
        return [f"{{where}} {self.value} °{self.unit} is outside the plausible range {low}–{high} °C "
                f"({celsius_to_fahrenheit(low):.0f}–{celsius_to_fahrenheit(high):.0f} °F); check the unit"]


class TodayIn(_Facts):
    feels_unwell: _boolean()
    on_antibiotics: _boolean()
    infection_at_site: _boolean()
    blood_glucose_mg_dl: _number(INPUT_LIMITS.blood_glucose_mg_dl, required=False) = None
    temperature: TemperatureIn = None

    def to_input(self) -> TodayFacts:
        temperature = None if self.temperature is None else Temperature(self.temperature.value, self.temperature.unit)
        return TodayFacts(self.feels_unwell, self.on_antibiotics, self.infection_at_site, temperature,
                          self.blood_glucose_mg_dl)


# ---------------------------------------------------------------------------------------------
# plan


class ScreeningSiteIn(_Facts):
    not_an_object: ClassVar[str] = "{where} must be an object with muscle and side"

    muscle: checked(_muscle, {"type": "string", "description": "An atlas muscle id."}, str)
    side: _choice(SIDES)


def _once_named(check: Any) -> Any:
    """An injectate's other facts are read only once its drug is named."""

    def only_if_named(value: Any, info: ValidationInfo) -> Any:
        return None if (info.context or {}).get("drug") is None else check(value)

    return only_if_named


class InjectateIn(_Facts):
    not_an_object: ClassVar[str] = "{where} must be an object with drug"
    shares: ClassVar[tuple[str, ...]] = ("drug",)

    drug: checked(_text, {"type": "string", "description": "A drug id or any of its synonyms."}, str)
    with_epinephrine: checked(_once_named(_bool), {"type": "boolean"}, bool | None) = None
    vial: checked(_once_named(lambda value: _one_of(value, VIAL_KINDS)),
                  {"type": "string", "enum": list(VIAL_KINDS)}, str | None) = None

    def problems(self, raw: Mapping[str, Any], context: Mapping[str, Any]) -> list[str]:
        drugs = catalogue(context, "drugs", load_drugs)
        if self.drug is None or drugs.resolve(self.drug) is not None:
            return []
        return [f"{{where}}.drug {self.drug!r} is not a known drug; allowed: {', '.join(drugs.ids)}"]


def _named_drugs(raw: Any, drugs: DrugCatalog) -> list[Any]:
    """The raw injectates that name a known drug (each is planned even when another fact of it is wrong)."""
    items = raw if isinstance(raw, list) else ()
    return [item for item in items if isinstance(item, Mapping) and isinstance(item.get("drug"), str)
            and item["drug"].strip() and drugs.resolve(item["drug"].strip()) is not None]


def _sites(value: Any) -> list:
    if _list_of(value) == []:
        raise problem("{where} must name at least one muscle and side")
    return value


class PlanIn(_Facts):
    problems_after: ClassVar[str] = "technique"

    sites: Annotated[list[ScreeningSiteIn], BeforeValidator(_sites)]
    injectates: Annotated[list[InjectateIn], ListOf]
    guidance: _choice(GUIDANCES)
    technique: _choice(TECHNIQUES) = "injection"
    trigger_points_documented: _boolean(required=False) = None

    def problems(self, raw: Mapping[str, Any], context: Mapping[str, Any]) -> list[str]:
        found = []
        if raw.get("technique") is None and raw.get("injectates") == [] and isinstance(raw.get("injectates"), list):
            found.append("{where}.injectates is empty: name at least one drug, or set plan.technique to 'dry_needling'")
        if self.technique == "dry_needling" and _named_drugs(raw.get("injectates"), catalogue(context, "drugs", load_drugs)):
            found.append("{where}.technique 'dry_needling' injects nothing, but plan.injectates names drugs")
        return found

    def to_input(self, drugs: DrugCatalog) -> PlanFacts:
        return PlanFacts(
            tuple(PlannedSite(site.muscle, site.side) for site in self.sites),
            tuple(PlannedInjectate(drugs.resolve(row.drug).id, row.with_epinephrine, row.vial) for row in self.injectates),
            self.guidance,
            self.technique,
            self.trigger_points_documented,
        )


# ---------------------------------------------------------------------------------------------
# history and the whole request


class ScreeningHistoryIn(_Facts):
    steroid_injections_last_12_months: _number(INPUT_LIMITS.steroid_injections, whole=True, required=False) = None
    steroid_injections_in_series: _number(INPUT_LIMITS.steroid_injections, whole=True, required=False) = None
    last_botulinum_toxin_date: _date("history", required=False) = None

    def to_input(self) -> HistoryFacts:
        whole = (None if n is None else int(n) for n in (self.steroid_injections_last_12_months,
                                                         self.steroid_injections_in_series))
        return HistoryFacts(*whole, last_botulinum_toxin_date=self.last_botulinum_toxin_date)


class ScreeningRequestIn(_Facts):
    """The facts of one planned session: when, the patient, recent events, today's health, the plan, history."""

    not_an_object: ClassVar[str] = "the request body must be a JSON object"
    shares: ClassVar[tuple[str, ...]] = ("procedure_date",)

    procedure_date: _date("scheduled")
    patient: Annotated[ScreeningPatientIn, Section]
    events: Annotated[list[EventIn], ListOf]
    today: Annotated[TodayIn, Section]
    plan: Annotated[PlanIn, Section]
    history: ScreeningHistoryIn = None

    def problems(self, raw: Mapping[str, Any], context: Mapping[str, Any]) -> list[str]:
        # The patient's facts are read when its required ones are (other patient problems notwithstanding).
        patient = raw.get("patient")
        required = ("age", "sex", "weight_kg", "pregnant", "high_bleeding_risk", "allergy_status")
        read = all(_quiet(ScreeningPatientIn, name, patient, context) is not None for name in required)
        inr = _quiet(ScreeningPatientIn, "inr", patient, context) if read else None
        found = []
        for label, day in (
            ("patient.inr.date", inr.date if inr else None),
            ("history.last_botulinum_toxin_date", _quiet(ScreeningHistoryIn, "last_botulinum_toxin_date", raw.get("history"), context)),
        ):
            if day is not None and self.procedure_date is not None and day > self.procedure_date:
                found.append(f"{label} {day.isoformat()} is after the procedure date {self.procedure_date.isoformat()}")
        return found

    def to_input(self, drugs: DrugCatalog | None = None) -> ScreeningInput:
        drugs = drugs or load_drugs()
        history = HistoryFacts() if self.history is None else self.history.to_input()
        return ScreeningInput(self.procedure_date, self.patient.to_input(), tuple(e.to_input() for e in self.events),
                              self.today.to_input(), self.plan.to_input(drugs), history)


class _PlanOnly(_Facts):
    plan: PlanIn


def parse_screening_request(payload: Any, *, atlas: Atlas | None = None, drugs: DrugCatalog | None = None) -> ScreeningInput:
    """A `screening/evaluate` body as typed facts; `RuleInputError` lists every missing or invalid fact
    and every unknown drug, muscle, unit or code with the allowed values."""
    drugs = drugs or load_drugs()
    return parse(ScreeningRequestIn, payload, atlas=atlas, drugs=drugs).to_input(drugs)


def parse_plan(payload: Any, *, atlas: Atlas | None = None, drugs: DrugCatalog | None = None) -> PlanFacts:
    """A stored or submitted plan (the contract's ``plan`` object) on its own, e.g. before a screening
    record stores it; `RuleInputError` lists every problem."""
    if not isinstance(payload, Mapping):
        raise RuleInputError("plan must be an object with sites, injectates and guidance")
    drugs = drugs or load_drugs()
    return parse(_PlanOnly, {"plan": payload}, atlas=atlas, drugs=drugs).plan.to_input(drugs)
