"""Billing codes for one trigger point session, with the warnings a coder needs.

Decides which CPT and HCPCS lines a session produces and why:

* 20552 (1-2 muscles) or 20553 (3 or more) once per session, counting distinct
  muscle-and-side pairs: left and right trapezius are two muscles, several
  insertions into one muscle are one;
* dry needling 20560/20561 by the same count, never for a muscle that was also
  injected (CPT forbids both for the same muscles);
* 76942 once per session when ultrasound guided, with the payer caveat;
* HCPCS drug lines in billing units, rounding a partial unit UP to the next
  whole unit (CMS Pub. 100-04 ch. 17 §10); local anaesthetic and saline are not
  separately coded;
* warnings for diagnoses (fibromyalgia tender points) and for the chosen
  payer's policy (frequency, interval, regions, dry needling, imaging).

Code tables and payer parameters are data (``data/cpt.yaml``, ``data/hcpcs.yaml``,
``data/payers.yaml``, ``data/diagnosis_flags.yaml``) with effective dates and
sources; the row in effect on the service date is used. Warnings never change
the codes: coverage is the payer's decision, the software only points it out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from functools import cache
from typing import Any, Protocol

from triggerpoint.core.rules import Finding, Rule, RuleInputError
from triggerpoint.procedures._data import DataFileError, load_validated_yaml
from triggerpoint.procedures.drugs import DrugCatalog, load_drugs

SIDES = ("left", "right")
TECHNIQUES = ("injection", "dry_needling")
GUIDANCES = ("landmark", "ultrasound")
SEVERITY_INFO = "info"
SEVERITY_WARNING = "warning"
ICD10_PATTERN = re.compile(r"^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$")
_TECHNIQUE_FAMILY = {"injection": "trigger_point_injection", "dry_needling": "dry_needling"}

CPT_COUNT_RULE = Rule(
    id="CODE-TPI-COUNT",
    version=1,
    title="Trigger point injection code by number of muscles",
    basis=(
        "20552 covers 1 or 2 muscles and 20553 covers 3 or more, reported once per session whatever the number "
        "of injections; each muscle on each side counts once (right and left trapezius are two muscles)."
    ),
    sources=(
        "AAPC, trigger point codes for 2004",
        "AAPC reader question: count right and left trapezius as two",
        "EmblemHealth claims corner 20552/20553",
    ),
)
DRY_NEEDLING_COUNT_RULE = Rule(
    id="CODE-DN-COUNT",
    version=1,
    title="Dry needling code by number of muscles",
    basis="20560 covers needle insertion without injection into 1 or 2 muscles, 20561 into 3 or more (from 2020).",
    sources=("tpi-clinical-facts.md §1.1 (ohiohima 2020; karenzupko dry needling)",),
)
DRY_NEEDLING_SAME_MUSCLE_RULE = Rule(
    id="CODE-DN-SAME-MUSCLE",
    version=1,
    title="Dry needling not billed for an injected muscle",
    basis="CPT does not allow 20560/20561 with 20552/20553 for the same muscles; the injection code covers them.",
    sources=("tpi-clinical-facts.md §1.1 (karenzupko dry needling)",),
)
DRY_NEEDLING_WITH_TPI_RULE = Rule(
    id="CODE-DN-WITH-TPI",
    version=1,
    title="Dry needling and trigger point injection in one session",
    basis=(
        "Both code families on one claim are allowed only for different muscles; the note must show which muscles "
        "were needled and which were injected, and some payers still bundle them."
    ),
    sources=("tpi-clinical-facts.md §1.1 (karenzupko dry needling)",),
)
ULTRASOUND_RULE = Rule(
    id="CODE-US-GUIDANCE",
    version=1,
    title="Ultrasound guidance once per session",
    basis=(
        "TPI codes do not include imaging; 76942 is reported once per encounter however many needle placements. "
        "Medicare LCDs L34211/L36859 and several BCBS policies treat imaging guidance of TPI as not covered."
    ),
    sources=(
        "tpi-clinical-facts.md §1.2 (CPT Assistant via kzanow; AAPM&R 2017; NCCI ch. 9 §G.3)",
        "LCD L36859 summary: https://verity.backworkai.com/policy/L36859",
    ),
)
DRUG_UNITS_RULE = Rule(
    id="CODE-DRUG-UNITS",
    version=1,
    title="Drug billing units",
    basis=(
        "Drugs are billed in multiples of the HCPCS descriptor's dose; a dose that is not a multiple is rounded "
        "up to the next whole unit (CMS convention). Botulinum toxin units are not interchangeable."
    ),
    sources=(
        "CMS Pub. 100-04 Medicare Claims Processing Manual ch. 17 §10",
        "CMS RAC issue 0074: https://www.cms.gov/Research-Statistics-Data-and-Systems/Monitoring-Programs/"
        "Medicare-FFS-Compliance-Programs/Recovery-Audit-Program/Approved-RAC-Topics-Items/"
        "0074-Excessive-or-Insufficient-Drugs-and-Biologicals.html",
    ),
)
DRUG_WASTE_RULE = Rule(
    id="CODE-DRUG-WASTE-JW-JZ",
    version=1,
    title="Single-dose container waste modifiers",
    basis=(
        "A drug from a single-dose container is billed with JZ when none was discarded, or with its administered "
        "units on one line and the discarded units on a second line with JW. Discarded units are those the "
        "rounded-up administered units do not already cover. The NDC goes on the drug line where recorded."
    ),
    sources=(
        "CMS, Discarded Drugs and Biologicals - JW and JZ Modifier Policy FAQs (JZ required from 2023-07-01): "
        "https://www.cms.gov/medicare/medicare-fee-for-service-payment/hospitaloutpatientpps/downloads/jw-modifier-faqs.pdf",
        "tpi-clinical-facts.md §1.3 (NDC required; JW/JZ for single-dose vials)",
    ),
)
DRUG_WASTE_MISSING_RULE = Rule(
    id="CODE-DRUG-WASTE-MISSING",
    version=1,
    title="Single-dose container without its discarded amount",
    basis="JW or JZ cannot be chosen until the note says how much of the single-dose vial was discarded (0 if none).",
    sources=DRUG_WASTE_RULE.sources,
)
DRUG_NOT_CODED_RULE = Rule(
    id="CODE-DRUG-NOT-CODED",
    version=1,
    title="Injectate not separately coded",
    basis="Local anaesthetic and saline given for trigger point injection are treated as bundled.",
    sources=("tpi-clinical-facts.md §1.3 and §9 item 11",),
)
DRUG_NO_CODE_RULE = Rule(
    id="CODE-DRUG-NO-CODE",
    version=1,
    title="Injectate without a code on the service date",
    basis="The code table has no HCPCS row for this drug on the service date; a coder must choose the code.",
    sources=("data/hcpcs.yaml",),
)
TOXIN_LABEL_RULE = Rule(
    id="CODE-TOXIN-LABEL",
    version=1,
    title="Botulinum toxin for myofascial pain",
    basis=(
        "Myofascial pain is not among the FDA-labelled indications listed in the MAC article; payers usually "
        "require prior authorization."
    ),
    sources=("tpi-clinical-facts.md §1.3 (whatismedicalinsurancebilling 2017)",),
)
NO_CODE_ON_DATE_RULE = Rule(
    id="CODE-NO-CODE-ON-DATE",
    version=1,
    title="No procedure code in effect on the service date",
    basis="The CPT table has no row in effect on the service date (dry needling had no code before 2020).",
    sources=("data/cpt.yaml", "tpi-clinical-facts.md §1.1 (pre-2020: unlisted 20999 advised)"),
)
PAYER_HISTORY_MISSING_RULE = Rule(
    id="PAYER-HISTORY-MISSING",
    version=1,
    title="Payer frequency limits not checked",
    basis="The payer limits how often TPI is covered; without the session history the limit cannot be checked.",
    sources=("data/payers.yaml",),
)
PAYER_FREQUENCY_RULE = Rule(
    id="PAYER-FREQ-12M",
    version=1,
    title="Sessions per rolling 12 months",
    basis="The payer covers a limited number of TPI sessions in a rolling 12 months (this session included).",
    sources=("data/payers.yaml",),
)
PAYER_REGION_FREQUENCY_RULE = Rule(
    id="PAYER-FREQ-REGION-12M",
    version=1,
    title="Sessions per body region per 12 months",
    basis="The payer covers a limited number of sessions in one body region per year (this session included).",
    sources=("data/payers.yaml",),
)
PAYER_INTERVAL_RULE = Rule(
    id="PAYER-INTERVAL-SAME-REGION",
    version=1,
    title="Interval before repeating in the same region",
    basis="The payer requires a minimum interval before TPI is repeated in the same location.",
    sources=("data/payers.yaml",),
)
PAYER_MULTI_REGION_RULE = Rule(
    id="PAYER-MULTI-REGION",
    version=1,
    title="Several anatomic regions in one session",
    basis="The payer does not cover injections into multiple anatomic regions in one session.",
    sources=("data/payers.yaml", "Muscle.body_region from the atlas"),
)
PAYER_DRY_NEEDLING_RULE = Rule(
    id="PAYER-DRY-NEEDLING",
    version=1,
    title="Dry needling not covered",
    basis="The payer does not cover dry needling.",
    sources=("data/payers.yaml",),
)
PAYER_IMAGING_RULE = Rule(
    id="PAYER-IMAGING",
    version=1,
    title="Imaging guidance not covered",
    basis="The payer treats ultrasound, fluoroscopy or MRI guidance of TPI as not covered or investigational.",
    sources=("data/payers.yaml",),
)
PAYER_SALINE_ONLY_RULE = Rule(
    id="PAYER-SALINE-ONLY",
    version=1,
    title="Saline-only injectate not covered",
    basis="The payer does not cover injections of saline alone.",
    sources=("data/payers.yaml",),
)
PAYER_INJECTATE_RULE = Rule(
    id="PAYER-INJECTATE-CLASS",
    version=1,
    title="Injectate class not covered",
    basis="The payer covers only some injectate classes for TPI.",
    sources=("data/payers.yaml",),
)
RULES = (
    CPT_COUNT_RULE,
    DRY_NEEDLING_COUNT_RULE,
    DRY_NEEDLING_SAME_MUSCLE_RULE,
    DRY_NEEDLING_WITH_TPI_RULE,
    ULTRASOUND_RULE,
    DRUG_UNITS_RULE,
    DRUG_NOT_CODED_RULE,
    DRUG_NO_CODE_RULE,
    TOXIN_LABEL_RULE,
    NO_CODE_ON_DATE_RULE,
    PAYER_HISTORY_MISSING_RULE,
    PAYER_FREQUENCY_RULE,
    PAYER_REGION_FREQUENCY_RULE,
    PAYER_INTERVAL_RULE,
    PAYER_MULTI_REGION_RULE,
    PAYER_DRY_NEEDLING_RULE,
    PAYER_IMAGING_RULE,
    PAYER_SALINE_ONLY_RULE,
    PAYER_INJECTATE_RULE,
)


class MuscleCatalog(Protocol):
    """What coding needs from the atlas: known muscle ids and their billing region."""

    def has_muscle(self, muscle_id: str) -> bool: ...

    def muscle(self, muscle_id: str) -> Any: ...


def _default_atlas() -> MuscleCatalog:
    from triggerpoint.atlas.catalog import load_atlas  # imported late: the atlas loads its own data files

    return load_atlas()


# ---------------------------------------------------------------------------------------------
# Code tables (data)


@dataclass(frozen=True)
class Effective:
    effective_from: date | None
    effective_to: date | None

    def in_effect(self, on: date) -> bool:
        starts_ok = self.effective_from is None or self.effective_from <= on
        ends_ok = self.effective_to is None or on <= self.effective_to
        return starts_ok and ends_ok


@dataclass(frozen=True)
class CptCode:
    code: str
    family: str
    description: str
    min_muscles: int | None
    max_muscles: int | None
    units_per_session: int
    effective: Effective
    sources: tuple[str, ...]

    def covers(self, muscle_count: int) -> bool:
        low = self.min_muscles or 0
        return muscle_count >= low and (self.max_muscles is None or muscle_count <= self.max_muscles)


@dataclass(frozen=True)
class HcpcsCode:
    code: str
    drug: str
    description: str
    unit_size: Decimal
    dose_unit: str
    effective: Effective
    sources: tuple[str, ...]
    note: str = ""
    # True: the drug comes only in single-dose containers (JW/JZ always apply); None: it depends on
    # the vial used, which the note records per injectate.
    single_dose_container: bool | None = None


@dataclass(frozen=True)
class PayerPolicy:
    """One payer's coverage parameters; None means the payer sets no such limit."""

    id: str
    name: str
    max_sessions_per_12_months: int | None
    max_sessions_per_region_per_12_months: int | None
    min_days_between_sessions_same_region: int | None
    multiple_regions_per_session_covered: bool
    dry_needling_covered: bool
    imaging_guidance_covered: bool
    saline_only_covered: bool
    covered_injectate_classes: frozenset[str] | None
    sources: tuple[str, ...]


@dataclass(frozen=True)
class DiagnosisFlag:
    id: str
    match: str
    code: str
    rule: Rule
    effective: Effective
    message: str

    def matches(self, diagnosis: str, on: date) -> bool:
        if not self.effective.in_effect(on):
            return False
        if self.match == "exact":
            return diagnosis == self.code
        return diagnosis.startswith(self.code)


@dataclass(frozen=True, eq=False)
class CodeTables:
    cpt: tuple[CptCode, ...]
    hcpcs: tuple[HcpcsCode, ...]
    not_separately_coded: dict[str, str]
    payers: dict[str, PayerPolicy]
    default_payer: str | None
    diagnosis_flags: tuple[DiagnosisFlag, ...]

    def cpt_rows(self, family: str, on: date) -> tuple[CptCode, ...]:
        return tuple(row for row in self.cpt if row.family == family and row.effective.in_effect(on))

    def hcpcs_rows(self, drug: str, on: date) -> tuple[HcpcsCode, ...]:
        return tuple(row for row in self.hcpcs if row.drug == drug and row.effective.in_effect(on))


def _date_or_none(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


def _effective(entry: Mapping[str, Any]) -> Effective:
    return Effective(_date_or_none(entry["effective_from"]), _date_or_none(entry["effective_to"]))


def build_code_tables(
    cpt_document: Mapping[str, Any],
    hcpcs_document: Mapping[str, Any],
    payers_document: Mapping[str, Any],
    diagnosis_document: Mapping[str, Any],
    drugs: DrugCatalog,
) -> CodeTables:
    """Build the tables from schema-valid documents, checking ids and overlaps."""
    problems: list[str] = []
    cpt = tuple(
        CptCode(
            code=row["code"],
            family=row["family"],
            description=row["description"],
            min_muscles=row["min_muscles"],
            max_muscles=row["max_muscles"],
            units_per_session=row["units_per_session"],
            effective=_effective(row),
            sources=tuple(row["sources"]),
        )
        for row in cpt_document["codes"]
    )
    hcpcs = tuple(
        HcpcsCode(
            code=row["code"],
            drug=row["drug"],
            description=row["description"],
            unit_size=Decimal(str(row["unit_size"])),
            dose_unit=row["dose_unit"],
            effective=_effective(row),
            sources=tuple(row["sources"]),
            note=row.get("note", ""),
            single_dose_container=row.get("single_dose_container"),
        )
        for row in hcpcs_document["codes"]
    )
    for row in hcpcs:
        if row.drug not in drugs.drugs:
            problems.append(f"hcpcs.yaml: {row.code} names unknown drug {row.drug!r}")
            continue
        expected_unit = "units" if drugs.get(row.drug).drug_class == "botulinum_toxin" else "mg"
        if row.dose_unit != expected_unit:
            problems.append(f"hcpcs.yaml: {row.code} dose_unit must be {expected_unit!r}")
    for row in (*cpt, *hcpcs):
        start, end = row.effective.effective_from, row.effective.effective_to
        if start and end and start > end:
            problems.append(f"{row.code}: effective_from after effective_to")
    payers = {
        row["id"]: PayerPolicy(
            id=row["id"],
            name=row["name"],
            max_sessions_per_12_months=row["max_sessions_per_12_months"],
            max_sessions_per_region_per_12_months=row["max_sessions_per_region_per_12_months"],
            min_days_between_sessions_same_region=row["min_days_between_sessions_same_region"],
            multiple_regions_per_session_covered=row["multiple_regions_per_session_covered"],
            dry_needling_covered=row["dry_needling_covered"],
            imaging_guidance_covered=row["imaging_guidance_covered"],
            saline_only_covered=row["saline_only_covered"],
            covered_injectate_classes=(
                None
                if row["covered_injectate_classes"] is None
                else frozenset(row["covered_injectate_classes"])
            ),
            sources=tuple(row["sources"]),
        )
        for row in payers_document["payers"]
    }
    default_payer = payers_document["default_payer"]
    if default_payer is not None and default_payer not in payers:
        problems.append(f"payers.yaml: default_payer {default_payer!r} is not a payer id")
    flags = tuple(
        DiagnosisFlag(
            id=row["id"],
            match=row["match"],
            code=row["code"],
            rule=Rule(
                id=row["rule"],
                version=1,
                title=f"Diagnosis {row['code']}",
                basis=row["message"],
                sources=tuple(row["sources"]),
            ),
            effective=_effective(row),
            message=row["message"],
        )
        for row in diagnosis_document["flags"]
    )
    if problems:
        raise DataFileError("; ".join(problems))
    return CodeTables(
        cpt=cpt,
        hcpcs=hcpcs,
        not_separately_coded={
            row["drug_class"]: row["reason"] for row in hcpcs_document["not_separately_coded"]
        },
        payers=payers,
        default_payer=default_payer,
        diagnosis_flags=flags,
    )


@cache
def load_code_tables() -> CodeTables:
    """The shipped code and payer tables, schema-validated and cached."""
    return build_code_tables(
        load_validated_yaml("cpt.yaml", "cpt.schema.json"),
        load_validated_yaml("hcpcs.yaml", "hcpcs.schema.json"),
        load_validated_yaml("payers.yaml", "payers.schema.json"),
        load_validated_yaml("diagnosis_flags.yaml", "diagnosis_flags.schema.json"),
        load_drugs(),
    )


# ---------------------------------------------------------------------------------------------
# Input


@dataclass(frozen=True)
class Site:
    """One muscle on one side, treated with one technique (bilateral = two sites)."""

    muscle: str
    side: str
    technique: str
    insertions: int | None = None


@dataclass(frozen=True)
class CodingInjectate:
    """One drug given; for single-dose vials the amount discarded (same unit as the dose) and the NDC."""

    drug: str
    dose_mg: Decimal | None = None
    dose_units: Decimal | None = None
    single_dose_vial: bool | None = None
    discarded: Decimal | None = None
    ndc: str = ""


_NDC_PART_LENGTHS = (5, 4, 2)


def normalise_ndc(text: str) -> str:
    """An NDC in the 11-digit 5-4-2 billing format ("12345-6789-01").

    A 10-digit NDC (4-4-2, 5-3-2 or 5-4-1) must keep its hyphens, since the position of the
    padding zero depends on the segment that is short. Raises ValueError otherwise.
    """
    text = (text or "").strip()
    parts = text.split("-")
    if len(parts) == 1 and text.isdigit() and len(text) == 11:
        parts = [text[:5], text[5:9], text[9:]]
    if len(parts) != 3 or not all(part.isdigit() for part in parts):
        raise ValueError(f"NDC {text!r} must be 11 digits (5-4-2) or a hyphenated 10-digit NDC")
    if any(len(part) > size for part, size in zip(parts, _NDC_PART_LENGTHS, strict=True)) or sum(map(len, parts)) not in (10, 11):
        raise ValueError(f"NDC {text!r} has segments of the wrong length")
    return "-".join(part.zfill(size) for part, size in zip(parts, _NDC_PART_LENGTHS, strict=True))


@dataclass(frozen=True)
class SessionHistory:
    """What the payer rules need to know about earlier sessions (None = not known)."""

    sessions_last_12_months: int | None = None
    sessions_same_region_last_12_months: int | None = None
    days_since_same_region: int | None = None

    @property
    def is_empty(self) -> bool:
        return (
            self.sessions_last_12_months is None
            and self.sessions_same_region_last_12_months is None
            and self.days_since_same_region is None
        )


@dataclass(frozen=True)
class CodesInput:
    sites: tuple[Site, ...]
    guidance: str
    injectates: tuple[CodingInjectate, ...] = ()
    payer: str | None = None
    diagnoses: tuple[str, ...] = ()
    service_date: date | None = None
    history: SessionHistory = field(default_factory=SessionHistory)


_REQUEST_FIELDS = frozenset(
    {"sites", "guidance", "injectates", "payer", "diagnoses", "service_date", "history"}
)
_SITE_FIELDS = frozenset({"muscle", "side", "technique", "insertions"})
_INJECTATE_FIELDS = frozenset({"drug", "dose_mg", "dose_units", "single_dose_vial", "discarded", "ndc"})
_HISTORY_FIELDS = (
    "sessions_last_12_months",
    "sessions_same_region_last_12_months",
    "days_since_same_region",
)
_MG_DOSED_CLASSES = frozenset(
    {"amide_local_anesthetic", "ester_local_anesthetic", "corticosteroid", "magnesium"}
)


def parse_codes_request(
    payload: Any,
    atlas: MuscleCatalog | None = None,
    drugs: DrugCatalog | None = None,
    tables: CodeTables | None = None,
) -> CodesInput:
    """Turn the ``procedures/codes`` JSON request into `CodesInput`, listing every problem at once."""
    drugs = drugs or load_drugs()
    tables = tables or load_code_tables()
    atlas = atlas or _default_atlas()
    if not isinstance(payload, Mapping):
        raise RuleInputError("the request must be a JSON object")
    problems: list[str] = []
    _unknown_fields(payload, _REQUEST_FIELDS, "request", problems)

    sites: list[Site] = []
    raw_sites = payload.get("sites")
    if not isinstance(raw_sites, list) or not raw_sites:
        problems.append("sites must be a non-empty list")
        raw_sites = []
    for index, raw in enumerate(raw_sites):
        site = _parse_site(raw, f"sites[{index}]", atlas, problems)
        if site is not None:
            sites.append(site)

    guidance = payload.get("guidance")
    if guidance not in GUIDANCES:
        problems.append(f"guidance must be one of {list(GUIDANCES)}, got {guidance!r}")

    injectates: list[CodingInjectate] = []
    raw_injectates = payload.get("injectates", [])
    if not isinstance(raw_injectates, list):
        problems.append("injectates must be a list")
        raw_injectates = []
    for index, raw in enumerate(raw_injectates):
        injectate = _parse_injectate(raw, f"injectates[{index}]", drugs, problems)
        if injectate is not None:
            injectates.append(injectate)

    payer = payload.get("payer")
    if payer is not None and payer not in tables.payers:
        problems.append(f"payer: unknown payer {payer!r}; allowed: {sorted(tables.payers)}")

    diagnoses: list[str] = []
    raw_diagnoses = payload.get("diagnoses", [])
    if not isinstance(raw_diagnoses, list):
        problems.append("diagnoses must be a list of ICD-10-CM codes")
        raw_diagnoses = []
    for index, code in enumerate(raw_diagnoses):
        normalised = code.strip().upper() if isinstance(code, str) else None
        if normalised is None or not ICD10_PATTERN.match(normalised):
            problems.append(f"diagnoses[{index}]: {code!r} is not an ICD-10-CM code like M79.18")
        else:
            diagnoses.append(normalised)

    service_date = None
    if payload.get("service_date") is not None:
        try:
            service_date = date.fromisoformat(payload["service_date"])
        except (TypeError, ValueError):
            problems.append(f"service_date must be a date YYYY-MM-DD, got {payload['service_date']!r}")

    history = _parse_history(payload.get("history"), problems)
    if problems:
        raise RuleInputError(problems)
    return CodesInput(
        sites=tuple(sites),
        guidance=guidance,
        injectates=tuple(injectates),
        payer=payer,
        diagnoses=tuple(diagnoses),
        service_date=service_date,
        history=history,
    )


def _unknown_fields(raw: Mapping[str, Any], allowed: Iterable[str], where: str, problems: list[str]) -> None:
    unknown = sorted(set(raw) - set(allowed))
    if unknown:
        problems.append(f"{where}: unknown fields {unknown}; allowed: {sorted(allowed)}")


def _parse_site(raw: Any, where: str, atlas: MuscleCatalog, problems: list[str]) -> Site | None:
    if not isinstance(raw, Mapping):
        problems.append(f"{where} must be an object")
        return None
    start = len(problems)
    _unknown_fields(raw, _SITE_FIELDS, where, problems)
    muscle = raw.get("muscle")
    if not isinstance(muscle, str) or not atlas.has_muscle(muscle):
        problems.append(f"{where}.muscle: unknown muscle {muscle!r} (use an atlas muscle id)")
    side = raw.get("side")
    if side not in SIDES:
        problems.append(f"{where}.side must be one of {list(SIDES)}, got {side!r}")
    technique = raw.get("technique")
    if technique not in TECHNIQUES:
        problems.append(f"{where}.technique must be one of {list(TECHNIQUES)}, got {technique!r}")
    insertions = raw.get("insertions")
    if insertions is not None and (
        isinstance(insertions, bool) or not isinstance(insertions, int) or insertions < 1
    ):
        problems.append(f"{where}.insertions must be a whole number of at least 1, got {insertions!r}")
    if len(problems) > start:
        return None
    return Site(muscle=muscle, side=side, technique=technique, insertions=insertions)


def _parse_injectate(raw: Any, where: str, drugs: DrugCatalog, problems: list[str]) -> CodingInjectate | None:
    if not isinstance(raw, Mapping):
        problems.append(f"{where} must be an object")
        return None
    start = len(problems)
    _unknown_fields(raw, _INJECTATE_FIELDS, where, problems)
    drug = drugs.resolve(raw["drug"]) if isinstance(raw.get("drug"), str) else None
    if drug is None:
        problems.append(f"{where}.drug: unknown drug {raw.get('drug')!r}; allowed: {list(drugs.ids)}")
    dose_mg = _optional_positive(raw.get("dose_mg"), f"{where}.dose_mg", problems)
    dose_units = _optional_positive(raw.get("dose_units"), f"{where}.dose_units", problems)
    if raw.get("dose_mg") is not None and raw.get("dose_units") is not None:
        problems.append(f"{where}: give dose_mg or dose_units, not both")
    elif drug is not None:
        if drug.drug_class == "botulinum_toxin" and raw.get("dose_units") is None:
            problems.append(f"{where}: {drug.id} needs dose_units (toxins are billed in units)")
        if drug.drug_class == "corticosteroid" and raw.get("dose_mg") is None:
            problems.append(f"{where}: {drug.id} needs dose_mg (corticosteroids are billed by mg)")
        if drug.drug_class in _MG_DOSED_CLASSES | {"saline"} and raw.get("dose_units") is not None:
            problems.append(f"{where}: {drug.id} is dosed in mg, not units")
        if drug.drug_class == "botulinum_toxin" and raw.get("dose_mg") is not None:
            problems.append(f"{where}: {drug.id} is dosed in units, not mg")
    single_dose_vial = raw.get("single_dose_vial")
    if single_dose_vial is not None and not isinstance(single_dose_vial, bool):
        problems.append(f"{where}.single_dose_vial must be true, false or null")
    discarded = None
    if raw.get("discarded") is not None:
        discarded = _optional_positive(raw["discarded"], f"{where}.discarded", problems) if raw["discarded"] != 0 else Decimal(0)
    ndc = ""
    if raw.get("ndc"):
        try:
            ndc = normalise_ndc(str(raw["ndc"]))
        except ValueError as error:
            problems.append(f"{where}.ndc: {error}")
    if len(problems) > start or drug is None:
        return None
    return CodingInjectate(
        drug=drug.id,
        dose_mg=dose_mg,
        dose_units=dose_units,
        single_dose_vial=single_dose_vial,
        discarded=discarded,
        ndc=ndc,
    )


def _optional_positive(value: Any, where: str, problems: list[str]) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value or value <= 0:
        problems.append(f"{where} must be a number greater than 0, got {value!r}")
        return None
    return Decimal(str(value))


def _parse_history(raw: Any, problems: list[str]) -> SessionHistory:
    if raw is None:
        return SessionHistory()
    if not isinstance(raw, Mapping):
        problems.append("history must be an object")
        return SessionHistory()
    _unknown_fields(raw, _HISTORY_FIELDS, "history", problems)
    values: dict[str, int | None] = {}
    for name in _HISTORY_FIELDS:
        value = raw.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            problems.append(f"history.{name} must be a whole number of at least 0, got {value!r}")
            value = None
        values[name] = value
    return SessionHistory(**values)


# ---------------------------------------------------------------------------------------------
# Result


@dataclass(frozen=True)
class CptLine:
    code: str
    units: int
    modifiers: tuple[str, ...]
    description: str
    rule: Rule
    muscles: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "units": self.units,
            "modifiers": list(self.modifiers),
            "description": self.description,
            "muscle_count": len(self.muscles),
            "muscles": list(self.muscles),
            "rule": self.rule.id,
            "version": self.rule.version,
            "basis": self.rule.basis_text(),
        }


@dataclass(frozen=True)
class HcpcsLine:
    code: str
    units: int
    drug: str
    dose: Decimal
    dose_unit: str
    billed_dose: Decimal
    description: str
    basis: str
    modifiers: tuple[str, ...] = ()
    ndc: str = ""
    rule: Rule | None = None

    def as_dict(self) -> dict[str, Any]:
        rule = self.rule or DRUG_UNITS_RULE
        return {
            "code": self.code,
            "units": self.units,
            "modifiers": list(self.modifiers),
            "ndc": self.ndc or None,
            "drug": self.drug,
            "dose": float(self.dose),
            "dose_unit": self.dose_unit,
            "billed_dose": float(self.billed_dose),
            "description": self.description,
            "rule": rule.id,
            "version": rule.version,
            "basis": self.basis,
        }


@dataclass(frozen=True)
class CodesResult:
    cpt: tuple[CptLine, ...]
    hcpcs: tuple[HcpcsLine, ...]
    warnings: tuple[Finding, ...]
    service_date: date
    payer: str | None
    body_regions: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        """The ``procedures/codes`` response."""
        return {
            "cpt": [line.as_dict() for line in self.cpt],
            "hcpcs": [line.as_dict() for line in self.hcpcs],
            "warnings": [warning.as_dict() for warning in self.warnings],
            "service_date": self.service_date.isoformat(),
            "payer": self.payer,
            "body_regions": list(self.body_regions),
        }


# ---------------------------------------------------------------------------------------------
# Coding


def code_session(
    inp: CodesInput,
    today: date | None = None,
    atlas: MuscleCatalog | None = None,
    drugs: DrugCatalog | None = None,
    tables: CodeTables | None = None,
) -> CodesResult:
    """Codes and warnings for one session (service date = ``inp.service_date`` or `today`)."""
    drugs = drugs or load_drugs()
    tables = tables or load_code_tables()
    atlas = atlas or _default_atlas()
    on = inp.service_date or today or datetime.now(UTC).date()
    warnings: list[Finding] = []
    cpt_lines: list[CptLine] = []

    injected = _distinct_muscles(inp.sites, "injection")
    needled = _distinct_muscles(inp.sites, "dry_needling")
    both = [key for key in needled if key in injected]
    if both:
        warnings.append(
            Finding.of(
                DRY_NEEDLING_SAME_MUSCLE_RULE,
                SEVERITY_WARNING,
                f"Dry needling of {', '.join(_label(key) for key in both)} is not billed separately: the same "
                "muscle was injected this session.",
                muscles=[_label(key) for key in both],
            )
        )
        needled = [key for key in needled if key not in injected]

    for family, muscles, rule in (
        ("trigger_point_injection", injected, CPT_COUNT_RULE),
        ("dry_needling", needled, DRY_NEEDLING_COUNT_RULE),
    ):
        if not muscles:
            continue
        row = _cpt_for_count(tables.cpt_rows(family, on), len(muscles))
        if row is None:
            warnings.append(
                Finding.of(
                    NO_CODE_ON_DATE_RULE,
                    SEVERITY_WARNING,
                    f"No {family.replace('_', ' ')} code is in effect on {on.isoformat()}; a coder must choose one.",
                    family=family,
                )
            )
            continue
        cpt_lines.append(
            CptLine(
                code=row.code,
                units=row.units_per_session,
                modifiers=(),
                description=row.description,
                rule=rule,
                muscles=tuple(_label(key) for key in muscles),
            )
        )
    families = {_family_of(line.code, tables) for line in cpt_lines}
    if {"trigger_point_injection", "dry_needling"} <= families:
        warnings.append(
            Finding.of(
                DRY_NEEDLING_WITH_TPI_RULE,
                SEVERITY_WARNING,
                "Dry needling and trigger point injection codes are on one claim: document that different muscles "
                "were needled and injected; some payers bundle them.",
            )
        )

    if inp.guidance == "ultrasound":
        rows = tables.cpt_rows("ultrasound_guidance", on)
        if rows:
            cpt_lines.append(
                CptLine(
                    code=rows[0].code,
                    units=rows[0].units_per_session,
                    modifiers=(),
                    description=rows[0].description,
                    rule=ULTRASOUND_RULE,
                )
            )
        warnings.append(
            Finding.of(
                ULTRASOUND_RULE,
                SEVERITY_WARNING,
                "Ultrasound guidance is billed once per session; Medicare LCDs L34211/L36859 and several BCBS "
                "policies do not cover imaging guidance of trigger point injections.",
            )
        )

    hcpcs_lines = _drug_lines(inp.injectates, on, drugs, tables, warnings)
    _diagnosis_warnings(inp.diagnoses, on, tables, warnings)

    regions = tuple(sorted({atlas.muscle(muscle).body_region for muscle, _ in injected}))
    payer_id = inp.payer if inp.payer is not None else tables.default_payer
    if payer_id is not None:
        _payer_warnings(tables.payers[payer_id], inp, injected, needled, regions, drugs, warnings)

    return CodesResult(
        cpt=tuple(cpt_lines),
        hcpcs=tuple(hcpcs_lines),
        warnings=tuple(warnings),
        service_date=on,
        payer=payer_id,
        body_regions=regions,
    )


def _distinct_muscles(sites: Iterable[Site], technique: str) -> list[tuple[str, str]]:
    """Distinct (muscle, side) pairs for one technique, in the order first treated."""
    return list(dict.fromkeys((site.muscle, site.side) for site in sites if site.technique == technique))


def _label(key: tuple[str, str]) -> str:
    return f"{key[1]} {key[0]}"


def _cpt_for_count(rows: Iterable[CptCode], muscle_count: int) -> CptCode | None:
    return next((row for row in rows if row.covers(muscle_count)), None)


def _family_of(code: str, tables: CodeTables) -> str:
    return next(row.family for row in tables.cpt if row.code == code)


@dataclass
class _DrugTotal:
    dose: Decimal | None = Decimal(0)
    discarded: Decimal | None = Decimal(0)
    single_dose: bool | None = None
    ndcs: list[str] = field(default_factory=list)


def _drug_lines(
    injectates: Iterable[CodingInjectate],
    on: date,
    drugs: DrugCatalog,
    tables: CodeTables,
    warnings: list[Finding],
) -> list[HcpcsLine]:
    totals: dict[str, _DrugTotal] = {}
    for injectate in injectates:
        dose = injectate.dose_units if injectate.dose_units is not None else injectate.dose_mg
        total = totals.setdefault(injectate.drug, _DrugTotal())
        total.dose = None if dose is None or total.dose is None else total.dose + dose
        total.discarded = (
            None if injectate.discarded is None or total.discarded is None else total.discarded + injectate.discarded
        )
        if injectate.single_dose_vial is not None:
            total.single_dose = bool(total.single_dose) or injectate.single_dose_vial
        if injectate.ndc and injectate.ndc not in total.ndcs:
            total.ndcs.append(injectate.ndc)

    lines: list[HcpcsLine] = []
    for drug_id, total in totals.items():
        drug = drugs.get(drug_id)
        if drug.drug_class in tables.not_separately_coded:
            warnings.append(
                Finding.of(
                    DRUG_NOT_CODED_RULE,
                    SEVERITY_INFO,
                    f"{drug.name}: not separately coded. {tables.not_separately_coded[drug.drug_class]}",
                    drug=drug_id,
                )
            )
            continue
        rows = tables.hcpcs_rows(drug_id, on)
        if not rows or total.dose is None:
            warnings.append(
                Finding.of(
                    DRUG_NO_CODE_RULE,
                    SEVERITY_WARNING,
                    f"{drug.name}: no HCPCS code in the table for {on.isoformat()}"
                    + ("" if total.dose is not None else " (no dose given)")
                    + "; a coder must choose the code and units.",
                    drug=drug_id,
                )
            )
            continue
        ndc = total.ndcs[0] if len(total.ndcs) == 1 else ""
        if len(total.ndcs) > 1:
            warnings.append(
                Finding.of(
                    DRUG_WASTE_RULE,
                    SEVERITY_WARNING,
                    f"{drug.name}: vials with different NDCs ({', '.join(total.ndcs)}); split the line per NDC.",
                    drug=drug_id,
                )
            )
        drug_lines = [replace(line, ndc=ndc) for line in _split_into_units(drug_id, total.dose, rows)]
        single_dose = any(row.single_dose_container for row in rows) or bool(total.single_dose)
        if single_dose:
            drug_lines = _waste_lines(drug, total, rows, drug_lines, ndc, warnings)
        lines.extend(drug_lines)
        if drug.drug_class == "botulinum_toxin":
            warnings.append(
                Finding.of(
                    TOXIN_LABEL_RULE,
                    SEVERITY_INFO,
                    f"{drug.name}: myofascial pain is not an FDA-labelled indication; check prior authorization.",
                    drug=drug_id,
                )
            )
    return lines


def _waste_lines(
    drug: Any,
    total: _DrugTotal,
    rows: tuple[HcpcsCode, ...],
    lines: list[HcpcsLine],
    ndc: str,
    warnings: list[Finding],
) -> list[HcpcsLine]:
    """JZ on the drug lines when nothing billable was discarded, else a JW line for the discarded units."""
    if total.discarded is None:
        warnings.append(
            Finding.of(
                DRUG_WASTE_MISSING_RULE,
                SEVERITY_WARNING,
                f"{drug.name} comes in single-dose vials: record the amount discarded (0 if none) to choose JW or JZ.",
                drug=drug.id,
            )
        )
        return lines
    smallest = min(rows, key=lambda row: row.unit_size)
    billed = sum((line.billed_dose for line in lines), Decimal(0))
    wasted_beyond_rounding = total.dose + total.discarded - billed
    jw_units = int((wasted_beyond_rounding / smallest.unit_size).to_integral_value(rounding=ROUND_CEILING))
    if jw_units <= 0:
        return [
            replace(line, modifiers=(*line.modifiers, "JZ"), rule=DRUG_WASTE_RULE, basis=f"JZ: no billable amount discarded. {line.basis}")
            for line in lines
        ]
    discarded_billed = smallest.unit_size * jw_units
    return [
        *lines,
        HcpcsLine(
            code=smallest.code,
            units=jw_units,
            drug=drug.id,
            dose=total.discarded,
            dose_unit=smallest.dose_unit,
            billed_dose=discarded_billed,
            description=smallest.description,
            basis=(
                f"JW: {_number(total.discarded)} {smallest.dose_unit} discarded from a single-dose vial; "
                f"{_number(wasted_beyond_rounding)} {smallest.dose_unit} beyond the administered units = {jw_units} "
                f"unit(s). {DRUG_WASTE_RULE.basis_text()}"
            ),
            modifiers=("JW",),
            ndc=ndc,
            rule=DRUG_WASTE_RULE,
        ),
    ]


def _split_into_units(drug_id: str, dose: Decimal, rows: tuple[HcpcsCode, ...]) -> list[HcpcsLine]:
    """Billing lines for one drug's session total.

    With one code (the usual case) units = dose / unit size rounded up. When
    several unit sizes are in effect (methylprednisolone before 2024-04-01:
    J1040 80 mg, J1030 40 mg, J1020 20 mg) whole larger units are taken first
    and only the remainder is rounded up with the smallest code.
    """
    by_size = sorted(rows, key=lambda row: row.unit_size, reverse=True)
    remaining = dose
    lines: list[HcpcsLine] = []
    for position, row in enumerate(by_size):
        is_smallest = position == len(by_size) - 1
        rounding = ROUND_CEILING if is_smallest else ROUND_FLOOR
        units = int((remaining / row.unit_size).to_integral_value(rounding=rounding))
        if units <= 0:
            continue
        billed = row.unit_size * units
        billed_part = min(billed, remaining)
        remaining -= billed_part
        rounded_note = " (partial unit rounded up)" if billed > billed_part else ""
        note = f" {row.note}" if row.note else ""
        lines.append(
            HcpcsLine(
                code=row.code,
                units=units,
                drug=drug_id,
                dose=billed_part,
                dose_unit=row.dose_unit,
                billed_dose=billed,
                description=row.description,
                basis=(
                    f"{_number(billed_part)} {row.dose_unit} / {_number(row.unit_size)} {row.dose_unit} per unit = "
                    f"{units} unit(s){rounded_note}.{note} {DRUG_UNITS_RULE.basis_text()}"
                ),
            )
        )
    return lines


def _number(value: Decimal) -> str:
    return f"{value.normalize():f}"


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
    from triggerpoint.assessment.diagnoses import validate_code

    problems: list[str] = []
    for code in codes:
        try:
            validate_code(code, on)
        except RuleInputError as error:
            problems.extend(f"diagnosis {code}: {problem}" for problem in error.problems)
    return problems


def _diagnosis_warnings(
    diagnoses: Iterable[str], on: date, tables: CodeTables, warnings: list[Finding]
) -> None:
    for problem in diagnosis_problems(diagnoses, on):
        warnings.append(Finding.of(DIAGNOSIS_BILLABLE_RULE, SEVERITY_WARNING, problem))
    for diagnosis in diagnoses:
        for flag in tables.diagnosis_flags:
            if flag.matches(diagnosis, on):
                warnings.append(Finding.of(flag.rule, SEVERITY_WARNING, flag.message, diagnosis=diagnosis))


def _payer_warnings(
    payer: PayerPolicy,
    inp: CodesInput,
    injected: list[tuple[str, str]],
    needled: list[tuple[str, str]],
    regions: tuple[str, ...],
    drugs: DrugCatalog,
    warnings: list[Finding],
) -> None:
    def warn(rule: Rule, message: str, **data: Any) -> None:
        basis_rule = Rule(
            rule.id, rule.version, rule.title, f"{rule.basis} Payer policy: {payer.name}.", payer.sources
        )
        warnings.append(
            Finding.of(basis_rule, SEVERITY_WARNING, f"{payer.name}: {message}", payer=payer.id, **data)
        )

    history = inp.history
    has_limits = (
        payer.max_sessions_per_12_months is not None
        or payer.max_sessions_per_region_per_12_months is not None
        or payer.min_days_between_sessions_same_region is not None
    )
    if injected and has_limits and history.is_empty:
        warnings.append(
            Finding.of(
                PAYER_HISTORY_MISSING_RULE,
                SEVERITY_INFO,
                f"{payer.name}: session history not given, so frequency and interval limits were not checked.",
                payer=payer.id,
            )
        )
    if injected:
        _frequency_warnings(payer, history, warn)
        if len(regions) > 1 and not payer.multiple_regions_per_session_covered:
            warn(
                PAYER_MULTI_REGION_RULE,
                f"injections into {len(regions)} anatomic regions in one session ({', '.join(regions)}) are not "
                "covered.",
                regions=list(regions),
            )
    if needled and not payer.dry_needling_covered:
        warn(PAYER_DRY_NEEDLING_RULE, "dry needling is not covered.")
    if inp.guidance == "ultrasound" and not payer.imaging_guidance_covered:
        warn(PAYER_IMAGING_RULE, "imaging guidance of trigger point injections is not covered.")
    classes = {drugs.get(injectate.drug).drug_class for injectate in inp.injectates}
    if injected and classes == {"saline"} and not payer.saline_only_covered:
        warn(PAYER_SALINE_ONLY_RULE, "injections of saline alone are not covered.")
    if payer.covered_injectate_classes is not None:
        uncovered = sorted(
            {injectate.drug for injectate in inp.injectates}
            - {
                injectate.drug
                for injectate in inp.injectates
                if drugs.get(injectate.drug).drug_class in payer.covered_injectate_classes
            }
        )
        if uncovered:
            warn(
                PAYER_INJECTATE_RULE,
                f"{', '.join(uncovered)} not covered (covered: {', '.join(sorted(payer.covered_injectate_classes))}).",
                drugs=uncovered,
            )


# The payer rules about repeating a session too soon or too often. They warn the coder, and
# the same findings stop signing (until a physician overrides) and show on the screening result.
REPEAT_RULE_IDS = frozenset({PAYER_FREQUENCY_RULE.id, PAYER_REGION_FREQUENCY_RULE.id, PAYER_INTERVAL_RULE.id})


def repeat_findings(
    payer_id: str | None, history: SessionHistory, tables: CodeTables | None = None
) -> tuple[Finding, ...]:
    """The payer's interval and 12-month count findings for a planned session in some body regions.

    `payer_id` None means the clinic's default payer. Thresholds are the payer table's
    (``data/payers.yaml``), the same ones the coder's warnings use.
    """
    tables = tables or load_code_tables()
    payer_id = payer_id or tables.default_payer
    if payer_id is None:
        return ()
    payer = tables.payers[payer_id]
    found: list[Finding] = []

    def warn(rule: Rule, message: str, **data: Any) -> None:
        basis_rule = Rule(
            rule.id, rule.version, rule.title, f"{rule.basis} Payer policy: {payer.name}.", payer.sources
        )
        found.append(Finding.of(basis_rule, SEVERITY_WARNING, f"{payer.name}: {message}", payer=payer.id, **data))

    _frequency_warnings(payer, history, warn)
    return tuple(found)


def _frequency_warnings(payer: PayerPolicy, history: SessionHistory, warn: Any) -> None:
    limit = payer.max_sessions_per_12_months
    prior = history.sessions_last_12_months
    if limit is not None and prior is not None and prior + 1 > limit:
        warn(
            PAYER_FREQUENCY_RULE,
            f"this would be session {prior + 1} in 12 months; at most {limit} are covered.",
            sessions_including_this=prior + 1,
            limit=limit,
        )
    limit = payer.max_sessions_per_region_per_12_months
    prior = history.sessions_same_region_last_12_months
    if limit is not None and prior is not None and prior + 1 > limit:
        warn(
            PAYER_REGION_FREQUENCY_RULE,
            f"this would be session {prior + 1} in this body region in 12 months; at most {limit} are covered.",
            sessions_including_this=prior + 1,
            limit=limit,
        )
    minimum = payer.min_days_between_sessions_same_region
    days = history.days_since_same_region
    if minimum is not None and days is not None and days < minimum:
        warn(
            PAYER_INTERVAL_RULE,
            f"the same region was treated {days} days ago; at least {minimum} days are required.",
            days_since_same_region=days,
            minimum_days=minimum,
        )
