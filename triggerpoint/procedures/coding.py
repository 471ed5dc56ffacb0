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

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Protocol

from triggerpoint.atlas.catalog import load_atlas
from triggerpoint.core.rules import Finding, Rule
from triggerpoint.procedures.code_tables import (
    SEVERITY_WARNING,
    CodeTables,
    CptCode,
    build_code_tables,
    load_code_tables,
)
from triggerpoint.procedures.diagnosis_codes import (
    DIAGNOSIS_BILLABLE_RULE,
    diagnosis_problems,
    diagnosis_warnings,
)
from triggerpoint.procedures.drug_codes import (
    DRUG_NO_CODE_RULE,
    DRUG_NOT_CODED_RULE,
    DRUG_UNITS_RULE,
    TOXIN_LABEL_RULE,
    CodingInjectate,
    HcpcsLine,
    drug_lines,
    normalise_ndc,
)
from triggerpoint.procedures.drugs import DrugCatalog, load_drugs
from triggerpoint.procedures.payer_rules import (
    PAYER_DRY_NEEDLING_RULE,
    PAYER_FREQUENCY_RULE,
    PAYER_HISTORY_MISSING_RULE,
    PAYER_IMAGING_RULE,
    PAYER_INJECTATE_RULE,
    PAYER_INTERVAL_RULE,
    PAYER_MULTI_REGION_RULE,
    PAYER_REGION_FREQUENCY_RULE,
    PAYER_SALINE_ONLY_RULE,
    REPEAT_RULE_IDS,
    SessionHistory,
    payer_warnings,
    repeat_findings,
)

# The coder's public surface: callers import these from `coding` whichever module decides them.
__all__ = [
    "DIAGNOSIS_BILLABLE_RULE",
    "REPEAT_RULE_IDS",
    "RULES",
    "CodeTables",
    "CodesInput",
    "CodesResult",
    "CodingInjectate",
    "CptLine",
    "HcpcsLine",
    "SessionHistory",
    "Site",
    "build_code_tables",
    "code_session",
    "diagnosis_problems",
    "load_code_tables",
    "normalise_ndc",
    "repeat_findings",
]

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
NO_CODE_ON_DATE_RULE = Rule(
    id="CODE-NO-CODE-ON-DATE",
    version=1,
    title="No procedure code in effect on the service date",
    basis="The CPT table has no row in effect on the service date (dry needling had no code before 2020).",
    sources=("data/cpt.yaml", "tpi-clinical-facts.md §1.1 (pre-2020: unlisted 20999 advised)"),
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
    return load_atlas()


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
class CodesInput:
    sites: tuple[Site, ...]
    guidance: str
    injectates: tuple[CodingInjectate, ...] = ()
    payer: str | None = None
    diagnoses: tuple[str, ...] = ()
    service_date: date | None = None
    history: SessionHistory = field(default_factory=SessionHistory)


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

    hcpcs_lines = drug_lines(inp.injectates, on, drugs, tables, warnings)
    diagnosis_warnings(inp.diagnoses, on, tables, warnings)

    regions = tuple(sorted({atlas.muscle(muscle).body_region for muscle, _ in injected}))
    payer_id = inp.payer if inp.payer is not None else tables.default_payer
    if payer_id is not None:
        payer_warnings(tables.payers[payer_id], inp.history, inp.guidance, inp.injectates, injected, needled, regions, drugs, warnings)

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


