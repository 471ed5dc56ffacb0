"""The procedure note as a typed JSON contract: what the editor autosaves and ``PUT …/notes/{id}`` takes.

A draft may be incomplete (a mix component without its concentration yet) but not
malformed: every problem is listed at once, unknown muscle and drug ids with the allowed
values (see `contract`). The editor posts form values, so numbers and yes/no answers may
come as strings, and a blank answer is no answer. Dates are checked against the plausible
clinical windows (`core.plausible`): the procedure date is a scheduled clinical event, a
vial's expiry a product date. `draft.completeness_problems` says what signing needs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import date, time
from decimal import Decimal
from typing import Annotated, Any, ClassVar

from pydantic import BeforeValidator, Field, ValidationInfo

from triggerpoint.core import plausible
from triggerpoint.core.contracts import Contract, catalogue, checked, parse, problem
from triggerpoint.procedures.code_tables import load_code_tables
from triggerpoint.procedures.coding import _default_atlas, normalise_ndc
from triggerpoint.procedures.note import (
    COMPLICATIONS,
    DISCHARGE_CONDITIONS,
    GAUGE_RANGE,
    GUIDANCES,
    INSERTIONS_RANGE,
    MASS_DOSED_CLASSES,
    MAX_SITES,
    MAX_VOLUME_ML,
    NEEDLE_LENGTH_MM_RANGE,
    NRS_RANGE,
    OBSERVATION_MINUTES_RANGE,
    SIDES,
    SITE_MARKED,
    SKIN_PREP_AGENTS,
    STERILE_TECHNIQUES,
    TECHNIQUES,
    UNIT_DOSED_CLASSES,
    YES_NO,
    MixComponent,
    NoteDocument,
    SiteEntry,
    SiteInjectate,
)
from triggerpoint.procedures.schemas import Drug

TRUE, FALSE = ("true", "on", "1"), ("false", "", "0", None)


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


# ---------------------------------------------------------------------------------------------
# Field checks (form values arrive as strings; blank is no answer)


def _positive(maximum: Decimal | None = None) -> Callable[[Any], Decimal | None]:
    def check(value: Any) -> Decimal | None:
        if value is None or value == "":
            return None
        if isinstance(value, str):
            try:
                value = Decimal(value.strip())
            except ArithmeticError:
                raise problem(f"{{where}} must be a number, got {value!r}") from None
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
            raise problem(f"{{where}} must be a number, got {value!r}")
        if isinstance(value, float) and not math.isfinite(value):
            raise problem("{where} must be a finite number")
        number = value if isinstance(value, Decimal) else Decimal(str(value))
        if not number.is_finite() or number <= 0:
            raise problem(f"{{where}} must be greater than 0, got {value!r}")
        if maximum is not None and number > maximum:
            raise problem(f"{{where}} must be at most {maximum}, got {value!r}")
        return number

    return check


def _number(maximum: Decimal | None = None) -> Any:
    """A number > 0 (≤ `maximum`), or a numeric string from a form; blank is none."""
    schema = {"type": ["number", "string"], "exclusiveMinimum": 0, **({"maximum": int(maximum)} if maximum else {})}
    return checked(_positive(maximum), nullable(schema), Decimal | None)


def _whole(bounds: tuple[int, int]) -> Any:
    low, high = bounds

    def check(value: Any) -> int | None:
        if value is None or value == "":
            return None
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise problem(f"{{where}} must be a whole number, got {value!r}")
        if not low <= value <= high:
            raise problem(f"{{where}} must be from {low} to {high}, got {value}")
        return value

    return checked(check, nullable({"type": ["integer", "string"], "minimum": low, "maximum": high}), int | None)


def _choice(values: tuple[str, ...], default: str | None = "", blank: bool = True) -> Any:
    """One of `values`; a blank (or absent) answer is `default` ("" = not answered yet; None: no default)."""

    def check(value: Any) -> str:
        if default is not None:
            value = value or default
        if not ((blank and value == "") or value in values):
            raise problem(f"{{where}} must be one of {list(values)}, got {value!r}")
        return value

    return checked(check, {"type": "string", "enum": [*values, *([""] if blank else [])]}, str)


def _date(kind: str) -> Callable[[Any], date | None]:
    def check(value: Any) -> date | None:
        if value in (None, ""):
            return None
        try:
            day = date.fromisoformat(str(value))
        except ValueError:
            raise problem(f"{{where}} must be a date YYYY-MM-DD, got {value!r}") from None
        reason = plausible.problem(kind, day)
        if reason:
            raise problem(f"{{where}} {reason}")
        return day

    return check


def _time(value: Any) -> time | None:
    if value in (None, ""):
        return None
    try:
        parsed = time.fromisoformat(str(value))
    except ValueError:
        raise problem(f"{{where}} must be a time HH:MM, got {value!r}") from None
    return parsed.replace(second=0, microsecond=0, tzinfo=None)


def _text(limit: int | None = None) -> Any:
    return checked(lambda value: (value.strip() if isinstance(value, str) else "")[:limit], {"type": "string"}, str)


def _list(message: str) -> BeforeValidator:
    def check(value: Any) -> list:
        value = value or []
        if not isinstance(value, list):
            raise problem(message)
        return value

    return BeforeValidator(check)


def _epinephrine(value: Any) -> bool:
    value = True if value in TRUE else False if value in FALSE else value
    if not isinstance(value, bool):
        raise problem("{where} must be true or false")
    return value


def _lot(value: Any) -> str:
    value = value or ""
    if not isinstance(value, str) or len(value) > 40:
        raise problem("{where} must be text of at most 40 characters")
    return value.strip()


def _ndc(value: Any) -> str:
    if value in (None, ""):
        return ""
    try:
        return normalise_ndc(str(value))
    except ValueError as error:
        raise problem(f"{{where}}: {error}") from None


def _vial(value: Any) -> bool | None:
    value = {"true": True, "on": True, "1": True, "yes": True, "false": False, "0": False, "no": False, "": None}.get(
        value, value) if isinstance(value, str) else value
    if value is not None and not isinstance(value, bool):
        raise problem("{where} must be true, false or empty")
    return value


def _discarded(value: Any) -> Decimal | None:
    return Decimal(0) if value in (0, "0", Decimal(0)) else _positive()(value)


def _muscle(value: Any, info: ValidationInfo) -> str:
    atlas = catalogue(info.context or {}, "atlas", _default_atlas)
    if not isinstance(value, str) or not atlas.has_muscle(value):
        raise problem(f"{{where}}: unknown muscle {value!r} (use an atlas muscle id)")
    return value


def _twitch(value: Any) -> bool | None:
    if isinstance(value, str):
        value = {"yes": True, "no": False, "": None, "true": True, "false": False}.get(value, value)
    if value is not None and not isinstance(value, bool):
        raise problem("{where} must be true, false or null")
    return value


def _shared_mix(value: Any) -> bool:
    if not isinstance(value, bool):
        raise problem("{where} must be true or false")
    return value


def _complication(value: Any) -> str:
    if value not in COMPLICATIONS:
        raise problem(f"complications: unknown {value!r}; allowed: {list(COMPLICATIONS)}")
    return value


def _payer(value: Any, info: ValidationInfo) -> str:
    value = value or ""
    payers = catalogue(info.context or {}, "payers", lambda: frozenset(load_code_tables().payers))
    if value and (not isinstance(value, str) or value not in payers):
        raise problem(f"{{where}}: unknown payer {value!r}; allowed: {sorted(payers)}")
    return value


def _diagnoses(value: Any) -> tuple[str, ...]:
    value = value or []
    if not isinstance(value, list) or not all(isinstance(code, str) for code in value):
        raise problem("{where} must be a list of ICD-10-CM codes")
    return tuple(code.strip().upper() for code in value if code.strip())


Number = _number()
Volume = _number(MAX_VOLUME_ML)


# ---------------------------------------------------------------------------------------------
# The contract


class DoseIn(Contract):
    """A drug at one concentration (percent, mg/mL or units/mL), with the vial's lot, expiry and billing facts."""

    drug: Drug
    concentration_percent: _number(Decimal(100)) = None
    concentration_mg_per_ml: Number = None
    concentration_units_per_ml: Number = None
    with_epinephrine: checked(_epinephrine, nullable({"type": ["boolean", "string"]}), bool) = False
    lot_number: checked(_lot, nullable({"type": "string", "maxLength": 40}), str) = ""
    expiry: checked(_date("product"), nullable({"type": "string", "format": "date"}), date | None) = None
    ndc: checked(_ndc, nullable({"type": "string"}), str) = ""
    single_dose_vial: checked(_vial, nullable({"type": ["boolean", "string"]}), bool | None) = None
    discarded: checked(_discarded, nullable({"type": ["number", "string"], "minimum": 0}), Decimal | None) = None

    def problems(self, raw: Mapping[str, Any], context: Mapping[str, Any]) -> list[tuple[str, str]]:
        percent, mg, units, drug = (self.concentration_percent, self.concentration_mg_per_ml,
                                    self.concentration_units_per_ml, self.drug)
        given = [name for name, value in (("percent", percent), ("mg/mL", mg), ("units/mL", units)) if value]
        found = []
        if len(given) > 1:
            found.append(("concentration_units_per_ml", f"{{where}}: give one concentration, not {' and '.join(given)}"))
        if drug is not None and drug.drug_class in MASS_DOSED_CLASSES and units is not None:
            found.append(("concentration_units_per_ml",
                          f"{{where}}: {drug.id} is dosed in mg; give a percent or mg/mL, not units/mL"))
        if drug is not None and drug.drug_class in UNIT_DOSED_CLASSES and (percent or mg):
            found.append(("concentration_units_per_ml", f"{{where}}: {drug.id} is dosed in units; give units/mL"))
        if self.with_epinephrine and drug is not None and not drug.is_local_anesthetic:
            found.append(("with_epinephrine", "{where}: with_epinephrine applies only to local anaesthetics"))
        return found

    def dose(self, kind: type, **amount: Any) -> Any:
        return kind(drug=self.drug.id, concentration_percent=self.concentration_percent,
                    concentration_mg_per_ml=self.concentration_mg_per_ml,
                    concentration_units_per_ml=self.concentration_units_per_ml, with_epinephrine=self.with_epinephrine,
                    lot_number=self.lot_number, expiry=self.expiry, ndc=self.ndc,
                    single_dose_vial=self.single_dose_vial, discarded=self.discarded, **amount)


class MixComponentIn(DoseIn):
    """A component of the shared mix, with the mL each site that receives the mix gets of it."""

    ml_per_site: Volume = None


class SiteInjectateIn(DoseIn):
    """An injectate of one site's own, with the volume given there."""

    volume_ml: Volume = None


class NoteSiteIn(Contract):
    """One treated muscle on one side: technique, needle, response, and the mix or its own injectates."""

    muscle: checked(_muscle, {"type": "string", "description": "An atlas muscle id."}, str)
    side: _choice(SIDES, default=None, blank=False)
    trigger_point: _text(120) = ""
    technique: _choice(TECHNIQUES, default="injection", blank=False) = "injection"
    insertions: _whole(INSERTIONS_RANGE) = None
    needle_gauge: _whole(GAUGE_RANGE) = None
    needle_length_mm: _whole(NEEDLE_LENGTH_MM_RANGE) = None
    local_twitch: checked(_twitch, nullable({"type": ["boolean", "string"]}), bool | None) = None
    immediate_response: _text(200) = ""
    uses_shared_mix: checked(_shared_mix, {"type": "boolean"}, bool) = True
    mix_volume_ml: Volume = None
    injectates: Annotated[list[SiteInjectateIn], _list("{where} must be a list")] = Field(default_factory=list)

    def problems(self, raw: Mapping[str, Any], context: Mapping[str, Any]) -> list[str]:
        if self.technique == "dry_needling" and raw.get("injectates"):
            return ["{where}: a dry-needled site receives no injectate"]
        return []

    def entry(self) -> SiteEntry:
        return SiteEntry(
            muscle=self.muscle, side=self.side, technique=self.technique, trigger_point=self.trigger_point,
            insertions=self.insertions or 1, needle_gauge=self.needle_gauge, needle_length_mm=self.needle_length_mm,
            local_twitch=self.local_twitch, immediate_response=self.immediate_response,
            uses_shared_mix=self.uses_shared_mix, mix_volume_ml=self.mix_volume_ml,
            injectates=tuple(row.dose(SiteInjectate, volume_ml=row.volume_ml) for row in self.injectates),
        )


def _sites(value: Any) -> list:
    value = value or []
    if not isinstance(value, list):
        raise problem("{where} must be a list")
    return value


class NoteIn(Contract):
    """The note document: header facts, Universal Protocol answers, the shared mix and the treated sites."""

    not_an_object: ClassVar[str] = "the note must be a JSON object"

    procedure_date: checked(_date("scheduled"), nullable({"type": "string", "format": "date"}), date | None) = None
    guidance: _choice(GUIDANCES, default="landmark", blank=False) = "landmark"
    pre_nrs: _whole(NRS_RANGE) = None
    post_nrs: _whole(NRS_RANGE) = None
    observation_minutes: _whole(OBSERVATION_MINUTES_RANGE) = None
    complications: Annotated[list[checked(_complication, {"type": "string", "enum": list(COMPLICATIONS)}, str)],
                             _list("{where} must be a list")] = Field(default_factory=list)
    discharge_condition: _choice(DISCHARGE_CONDITIONS) = ""
    payer: checked(_payer, nullable({"type": "string"}), str) = ""
    diagnosis_codes: checked(_diagnoses, nullable({"type": "array", "items": {"type": "string"}}), tuple) = ()
    timeout_performed: _choice(YES_NO) = ""
    site_marked: _choice(SITE_MARKED) = ""
    skin_prep_agent: _choice(SKIN_PREP_AGENTS) = ""
    sterile_technique: _choice(STERILE_TECHNIQUES) = ""
    timeout_time: checked(_time, nullable({"type": "string", "format": "time"}), time | None) = None
    mix: Annotated[list[MixComponentIn], _list("{where} must be a list")] = Field(default_factory=list)
    sites: Annotated[list[NoteSiteIn], BeforeValidator(_sites)] = Field(default_factory=list)
    complication_notes: _text() = ""
    notes: _text() = ""
    version: Any = Field(None, description="The version you read (the editor and `PUT` send it; not part of the note).")

    def problems(self, raw: Mapping[str, Any], context: Mapping[str, Any]) -> list[tuple[str, str]]:
        sites = raw.get("sites") or []
        if isinstance(sites, list) and len(sites) > MAX_SITES:
            return [("mix", f"at most {MAX_SITES} sites in one note, got {len(sites)}")]
        return []

    def document(self) -> NoteDocument:
        return NoteDocument(
            procedure_date=self.procedure_date, guidance=self.guidance, pre_nrs=self.pre_nrs, post_nrs=self.post_nrs,
            observation_minutes=self.observation_minutes, complications=tuple(self.complications),
            complication_notes=self.complication_notes, discharge_condition=self.discharge_condition,
            notes=self.notes, payer=self.payer, diagnosis_codes=self.diagnosis_codes,
            timeout_performed=self.timeout_performed, timeout_time=self.timeout_time, site_marked=self.site_marked,
            skin_prep_agent=self.skin_prep_agent, sterile_technique=self.sterile_technique,
            mix=tuple(row.dose(MixComponent, ml_per_site=row.ml_per_site) for row in self.mix),
            sites=tuple(site.entry() for site in self.sites),
        )


def _version(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise problem("version (the version you read, a whole number) is required")
    return value


class NoteSaveIn(NoteIn):
    """``PUT …/notes/{id}``: the whole note with the version you read (409 when someone saved since)."""

    version: checked(_version, {"type": "integer", "minimum": 1, "description": "The version you read."}, int)


def parse_note(payload: Any, *, atlas: Any, drugs: Any = None, payers: frozenset[str] | None = None) -> NoteDocument:
    """The note document, or `RuleInputError` with every problem (incomplete is allowed: it is a draft)."""
    return parse(NoteIn, payload, root="note", atlas=atlas, drugs=drugs, payers=payers).document()
