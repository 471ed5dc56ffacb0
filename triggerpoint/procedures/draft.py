"""The procedure-note document: validate it and derive what the dose check and the coder need.

A note is entered as one JSON document (the editor autosaves it, the API takes
it): header facts, a shared mix set once, and the treated sites, each of which
may receive a different volume of the mix or extra injectates of its own. This
module decides:

* whether a document is well formed — every problem listed at once, unknown
  muscle/drug ids with the allowed values; a *draft* may be incomplete (a mix
  component without its concentration yet), a note being *signed* may not;
* how much of each drug was given: a shared-mix component's total is its
  volume per site times the number of sites that received the mix, scaled at a
  site whose mix volume was adjusted; per-site injectates add as written;
* the inputs of `dosing.check_doses` and `coding.code_session` for the document.

Pure: no Django, no ORM. Catalogues are passed in (or loaded from the data files).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal
from typing import Any, Protocol

from triggerpoint.core import plausible
from triggerpoint.core.rules import RuleInputError
from triggerpoint.procedures.coding import CodesInput, CodingInjectate, SessionHistory, Site, normalise_ndc
from triggerpoint.procedures.dosing import MG_PER_ML_PER_PERCENT, DoseCheckInput, DoseInjectate
from triggerpoint.procedures.drugs import DrugCatalog, load_drugs

SIDES = ("left", "right")
TECHNIQUES = ("injection", "dry_needling")
GUIDANCES = ("landmark", "ultrasound")
COMPLICATIONS = (
    "vasovagal",
    "bleeding_haematoma",
    "local_anesthetic_toxicity",
    "suspected_pneumothorax",
    "other",
)
DISCHARGE_CONDITIONS = ("stable", "stable_escorted", "transferred")
NRS_RANGE = (0, 10)
INSERTIONS_RANGE = (1, 50)
GAUGE_RANGE = (18, 34)
NEEDLE_LENGTH_MM_RANGE = (5, 150)
OBSERVATION_MINUTES_RANGE = (0, 600)
MAX_SITES = 40
MAX_VOLUME_ML = Decimal(100)
MASS_DOSED_CLASSES = frozenset({"amide_local_anesthetic", "ester_local_anesthetic", "corticosteroid", "magnesium"})
UNIT_DOSED_CLASSES = frozenset({"botulinum_toxin"})
# Universal Protocol (The Joint Commission UP.01.01.01-UP.01.03.01) answers; the model's choices match these.
YES_NO = ("yes", "no")
SITE_MARKED = ("yes", "no", "not_applicable")
SKIN_PREP_AGENTS = ("chlorhexidine_alcohol", "povidone_iodine", "alcohol", "other")
STERILE_TECHNIQUES = ("aseptic_no_touch", "full_sterile")
UNIVERSAL_PROTOCOL_FIELDS = ("timeout_performed", "timeout_time", "site_marked", "skin_prep_agent", "sterile_technique")

HEADER_FIELDS = (
    "procedure_date",
    "guidance",
    "pre_nrs",
    "post_nrs",
    "observation_minutes",
    "complications",
    "complication_notes",
    "discharge_condition",
    "notes",
    "payer",
    "diagnosis_codes",
    *UNIVERSAL_PROTOCOL_FIELDS,
)
_DOCUMENT_FIELDS = frozenset({*HEADER_FIELDS, "mix", "sites", "version"})
_SITE_FIELDS = frozenset(
    {
        "muscle",
        "side",
        "trigger_point",
        "technique",
        "insertions",
        "needle_gauge",
        "needle_length_mm",
        "local_twitch",
        "immediate_response",
        "uses_shared_mix",
        "mix_volume_ml",
        "injectates",
    }
)
_DOSE_FIELDS = frozenset(
    {
        "drug",
        "concentration_percent",
        "concentration_mg_per_ml",
        "concentration_units_per_ml",
        "with_epinephrine",
        "lot_number",
        "expiry",
        "ndc",
        "single_dose_vial",
        "discarded",
    }
)
_MIX_FIELDS = _DOSE_FIELDS | {"ml_per_site"}
_SITE_INJECTATE_FIELDS = _DOSE_FIELDS | {"volume_ml"}


class MuscleCatalog(Protocol):
    def has_muscle(self, muscle_id: str) -> bool: ...


# ---------------------------------------------------------------------------------------------
# The document


@dataclass(frozen=True)
class Dose:
    """A drug at a concentration (one of the three), with its lot and expiry."""

    drug: str
    concentration_percent: Decimal | None = None
    concentration_mg_per_ml: Decimal | None = None
    concentration_units_per_ml: Decimal | None = None
    with_epinephrine: bool = False
    lot_number: str = ""
    expiry: date | None = None
    # Billing facts of the vial: its NDC (5-4-2), whether it was a single-dose vial (None: not said)
    # and the amount discarded from it, in the drug's dose unit (mg, or units for toxins; 0 = none).
    ndc: str = ""
    single_dose_vial: bool | None = None
    discarded: Decimal | None = None

    @property
    def mg_per_ml(self) -> Decimal | None:
        if self.concentration_percent is not None:
            return self.concentration_percent * MG_PER_ML_PER_PERCENT
        return self.concentration_mg_per_ml


@dataclass(frozen=True)
class MixComponent(Dose):
    ml_per_site: Decimal | None = None


@dataclass(frozen=True)
class SiteInjectate(Dose):
    volume_ml: Decimal | None = None


@dataclass(frozen=True)
class SiteEntry:
    muscle: str
    side: str
    technique: str = "injection"
    trigger_point: str = ""
    insertions: int = 1
    needle_gauge: int | None = None
    needle_length_mm: int | None = None
    local_twitch: bool | None = None
    immediate_response: str = ""
    uses_shared_mix: bool = True
    mix_volume_ml: Decimal | None = None
    injectates: tuple[SiteInjectate, ...] = ()

    @property
    def receives_mix(self) -> bool:
        """Dry needling injects nothing, so a needled site never receives the mix."""
        return self.uses_shared_mix and self.technique == "injection"


@dataclass(frozen=True)
class NoteDocument:
    procedure_date: date | None = None
    guidance: str = "landmark"
    pre_nrs: int | None = None
    post_nrs: int | None = None
    observation_minutes: int | None = None
    complications: tuple[str, ...] = ()
    complication_notes: str = ""
    discharge_condition: str = ""
    notes: str = ""
    payer: str = ""
    diagnosis_codes: tuple[str, ...] = ()
    timeout_performed: str = ""
    timeout_time: time | None = None
    site_marked: str = ""
    skin_prep_agent: str = ""
    sterile_technique: str = ""
    mix: tuple[MixComponent, ...] = ()
    sites: tuple[SiteEntry, ...] = ()

    @property
    def standard_mix_volume_ml(self) -> Decimal:
        """The volume of mix one site receives unless adjusted: the sum of the components' mL per site."""
        return sum((c.ml_per_site for c in self.mix if c.ml_per_site is not None), Decimal(0))


# ---------------------------------------------------------------------------------------------
# Parsing


class _Problems(list):
    def need(self, condition: bool, message: str) -> bool:
        if not condition:
            self.append(message)
        return condition


def parse_note(
    payload: Any,
    *,
    atlas: MuscleCatalog,
    drugs: DrugCatalog | None = None,
    payers: frozenset[str] | None = None,
) -> NoteDocument:
    """Parse a note document, raising `RuleInputError` with every problem.

    Incomplete is allowed (it is a draft); malformed is not. Use
    `completeness_problems` before signing.
    """
    drugs = drugs or load_drugs()
    if not isinstance(payload, Mapping):
        raise RuleInputError("the note must be a JSON object")
    problems = _Problems()
    _unknown(payload, _DOCUMENT_FIELDS, "note", problems)

    procedure_date = None
    if payload.get("procedure_date") not in (None, ""):
        try:
            procedure_date = date.fromisoformat(str(payload["procedure_date"]))
        except ValueError:
            problems.append(f"procedure_date must be a date YYYY-MM-DD, got {payload['procedure_date']!r}")
        plausible.check("scheduled", procedure_date, "procedure_date", problems)
    guidance = payload.get("guidance") or "landmark"
    problems.need(guidance in GUIDANCES, f"guidance must be one of {list(GUIDANCES)}, got {guidance!r}")
    pre_nrs = _int(payload.get("pre_nrs"), "pre_nrs", NRS_RANGE, problems)
    post_nrs = _int(payload.get("post_nrs"), "post_nrs", NRS_RANGE, problems)
    observation = _int(payload.get("observation_minutes"), "observation_minutes", OBSERVATION_MINUTES_RANGE, problems)
    complications = payload.get("complications") or []
    if not isinstance(complications, list):
        problems.append("complications must be a list")
        complications = []
    for value in complications:
        problems.need(value in COMPLICATIONS, f"complications: unknown {value!r}; allowed: {list(COMPLICATIONS)}")
    discharge = payload.get("discharge_condition") or ""
    problems.need(
        discharge == "" or discharge in DISCHARGE_CONDITIONS,
        f"discharge_condition must be one of {list(DISCHARGE_CONDITIONS)}, got {discharge!r}",
    )
    payer = payload.get("payer") or ""
    if payer and payers is not None:
        problems.need(payer in payers, f"payer: unknown payer {payer!r}; allowed: {sorted(payers)}")
    diagnosis_codes = payload.get("diagnosis_codes") or []
    if not isinstance(diagnosis_codes, list) or not all(isinstance(code, str) for code in diagnosis_codes):
        problems.append("diagnosis_codes must be a list of ICD-10-CM codes")
        diagnosis_codes = []

    universal = _universal_protocol(payload, problems)

    mix: list[MixComponent] = []
    raw_mix = payload.get("mix") or []
    if not isinstance(raw_mix, list):
        problems.append("mix must be a list")
        raw_mix = []
    for index, raw in enumerate(raw_mix):
        component = _parse_dose(raw, f"mix[{index}]", _MIX_FIELDS, drugs, problems, MixComponent)
        if component is not None:
            mix.append(component)

    sites: list[SiteEntry] = []
    raw_sites = payload.get("sites") or []
    if not isinstance(raw_sites, list):
        problems.append("sites must be a list")
        raw_sites = []
    if len(raw_sites) > MAX_SITES:
        problems.append(f"at most {MAX_SITES} sites in one note, got {len(raw_sites)}")
    for index, raw in enumerate(raw_sites):
        site = _parse_site(raw, f"sites[{index}]", atlas, drugs, problems)
        if site is not None:
            sites.append(site)

    if problems:
        raise RuleInputError(list(problems))
    return NoteDocument(
        procedure_date=procedure_date,
        guidance=guidance,
        pre_nrs=pre_nrs,
        post_nrs=post_nrs,
        observation_minutes=observation,
        complications=tuple(complications),
        complication_notes=_text(payload.get("complication_notes")),
        discharge_condition=discharge,
        notes=_text(payload.get("notes")),
        payer=payer,
        diagnosis_codes=tuple(code.strip().upper() for code in diagnosis_codes if code.strip()),
        **universal,
        mix=tuple(mix),
        sites=tuple(sites),
    )


def _universal_protocol(payload: Mapping[str, Any], problems: _Problems) -> dict[str, Any]:
    """The Universal Protocol answers (each may still be blank in a draft)."""
    found: dict[str, Any] = {}
    for name, allowed in (
        ("timeout_performed", YES_NO),
        ("site_marked", SITE_MARKED),
        ("skin_prep_agent", SKIN_PREP_AGENTS),
        ("sterile_technique", STERILE_TECHNIQUES),
    ):
        value = payload.get(name) or ""
        if problems.need(value == "" or value in allowed, f"{name} must be one of {list(allowed)}, got {value!r}"):
            found[name] = value
    raw_time = payload.get("timeout_time")
    found["timeout_time"] = None
    if raw_time not in (None, ""):
        try:
            parsed = time.fromisoformat(str(raw_time))
        except ValueError:
            problems.append(f"timeout_time must be a time HH:MM, got {raw_time!r}")
        else:
            found["timeout_time"] = parsed.replace(second=0, microsecond=0, tzinfo=None)
    return found


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _unknown(raw: Mapping[str, Any], allowed: frozenset[str], where: str, problems: list[str]) -> None:
    unknown = sorted(set(raw) - allowed)
    if unknown:
        problems.append(f"{where}: unknown fields {unknown}; allowed: {sorted(allowed)}")


def _int(value: Any, where: str, bounds: tuple[int, int], problems: list[str]) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        problems.append(f"{where} must be a whole number, got {value!r}")
        return None
    low, high = bounds
    if not low <= value <= high:
        problems.append(f"{where} must be from {low} to {high}, got {value}")
        return None
    return value


def _number(value: Any, where: str, problems: list[str], maximum: Decimal | None = None) -> Decimal | None:
    """A positive number (or None when absent); strings from form fields are accepted."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = Decimal(value.strip())
        except ArithmeticError:
            problems.append(f"{where} must be a number, got {value!r}")
            return None
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        problems.append(f"{where} must be a number, got {value!r}")
        return None
    if isinstance(value, float) and not math.isfinite(value):
        problems.append(f"{where} must be a finite number")
        return None
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    if not number.is_finite() or number <= 0:
        problems.append(f"{where} must be greater than 0, got {value!r}")
        return None
    if maximum is not None and number > maximum:
        problems.append(f"{where} must be at most {maximum}, got {value!r}")
        return None
    return number


def _parse_dose(raw: Any, where: str, allowed: frozenset[str], drugs: DrugCatalog, problems: list[str], kind: type):
    if not isinstance(raw, Mapping):
        problems.append(f"{where} must be an object")
        return None
    start = len(problems)
    _unknown(raw, allowed, where, problems)
    drug = drugs.resolve(raw["drug"]) if isinstance(raw.get("drug"), str) else None
    if drug is None:
        problems.append(f"{where}.drug: unknown drug {raw.get('drug')!r}; allowed: {list(drugs.ids)}")
    percent = _number(raw.get("concentration_percent"), f"{where}.concentration_percent", problems, Decimal(100))
    mg_per_ml = _number(raw.get("concentration_mg_per_ml"), f"{where}.concentration_mg_per_ml", problems)
    units_per_ml = _number(raw.get("concentration_units_per_ml"), f"{where}.concentration_units_per_ml", problems)
    given = [name for name, value in (("percent", percent), ("mg/mL", mg_per_ml), ("units/mL", units_per_ml)) if value]
    if len(given) > 1:
        problems.append(f"{where}: give one concentration, not {' and '.join(given)}")
    if drug is not None and drug.drug_class in MASS_DOSED_CLASSES and units_per_ml is not None:
        problems.append(f"{where}: {drug.id} is dosed in mg; give a percent or mg/mL, not units/mL")
    if drug is not None and drug.drug_class in UNIT_DOSED_CLASSES and (percent or mg_per_ml):
        problems.append(f"{where}: {drug.id} is dosed in units; give units/mL")
    with_epinephrine = raw.get("with_epinephrine", False)
    if with_epinephrine in ("true", "on", "1"):
        with_epinephrine = True
    elif with_epinephrine in ("false", "", "0", None):
        with_epinephrine = False
    if not isinstance(with_epinephrine, bool):
        problems.append(f"{where}.with_epinephrine must be true or false")
        with_epinephrine = False
    if with_epinephrine and drug is not None and not drug.is_local_anesthetic:
        problems.append(f"{where}: with_epinephrine applies only to local anaesthetics")
    lot = raw.get("lot_number") or ""
    if not isinstance(lot, str) or len(lot) > 40:
        problems.append(f"{where}.lot_number must be text of at most 40 characters")
        lot = ""
    expiry = None
    if raw.get("expiry") not in (None, ""):
        try:
            expiry = date.fromisoformat(str(raw["expiry"]))
        except ValueError:
            problems.append(f"{where}.expiry must be a date YYYY-MM-DD, got {raw['expiry']!r}")
        plausible.check("product", expiry, f"{where}.expiry", problems)
    ndc = ""
    if raw.get("ndc") not in (None, ""):
        try:
            ndc = normalise_ndc(str(raw["ndc"]))
        except ValueError as error:
            problems.append(f"{where}.ndc: {error}")
    single_dose_vial = raw.get("single_dose_vial")
    if single_dose_vial in ("true", "on", "1", "yes"):
        single_dose_vial = True
    elif single_dose_vial in ("false", "0", "no"):
        single_dose_vial = False
    elif single_dose_vial == "":
        single_dose_vial = None
    if single_dose_vial is not None and not isinstance(single_dose_vial, bool):
        problems.append(f"{where}.single_dose_vial must be true, false or empty")
        single_dose_vial = None
    discarded = None
    if raw.get("discarded") in (0, "0", Decimal(0)):
        discarded = Decimal(0)
    else:
        discarded = _number(raw.get("discarded"), f"{where}.discarded", problems)
    extra: dict[str, Any] = {}
    if kind is MixComponent:
        extra["ml_per_site"] = _number(raw.get("ml_per_site"), f"{where}.ml_per_site", problems, MAX_VOLUME_ML)
    else:
        extra["volume_ml"] = _number(raw.get("volume_ml"), f"{where}.volume_ml", problems, MAX_VOLUME_ML)
    if len(problems) > start or drug is None:
        return None
    return kind(
        drug=drug.id,
        concentration_percent=percent,
        concentration_mg_per_ml=mg_per_ml,
        concentration_units_per_ml=units_per_ml,
        with_epinephrine=with_epinephrine,
        lot_number=lot.strip(),
        expiry=expiry,
        ndc=ndc,
        single_dose_vial=single_dose_vial,
        discarded=discarded,
        **extra,
    )


def _parse_site(raw: Any, where: str, atlas: MuscleCatalog, drugs: DrugCatalog, problems: list[str]) -> SiteEntry | None:
    if not isinstance(raw, Mapping):
        problems.append(f"{where} must be an object")
        return None
    start = len(problems)
    _unknown(raw, _SITE_FIELDS, where, problems)
    muscle = raw.get("muscle")
    if not isinstance(muscle, str) or not atlas.has_muscle(muscle):
        problems.append(f"{where}.muscle: unknown muscle {muscle!r} (use an atlas muscle id)")
    side = raw.get("side")
    problems.need(side in SIDES, f"{where}.side must be one of {list(SIDES)}, got {side!r}")
    technique = raw.get("technique") or "injection"
    problems.need(technique in TECHNIQUES, f"{where}.technique must be one of {list(TECHNIQUES)}, got {technique!r}")
    insertions = _int(raw.get("insertions"), f"{where}.insertions", INSERTIONS_RANGE, problems)
    gauge = _int(raw.get("needle_gauge"), f"{where}.needle_gauge", GAUGE_RANGE, problems)
    length = _int(raw.get("needle_length_mm"), f"{where}.needle_length_mm", NEEDLE_LENGTH_MM_RANGE, problems)
    twitch = raw.get("local_twitch")
    twitch = {"yes": True, "no": False, "": None, "true": True, "false": False}.get(twitch, twitch)
    if twitch is not None and not isinstance(twitch, bool):
        problems.append(f"{where}.local_twitch must be true, false or null")
        twitch = None
    uses_mix = raw.get("uses_shared_mix", True)
    if not isinstance(uses_mix, bool):
        problems.append(f"{where}.uses_shared_mix must be true or false")
        uses_mix = True
    mix_volume = _number(raw.get("mix_volume_ml"), f"{where}.mix_volume_ml", problems, MAX_VOLUME_ML)
    injectates: list[SiteInjectate] = []
    raw_injectates = raw.get("injectates") or []
    if not isinstance(raw_injectates, list):
        problems.append(f"{where}.injectates must be a list")
        raw_injectates = []
    for index, item in enumerate(raw_injectates):
        parsed = _parse_dose(item, f"{where}.injectates[{index}]", _SITE_INJECTATE_FIELDS, drugs, problems, SiteInjectate)
        if parsed is not None:
            injectates.append(parsed)
    if technique == "dry_needling" and raw_injectates:
        problems.append(f"{where}: a dry-needled site receives no injectate")
    if len(problems) > start:
        return None
    return SiteEntry(
        muscle=muscle,
        side=side,
        technique=technique,
        trigger_point=_text(raw.get("trigger_point"))[:120],
        insertions=insertions or 1,
        needle_gauge=gauge,
        needle_length_mm=length,
        local_twitch=twitch,
        immediate_response=_text(raw.get("immediate_response"))[:200],
        uses_shared_mix=uses_mix,
        mix_volume_ml=mix_volume,
        injectates=tuple(injectates),
    )


# ---------------------------------------------------------------------------------------------
# Amounts given


@dataclass(frozen=True)
class GivenDose:
    """One injectate row as stored: a shared-mix total (site_index None) or one site's own."""

    dose: Dose
    volume_ml: Decimal | None
    site_index: int | None = None
    ml_per_site: Decimal | None = None
    sites_receiving: int = 0

    @property
    def dose_mg(self) -> Decimal | None:
        if self.dose.mg_per_ml is None or self.volume_ml is None:
            return None
        return self.dose.mg_per_ml * self.volume_ml

    @property
    def dose_units(self) -> Decimal | None:
        if self.dose.concentration_units_per_ml is None or self.volume_ml is None:
            return None
        return self.dose.concentration_units_per_ml * self.volume_ml


def given_doses(note: NoteDocument) -> list[GivenDose]:
    """Every injectate row of the note with its total volume.

    A shared-mix component's total is its mL per site at each site that received
    the mix, scaled where a site's mix volume was adjusted (2 mL of a 1 mL mix =
    twice each component).
    """
    standard = note.standard_mix_volume_ml
    receiving = [site for site in note.sites if site.receives_mix]
    rows: list[GivenDose] = []
    for component in note.mix:
        total: Decimal | None = None
        if component.ml_per_site is not None:
            total = Decimal(0)
            for site in receiving:
                scale = site.mix_volume_ml / standard if site.mix_volume_ml is not None and standard else Decimal(1)
                total += component.ml_per_site * scale
        rows.append(
            GivenDose(
                dose=component,
                volume_ml=total,
                ml_per_site=component.ml_per_site,
                sites_receiving=len(receiving),
            )
        )
    for index, site in enumerate(note.sites):
        for injectate in site.injectates:
            rows.append(GivenDose(dose=injectate, volume_ml=injectate.volume_ml, site_index=index))
    return rows


# ---------------------------------------------------------------------------------------------
# Inputs of the dose check and the coder


def dose_problems(note: NoteDocument, drugs: DrugCatalog | None = None) -> list[str]:
    """Why the given doses cannot be checked yet (missing concentration or volume)."""
    drugs = drugs or load_drugs()
    problems: list[str] = []
    for row in given_doses(note):
        drug = drugs.get(row.dose.drug)
        where = f"{drug.name} ({'shared mix' if row.site_index is None else _site_label(note, row.site_index)})"
        if row.site_index is None and row.ml_per_site is None:
            problems.append(f"{where}: enter the mL per site")
        elif row.volume_ml is None:
            problems.append(f"{where}: enter the volume")
        elif row.volume_ml == 0 and row.site_index is None:
            problems.append(f"{where}: no injected site receives the shared mix")
        if drug.drug_class in MASS_DOSED_CLASSES and row.dose.mg_per_ml is None:
            problems.append(f"{where}: enter the concentration (percent or mg/mL)")
        if drug.drug_class in UNIT_DOSED_CLASSES and row.dose.concentration_units_per_ml is None:
            problems.append(f"{where}: enter the concentration in units/mL")
    return problems


def _site_label(note: NoteDocument, index: int) -> str:
    site = note.sites[index]
    return f"{site.side} {site.muscle.replace('_', ' ')}"


def dose_check_input(
    note: NoteDocument, weight_kg: Decimal | None, weight_measured_on: date | None
) -> DoseCheckInput:
    """The dose check's input; call `dose_problems` first (rows without an amount are skipped)."""
    injectates = tuple(
        DoseInjectate(
            drug=row.dose.drug,
            volume_ml=row.volume_ml,
            concentration_mg_per_ml=row.dose.mg_per_ml,
            concentration_units_per_ml=row.dose.concentration_units_per_ml,
            with_epinephrine=row.dose.with_epinephrine,
        )
        for row in given_doses(note)
        if row.volume_ml
    )
    return DoseCheckInput(weight_kg=weight_kg, injectates=injectates, weight_measured_on=weight_measured_on)


def codes_input(
    note: NoteDocument,
    *,
    service_date: date | None,
    history: SessionHistory | None = None,
    drugs: DrugCatalog | None = None,
) -> CodesInput:
    """The coder's input: sites, guidance, drug doses (mg or units, by drug class) and diagnoses."""
    drugs = drugs or load_drugs()
    injectates: list[CodingInjectate] = []
    for row in given_doses(note):
        drug = drugs.get(row.dose.drug)
        vial = {"single_dose_vial": row.dose.single_dose_vial, "discarded": row.dose.discarded, "ndc": row.dose.ndc}
        if drug.drug_class in UNIT_DOSED_CLASSES:
            if row.dose_units:
                injectates.append(CodingInjectate(drug=drug.id, dose_units=row.dose_units, **vial))
        elif drug.drug_class == "corticosteroid":
            if row.dose_mg:
                injectates.append(CodingInjectate(drug=drug.id, dose_mg=row.dose_mg, **vial))
        elif row.volume_ml:
            injectates.append(CodingInjectate(drug=drug.id, dose_mg=row.dose_mg, **vial))
    return CodesInput(
        sites=tuple(
            Site(muscle=site.muscle, side=site.side, technique=site.technique, insertions=site.insertions)
            for site in note.sites
        ),
        guidance=note.guidance,
        injectates=tuple(injectates),
        payer=note.payer or None,
        diagnoses=note.diagnosis_codes,
        service_date=service_date,
        history=history or SessionHistory(),
    )


def completeness_problems(note: NoteDocument, drugs: DrugCatalog | None = None) -> list[str]:
    """What a note must have before it is signed, every item listed."""
    problems: list[str] = []
    if not note.sites:
        problems.append("add at least one treated site")
    if any(site.receives_mix for site in note.sites) and not note.mix and not any(
        site.injectates for site in note.sites
    ):
        problems.append("enter the injectate (the shared mix or a per-site injectate), or mark the sites as dry needling")
    if note.pre_nrs is None:
        problems.append("enter the pre-procedure pain score (NRS 0-10)")
    if note.post_nrs is None:
        problems.append("enter the post-procedure pain score (NRS 0-10)")
    if note.observation_minutes is None:
        problems.append("enter the observation time in minutes")
    if not note.discharge_condition:
        problems.append("enter the discharge condition")
    if "other" in note.complications and not note.complication_notes:
        problems.append("describe the 'other' complication")
    if not note.timeout_performed:
        problems.append("record whether the time-out was performed (Universal Protocol)")
    elif note.timeout_performed == "yes" and note.timeout_time is None:
        problems.append("enter the time the time-out was performed")
    elif note.timeout_performed == "no" and not note.notes:
        problems.append("the time-out was not performed: say why in the notes")
    if not note.site_marked:
        problems.append("record whether the site was marked")
    if not note.skin_prep_agent:
        problems.append("enter the skin preparation agent")
    elif note.skin_prep_agent == "other" and not note.notes:
        problems.append("name the 'other' skin preparation agent in the notes")
    if not note.sterile_technique:
        problems.append("enter the sterile technique used")
    problems.extend(dose_problems(note, drugs))
    return problems
