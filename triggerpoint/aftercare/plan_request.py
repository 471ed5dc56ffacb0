"""Reading the `aftercare/plan` JSON contract (ARCHITECTURE §8) into a `PlanInput`.

Every problem is listed at once; the procedure date is checked against the plausible
clinical range (`core.plausible`). The catalogues are structural types, so tests and
callers can pass their own. Pure: no Django, ORM or HTTP.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from triggerpoint.aftercare.plan_template import SUPPORTED_LANGUAGES, PlanTemplate, load_template
from triggerpoint.core import plausible
from triggerpoint.core.choices import SIDES
from triggerpoint.core.rules import RuleInputError

REQUEST_FIELDS = (
    "procedure_date",
    "sites",
    "injectates",
    "patient",
    "physical_therapy_planned",
    "clinic",
    "language",
)


ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class _Stretch(Protocol):
    id: str
    name: str
    instructions: str


class _Muscle(Protocol):
    id: str
    name: str
    pneumothorax_risk: bool
    stretches: tuple[_Stretch, ...]


class AtlasCatalog(Protocol):
    muscles: Mapping[str, Any]

    def muscle(self, muscle_id: str) -> _Muscle: ...

    def has_muscle(self, muscle_id: str) -> bool: ...


class _Drug(Protocol):
    id: str
    name: str
    drug_class: str


class DrugCatalog(Protocol):
    @property
    def ids(self) -> tuple[str, ...]: ...

    def get(self, drug_id: str) -> _Drug: ...

    def resolve(self, name_or_synonym: str) -> _Drug | None: ...


def _default_atlas() -> AtlasCatalog:
    from triggerpoint.atlas.catalog import load_atlas

    return load_atlas()


def _default_drugs() -> DrugCatalog:
    from triggerpoint.catalogues.drugs import load_drugs

    return load_drugs()


@dataclass(frozen=True)
class Site:
    """One treated muscle on one side (bilateral treatment is two sites)."""

    muscle: str
    side: str


@dataclass(frozen=True)
class PlanInput:
    procedure_date: date
    sites: tuple[Site, ...]
    injectates: tuple[str, ...]  # drug ids, each once, in the order given
    conditions: frozenset[str] = frozenset()
    physical_therapy_planned: bool = False
    clinic_name: str | None = None
    clinic_phone: str | None = None
    language: str = "en"


def _parse_date(value: Any, where: str, problems: list[str]) -> date | None:
    if not isinstance(value, str) or not ISO_DATE.match(value):
        problems.append(f"{where}: expected a date as YYYY-MM-DD, got {value!r}")
        return None
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        problems.append(f"{where}: {value!r} is not a real calendar date")
        return None
    implausible = plausible.problem("scheduled", parsed)
    if implausible:  # a plan runs weeks past the date: year 9999 would overflow
        problems.append(f"{where}: {implausible}")
        return None
    return parsed


def _parse_sites(value: Any, atlas: AtlasCatalog, problems: list[str]) -> tuple[Site, ...]:
    if not isinstance(value, list) or not value:
        problems.append("sites: expected a non-empty list of {muscle, side}")
        return ()
    sites: list[Site] = []
    for index, raw in enumerate(value):
        where = f"sites[{index}]"
        if not isinstance(raw, dict):
            problems.append(f"{where}: expected an object with muscle and side")
            continue
        extra = sorted(set(raw) - {"muscle", "side"})
        if extra:
            problems.append(f"{where}: unknown fields {extra}; allowed ['muscle', 'side']")
        muscle, side = raw.get("muscle"), raw.get("side")
        ok = True
        if not isinstance(muscle, str) or not muscle:
            problems.append(f"{where}.muscle: required")
            ok = False
        elif not atlas.has_muscle(muscle):
            problems.append(f"{where}.muscle: unknown muscle {muscle!r}; allowed {sorted(atlas.muscles)}")
            ok = False
        if side not in SIDES:
            problems.append(f"{where}.side: expected one of {list(SIDES)}, got {side!r}")
            ok = False
        if ok:
            site = Site(muscle=muscle, side=side)
            if site not in sites:
                sites.append(site)
    return tuple(sites)


def _parse_injectates(value: Any, drugs: DrugCatalog, problems: list[str]) -> tuple[str, ...]:
    # An empty list is a real answer (dry needling injects nothing); a missing key is not.
    if not isinstance(value, list):
        problems.append("injectates: expected a list of {drug} (empty for dry needling)")
        return ()
    drug_ids: list[str] = []
    for index, raw in enumerate(value):
        where = f"injectates[{index}]"
        name = raw.get("drug") if isinstance(raw, dict) else None
        if not isinstance(name, str) or not name.strip():
            problems.append(f"{where}.drug: required (a drug id or name)")
            continue
        drug = drugs.resolve(name)
        if drug is None:
            problems.append(f"{where}.drug: unknown drug {name!r}; allowed {sorted(drugs.ids)}")
            continue
        if drug.id not in drug_ids:
            drug_ids.append(drug.id)
    return tuple(drug_ids)


def _parse_conditions(value: Any, template: PlanTemplate, problems: list[str]) -> frozenset[str]:
    if not isinstance(value, dict):
        problems.append("patient: expected an object with conditions (a list, empty if none)")
        return frozenset()
    conditions = value.get("conditions")
    if not isinstance(conditions, list) or not all(isinstance(item, str) for item in conditions):
        problems.append("patient.conditions: expected a list of condition ids (empty if none)")
        return frozenset()
    # An unknown id is refused, not ignored: a misspelt "diabetis" must not silently drop the glucose note.
    unknown = sorted(set(conditions) - set(template.conditions))
    if unknown:
        problems.append(f"patient.conditions: unknown {unknown}; allowed {sorted(template.conditions)}")
    return frozenset(conditions) & frozenset(template.conditions)


def _parse_clinic(value: Any, problems: list[str]) -> tuple[str | None, str | None]:
    if value is None:
        return None, None
    if not isinstance(value, dict) or set(value) - {"name", "phone"}:
        problems.append("clinic: expected an object with optional name and phone")
        return None, None
    name, phone = value.get("name"), value.get("phone")
    for key, item in (("name", name), ("phone", phone)):
        if item is not None and (not isinstance(item, str) or not item.strip()):
            problems.append(f"clinic.{key}: expected non-empty text")
    return (name if isinstance(name, str) else None), (phone if isinstance(phone, str) else None)


def parse_plan_request(
    payload: Any,
    *,
    atlas: AtlasCatalog | None = None,
    drugs: DrugCatalog | None = None,
    template: PlanTemplate | None = None,
) -> PlanInput:
    """Validate an ``aftercare/plan`` request body and return its typed input.

    Raises `RuleInputError` listing every problem (missing fields, bad dates, unknown
    muscles, drugs or conditions with their allowed values). ``physical_therapy_planned``
    (default false), ``clinic`` {name, phone} and ``language`` (default "en") are optional
    additions to the contract.
    """
    if not isinstance(payload, dict):
        raise RuleInputError("expected a JSON object")
    atlas = atlas if atlas is not None else _default_atlas()
    drugs = drugs if drugs is not None else _default_drugs()
    template = template if template is not None else load_template()
    problems: list[str] = []

    unknown_fields = sorted(set(payload) - set(REQUEST_FIELDS))
    if unknown_fields:
        problems.append(f"unknown fields {unknown_fields}; allowed {list(REQUEST_FIELDS)}")
    for required in ("procedure_date", "sites", "injectates", "patient"):
        if required not in payload:
            problems.append(f"{required}: required")

    procedure_date = (
        _parse_date(payload.get("procedure_date"), "procedure_date", problems)
        if ("procedure_date" in payload)
        else None
    )
    sites = _parse_sites(payload.get("sites"), atlas, problems) if "sites" in payload else ()
    injectates = (
        _parse_injectates(payload.get("injectates"), drugs, problems) if "injectates" in payload else ()
    )
    conditions = (
        _parse_conditions(payload.get("patient"), template, problems) if "patient" in payload else frozenset()
    )

    physical_therapy_planned = payload.get("physical_therapy_planned", False)
    if not isinstance(physical_therapy_planned, bool):
        problems.append(f"physical_therapy_planned: expected true or false, got {physical_therapy_planned!r}")
    clinic_name, clinic_phone = _parse_clinic(payload.get("clinic"), problems)
    language = payload.get("language", "en")
    if language not in SUPPORTED_LANGUAGES:
        problems.append(f"language: expected one of {list(SUPPORTED_LANGUAGES)}, got {language!r}")

    if problems:
        raise RuleInputError(problems)
    assert procedure_date is not None  # guaranteed: a missing or bad date was a problem above
    return PlanInput(
        procedure_date=procedure_date,
        sites=sites,
        injectates=injectates,
        conditions=conditions,
        physical_therapy_planned=physical_therapy_planned,
        clinic_name=clinic_name,
        clinic_phone=clinic_phone,
        language=language,
    )

