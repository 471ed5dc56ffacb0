"""The calculators' request bodies as typed contracts: ``POST /procedures/dose-check`` and ``/procedures/codes``.

Field names are the stable domain contracts of ARCHITECTURE §8. Each body parses to the
pure rule modules' input dataclasses (`dosing.DoseCheckInput`, `coding.CodesInput`); a bad
body is a `RuleInputError` listing every problem (see `core.contracts`). Drugs may be named by id
or any synonym and are stored by id; muscles are atlas ids. Dates a client sends are checked
against the plausible clinical windows (`core.plausible`): a weight is a recorded fact, a
service date a scheduled clinical event.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, ClassVar

from pydantic import BeforeValidator, Field, ValidationInfo

from triggerpoint.core import plausible
from triggerpoint.core.choices import GUIDANCES, SIDES, TECHNIQUES
from triggerpoint.core.contracts import Contract, catalogue, checked, parse, problem
from triggerpoint.procedures.code_tables import load_code_tables
from triggerpoint.procedures.coding import (
    CodesInput,
    CodingInjectate,
    SessionHistory,
    Site,
    _default_atlas,
    normalise_ndc,
)
from triggerpoint.procedures.diagnosis_codes import ICD10_PATTERN
from triggerpoint.procedures.dosing import MG_PER_ML_PER_PERCENT, DoseCheckInput, DoseInjectate
from triggerpoint.procedures.drugs import load_drugs
from triggerpoint.procedures.max_doses import as_decimal, load_max_doses

MASS_DOSED_CLASSES = frozenset({"amide_local_anesthetic", "ester_local_anesthetic", "corticosteroid", "magnesium"})
NUMBER = {"type": "number", "exclusiveMinimum": 0}
DATE = {"type": "string", "format": "date"}


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


# ---------------------------------------------------------------------------------------------
# Field checks (each raises the house's sentence for its field)


def _number(value: Any, info: ValidationInfo) -> Decimal:
    """A number > 0 as written (dose check): missing, non-number, non-finite and ≤ 0 each say so."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise problem("{where} must be a number" + (" (missing)" if value is None else f", got {value!r}"))
    if isinstance(value, float) and not math.isfinite(value):
        raise problem("{where} must be a finite number")
    if as_decimal(value) <= 0:
        raise problem(f"{{where}} must be greater than 0, got {value!r}")
    return as_decimal(value)


def _optional_number(value: Any, info: ValidationInfo) -> Decimal | None:
    return None if value is None else _number(value, info)


def _billed_amount(value: Any) -> Decimal | None:
    """A dose for the coder: a number > 0 (None when not given)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value or value <= 0:
        raise problem(f"{{where}} must be a number greater than 0, got {value!r}")
    return Decimal(str(value))


def _discarded(value: Any) -> Decimal | None:
    return Decimal(0) if value == 0 else _billed_amount(value)


def _date(kind: str) -> Any:
    def check(value: Any) -> date | None:
        if value is None:
            return None
        try:
            day = date.fromisoformat(value)
        except (TypeError, ValueError):
            raise problem(f"{{where}} must be a date YYYY-MM-DD, got {value!r}") from None
        reason = plausible.problem(kind, day)
        if reason:
            raise problem(f"{{where}} {reason}")
        return day

    return check


def _choice(values: tuple[str, ...]) -> Any:
    def check(value: Any) -> str:
        if value not in values:
            raise problem(f"{{where}} must be one of {list(values)}, got {value!r}")
        return value

    return checked(check, {"type": "string", "enum": list(values)}, str)


def _whole(minimum: int) -> Any:
    def check(value: Any) -> int | None:
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < minimum):
            raise problem(f"{{where}} must be a whole number of at least {minimum}, got {value!r}")
        return value

    return checked(check, nullable({"type": "integer", "minimum": minimum}), int | None)


def catalogue_drug(value: Any, info: ValidationInfo) -> Any:
    """A field check: the catalogue drug a name or synonym resolves to (shared by the calculators and the note)."""
    drugs = catalogue(info.context or {}, "drugs", load_drugs)
    drug = drugs.resolve(value) if isinstance(value, str) else None
    if drug is None:
        raise problem(f"{{where}}: unknown drug {value!r}; allowed: {list(drugs.ids)}")
    return drug


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise problem("{where} must be true or false")
    return value


def _list(message: str, non_empty: bool = False) -> BeforeValidator:
    def check(value: Any) -> list:
        if not isinstance(value, list) or (non_empty and not value):
            raise problem(message)
        return value

    return BeforeValidator(check)


Drug = checked(catalogue_drug, {"type": "string", "description": "A drug id or any of its synonyms (stored by id)."})
DoseNumber = checked(_number, NUMBER, Decimal)
OptionalDoseNumber = checked(_optional_number, nullable(NUMBER), Decimal | None)
BilledAmount = checked(_billed_amount, nullable(NUMBER), Decimal | None)


# ---------------------------------------------------------------------------------------------
# POST /procedures/dose-check


class DoseInjectateIn(Contract):
    """One syringe/row: a drug, its concentration (percent or mg/mL; units/mL for toxins) and the volume given."""

    drug: Drug
    volume_ml: DoseNumber
    concentration_percent: OptionalDoseNumber = None
    concentration_mg_per_ml: OptionalDoseNumber = None
    concentration_units_per_ml: OptionalDoseNumber = None
    with_epinephrine: checked(_flag, {"type": "boolean"}, bool) = False

    def problems(self, raw: Mapping[str, Any], context: Mapping[str, Any]) -> list[str]:
        found = []
        has = {name: raw.get(name) is not None for name in ("concentration_percent", "concentration_mg_per_ml",
                                                             "concentration_units_per_ml")}
        has_mass = has["concentration_percent"] or has["concentration_mg_per_ml"]
        if has["concentration_percent"] and has["concentration_mg_per_ml"]:
            found.append("{where}: give concentration_percent or concentration_mg_per_ml, not both")
        drug = self.drug
        if drug is None:
            return found
        if drug.drug_class in MASS_DOSED_CLASSES and not has_mass:
            found.append(f"{{where}}: {drug.id} needs concentration_percent or concentration_mg_per_ml")
        if drug.drug_class in MASS_DOSED_CLASSES | {"saline"} and has["concentration_units_per_ml"]:
            found.append(f"{{where}}: {drug.id} is dosed in mg, not units; drop concentration_units_per_ml")
        if drug.drug_class == "botulinum_toxin":
            if not has["concentration_units_per_ml"]:
                found.append(f"{{where}}: {drug.id} needs concentration_units_per_ml (toxins are dosed in units)")
            if has_mass:
                found.append(f"{{where}}: {drug.id} is dosed in units, not mg or percent")
        max_doses = catalogue(context, "max_doses", load_max_doses)
        if self.with_epinephrine and not max_doses.has_epinephrine_row(drug.id):
            found.append(f"{{where}}: {drug.id} has no with-epinephrine maximum; with_epinephrine must be false")
        return found

    def to_input(self) -> DoseInjectate:
        mg = self.concentration_mg_per_ml
        if self.concentration_percent is not None:
            mg = self.concentration_percent * MG_PER_ML_PER_PERCENT
        return DoseInjectate(
            drug=self.drug.id,
            volume_ml=self.volume_ml,
            concentration_mg_per_ml=mg,
            concentration_units_per_ml=self.concentration_units_per_ml,
            with_epinephrine=self.with_epinephrine,
        )


class DoseCheckIn(Contract):
    """The patient's weight (without one the check asks for it) and the session's injectates."""

    not_an_object: ClassVar[str] = "the request must be a JSON object"

    weight_kg: OptionalDoseNumber = None
    weight_measured_on: checked(_date("recorded"), nullable(DATE), date | None) = None
    injectates: Annotated[list[DoseInjectateIn], _list("{where} must be a non-empty list", non_empty=True),
                          Field(min_length=1)]

    def to_input(self) -> DoseCheckInput:
        return DoseCheckInput(
            weight_kg=self.weight_kg,
            injectates=tuple(row.to_input() for row in self.injectates),
            weight_measured_on=self.weight_measured_on,
        )


def parse_dose_request(payload: Any, drugs: Any = None, max_doses: Any = None) -> DoseCheckInput:
    """The ``procedures/dose-check`` body as a `DoseCheckInput`; `RuleInputError` lists every problem.

    A missing ``weight_kg`` is not an input error: the check itself then asks for a weight.
    """
    return parse(DoseCheckIn, payload, drugs=drugs, max_doses=max_doses).to_input()


# ---------------------------------------------------------------------------------------------
# POST /procedures/codes


def _muscle(value: Any, info: ValidationInfo) -> str:
    atlas = catalogue(info.context or {}, "atlas", _default_atlas)
    if not isinstance(value, str) or not atlas.has_muscle(value):
        raise problem(f"{{where}}: unknown muscle {value!r} (use an atlas muscle id)")
    return value


def _ndc(value: Any) -> str:
    if not value:
        return ""
    try:
        return normalise_ndc(str(value))
    except ValueError as error:
        raise problem(f"{{where}}: {error}") from None


def _vial(value: Any) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise problem("{where} must be true, false or null")
    return value


def _payer(value: Any, info: ValidationInfo) -> str | None:
    payers = catalogue(info.context or {}, "tables", load_code_tables).payers
    if value is not None and (not isinstance(value, str) or value not in payers):
        raise problem(f"{{where}}: unknown payer {value!r}; allowed: {sorted(payers)}")
    return value


def _diagnosis(value: Any) -> str:
    code = value.strip().upper() if isinstance(value, str) else None
    if code is None or not ICD10_PATTERN.match(code):
        raise problem(f"{{where}}: {value!r} is not an ICD-10-CM code like M79.18")
    return code


class CodesSiteIn(Contract):
    """One muscle on one side, treated with one technique (bilateral = two sites)."""

    muscle: checked(_muscle, {"type": "string", "description": "An atlas muscle id."}, str)
    side: _choice(SIDES)
    technique: _choice(TECHNIQUES)
    insertions: _whole(1) = None


class CodingInjectateIn(Contract):
    """One drug given: mg (or units for toxins); for single-dose vials the amount discarded and the NDC."""

    problems_after: ClassVar[str] = "dose_units"

    drug: Drug
    dose_mg: BilledAmount = None
    dose_units: BilledAmount = None
    single_dose_vial: checked(_vial, nullable({"type": "boolean"}), bool | None) = None
    discarded: checked(_discarded, nullable({"type": "number", "minimum": 0}), Decimal | None) = None
    ndc: checked(_ndc, nullable({"type": "string", "description": "11-digit 5-4-2 or hyphenated 10-digit NDC."}),
                 str) = ""

    def problems(self, raw: Mapping[str, Any], context: Mapping[str, Any]) -> list[str]:
        mg, units, drug = raw.get("dose_mg") is not None, raw.get("dose_units") is not None, self.drug
        if mg and units:
            return ["{where}: give dose_mg or dose_units, not both"]
        if drug is None:
            return []
        toxin = drug.drug_class == "botulinum_toxin"
        return [
            message
            for wrong, message in (
                (toxin and not units, f"{{where}}: {drug.id} needs dose_units (toxins are billed in units)"),
                (drug.drug_class == "corticosteroid" and not mg,
                 f"{{where}}: {drug.id} needs dose_mg (corticosteroids are billed by mg)"),
                (drug.drug_class in MASS_DOSED_CLASSES | {"saline"} and units, f"{{where}}: {drug.id} is dosed in mg, not units"),
                (toxin and mg, f"{{where}}: {drug.id} is dosed in units, not mg"),
            )
            if wrong
        ]

    def to_input(self) -> CodingInjectate:
        return CodingInjectate(drug=self.drug.id, dose_mg=self.dose_mg, dose_units=self.dose_units,
                               single_dose_vial=self.single_dose_vial, discarded=self.discarded, ndc=self.ndc)


class CodesHistoryIn(Contract):
    """What the payer rules need about earlier sessions (null = not known)."""

    sessions_last_12_months: _whole(0) = None
    sessions_same_region_last_12_months: _whole(0) = None
    days_since_same_region: _whole(0) = None


class CodesIn(Contract):
    """One session to code: its sites, guidance, injectates, payer, diagnoses, service date and payer history."""

    not_an_object: ClassVar[str] = "the request must be a JSON object"

    sites: Annotated[list[CodesSiteIn], _list("{where} must be a non-empty list", non_empty=True), Field(min_length=1)]
    guidance: _choice(GUIDANCES)
    injectates: Annotated[list[CodingInjectateIn], _list("{where} must be a list")] = Field(default_factory=list)
    payer: checked(_payer, nullable({"type": "string", "description": "A payer id; default: the clinic's."}),
                   str | None) = None
    diagnoses: Annotated[list[checked(_diagnosis, {"type": "string", "description": "ICD-10-CM, e.g. M79.18"}, str)],
                         _list("{where} must be a list of ICD-10-CM codes")] = Field(default_factory=list)
    service_date: checked(_date("scheduled"), nullable(DATE), date | None) = None
    history: Annotated[CodesHistoryIn, BeforeValidator(lambda value: {} if value is None else value)] = Field(
        default_factory=lambda: CodesHistoryIn.model_validate({})
    )

    def to_input(self) -> CodesInput:
        return CodesInput(
            sites=tuple(Site(muscle=s.muscle, side=s.side, technique=s.technique, insertions=s.insertions)
                        for s in self.sites),
            guidance=self.guidance,
            injectates=tuple(row.to_input() for row in self.injectates),
            payer=self.payer,
            diagnoses=tuple(self.diagnoses),
            service_date=self.service_date,
            history=SessionHistory(**self.history.model_dump()),
        )


def parse_codes_request(payload: Any, atlas: Any = None, drugs: Any = None, tables: Any = None) -> CodesInput:
    """The ``procedures/codes`` body as `CodesInput`, listing every problem at once."""
    return parse(CodesIn, payload, root="request", atlas=atlas, drugs=drugs, tables=tables).to_input()
