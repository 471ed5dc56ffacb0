"""The `aftercare/plan` request body (ARCHITECTURE §8) as a typed contract, read into a `PlanInput`.

Every problem is listed at once (absent required fields first); the procedure date is checked
against the plausible clinical range (`core.plausible`). The catalogues come from the validation
context when given (tests, callers), else the shipped ones. Pure: pydantic, no Django, ORM or HTTP.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, ClassVar

from pydantic import BeforeValidator, Field, ValidationInfo

from triggerpoint.aftercare.plan_input import (
    AtlasCatalog,
    DrugCatalog,
    PlanInput,
    Site,
    _default_atlas,
    _default_drugs,
)
from triggerpoint.aftercare.plan_template import SUPPORTED_LANGUAGES, PlanTemplate, load_template
from triggerpoint.core import plausible
from triggerpoint.core.choices import SIDES
from triggerpoint.core.contracts import Contract, catalogue, checked, parse, problem

ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _date(value: Any) -> date:
    if not isinstance(value, str) or not ISO_DATE.match(value):
        raise problem(f"{{where}}: expected a date as YYYY-MM-DD, got {value!r}")
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise problem(f"{{where}}: {value!r} is not a real calendar date") from None
    implausible = plausible.problem("scheduled", day)
    if implausible:  # a plan runs weeks past the date: year 9999 would overflow
        raise problem(f"{{where}}: {implausible}")
    return day


def _muscle(value: Any, info: ValidationInfo) -> str:
    atlas = catalogue(info.context or {}, "atlas", _default_atlas)
    if not isinstance(value, str) or not value:
        raise problem("{where}: required")
    if not atlas.has_muscle(value):
        raise problem(f"{{where}}: unknown muscle {value!r}; allowed {sorted(atlas.muscles)}")
    return value


def _side(value: Any) -> str:
    if value not in SIDES:
        raise problem(f"{{where}}: expected one of {list(SIDES)}, got {value!r}")
    return value


class PlanSiteIn(Contract):
    """One treated muscle on one side (bilateral treatment is two sites)."""

    not_an_object: ClassVar[str] = "{where}: expected an object with muscle and side"
    unknown_fields: ClassVar[str] = "{where}: unknown fields {unknown}; allowed {fields}"

    muscle: checked(_muscle, {"type": "string", "description": "An atlas muscle id."}, str)
    side: checked(_side, {"type": "string", "enum": list(SIDES)}, str)


def _sites(value: Any) -> list:
    if not isinstance(value, list) or not value:
        raise problem("{where}: expected a non-empty list of {muscle, side}")
    return value


def _injectate(value: Any, info: ValidationInfo) -> str:
    """One ``{drug}`` (an id or any synonym) as its drug id."""
    drugs = catalogue(info.context or {}, "drugs", _default_drugs)
    name = value.get("drug") if isinstance(value, dict) else None
    if not isinstance(name, str) or not name.strip():
        raise problem("{where}.drug: required (a drug id or name)")
    drug = drugs.resolve(name)
    if drug is None:
        raise problem(f"{{where}}.drug: unknown drug {name!r}; allowed {sorted(drugs.ids)}")
    return drug.id


def _injectates(value: Any) -> list:
    # An empty list is a real answer (dry needling injects nothing); a missing key is not.
    if not isinstance(value, list):
        raise problem("{where}: expected a list of {drug} (empty for dry needling)")
    return value


def _patient(value: Any, info: ValidationInfo) -> frozenset[str]:
    """``{conditions: [...]}`` as the known condition ids; an unknown id is refused, not ignored
    (a misspelt "diabetis" must not silently drop the glucose note)."""
    if not isinstance(value, dict):
        raise problem("{where}: expected an object with conditions (a list, empty if none)")
    conditions = value.get("conditions")
    if not isinstance(conditions, list) or not all(isinstance(item, str) for item in conditions):
        raise problem("{where}.conditions: expected a list of condition ids (empty if none)")
    known = catalogue(info.context or {}, "template", load_template).conditions
    unknown = sorted(set(conditions) - set(known))
    if unknown:
        raise problem(f"{{where}}.conditions: unknown {unknown}; allowed {sorted(known)}")
    return frozenset(conditions)


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise problem(f"{{where}}: expected true or false, got {value!r}")
    return value


def _text(value: Any) -> str | None:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise problem("{where}: expected non-empty text")
    return value


class ClinicIn(Contract):
    """The clinic named on the plan (default: the caller's)."""

    name: checked(_text, {"type": "string", "minLength": 1}, str | None) = None
    phone: checked(_text, {"type": "string", "minLength": 1}, str | None) = None


def _clinic(value: Any) -> Any:
    if not isinstance(value, dict) or set(value) - {"name", "phone"}:
        raise problem("{where}: expected an object with optional name and phone")
    return value


def _language(value: Any) -> str:
    if value not in SUPPORTED_LANGUAGES:
        raise problem(f"{{where}}: expected one of {list(SUPPORTED_LANGUAGES)}, got {value!r}")
    return value


class PlanRequestIn(Contract):
    """A procedure's date, treated sites, injectates and patient conditions; optionally physical
    therapy, the clinic and the language of the plan."""

    not_an_object: ClassVar[str] = "expected a JSON object"
    unknown_fields: ClassVar[str] = "{where}: unknown fields {unknown}; allowed {fields}"
    missing: ClassVar[str] = "{name}: required"
    null_is_absent: ClassVar[tuple[str, ...]] = ("clinic",)

    procedure_date: checked(_date, {"type": "string", "format": "date"}, date)
    sites: Annotated[list[PlanSiteIn], BeforeValidator(_sites), Field(min_length=1)]
    injectates: Annotated[list[checked(_injectate, {"type": "object", "properties": {"drug": {"type": "string"}},
                                                    "required": ["drug"]}, str)], BeforeValidator(_injectates)]
    patient: checked(_patient, {"type": "object", "properties": {"conditions": {"type": "array",
                                                                                "items": {"type": "string"}}},
                                "required": ["conditions"]}, frozenset[str])
    physical_therapy_planned: checked(_flag, {"type": "boolean"}, bool) = False
    clinic: Annotated[ClinicIn, BeforeValidator(_clinic)] = None
    language: checked(_language, {"type": "string", "enum": list(SUPPORTED_LANGUAGES)}, str) = "en"

    def to_input(self) -> PlanInput:
        sites = tuple(dict.fromkeys(Site(muscle=site.muscle, side=site.side) for site in self.sites))
        return PlanInput(
            procedure_date=self.procedure_date,
            sites=sites,
            injectates=tuple(dict.fromkeys(self.injectates)),
            conditions=self.patient,
            physical_therapy_planned=self.physical_therapy_planned,
            clinic_name=None if self.clinic is None else self.clinic.name,
            clinic_phone=None if self.clinic is None else self.clinic.phone,
            language=self.language,
        )


def parse_plan_request(
    payload: Any,
    *,
    atlas: AtlasCatalog | None = None,
    drugs: DrugCatalog | None = None,
    template: PlanTemplate | None = None,
) -> PlanInput:
    """An ``aftercare/plan`` body as its typed input; `RuleInputError` lists every problem (missing
    fields, bad dates, unknown muscles, drugs or conditions with their allowed values)."""
    return parse(PlanRequestIn, payload, atlas=atlas, drugs=drugs, template=template).to_input()

