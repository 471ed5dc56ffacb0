"""Classify one examined muscle (on one side) as an active, latent or no trigger point.

The examiner records what palpation showed for a muscle on one side; two rules then
say what those findings amount to:

* ``ASM-TRP-CLASSIFY`` — the commonly cited minimal criteria after Travell & Simons:
  a palpable taut band with an exquisitely tender spot in it makes a trigger point;
  it is *active* when the patient recognises the pressure-provoked pain as their own,
  familiar pain, otherwise *latent* (painful only on compression). Recognition is
  the test: a separate tick for "spontaneous pain from this muscle" is recorded and
  shown as supporting, but is not also required (version 1 required both, which
  classed recognised points latent whenever that second box was left unticked).
* ``ASM-TRP-LCD-DOC`` — the Medicare LCD operationalisation (L34211 / L36859): at
  least two findings among taut band, hypersensitive spot, local twitch response and
  referred pain, plus a focal hypersensitive nodule. This does not change the
  clinical classification; it tells the clinician whether the note documents what
  the payer asks for before an injection is billed.

Local twitch response, jump sign, reproduced referral and a low pressure pain
threshold are shown as *supporting* findings only: their reliability is limited
(domain file §6), so they never make or unmake a trigger point on their own.

Pure module: no Django, no ORM, no HTTP. Every threshold is in
``TriggerPointCriteria``; a clinic or payer may pass its own instance.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from triggerpoint.atlas.catalog import load_atlas
from triggerpoint.core.choices import SIDES
from triggerpoint.core.rules import Finding, Rule, RuleInputError

CLASSIFY_RULE = Rule(
    id="ASM-TRP-CLASSIFY",
    version=2,
    title="Active, latent or no myofascial trigger point",
    basis=(
        "Minimal criteria after Travell & Simons: a palpable taut band with an exquisitely tender spot "
        "in the band makes a trigger point; it is active when the patient recognises the provoked pain "
        "as their familiar pain, latent when it hurts only on compression. Spontaneous pain, local "
        "twitch response, jump sign, referred pain and a low pressure pain threshold (about 4 kg/cm²) support the "
        "finding but are not required, because their reliability between examiners is limited."
    ),
    sources=(
        "Travell & Simons, Myofascial Pain and Dysfunction: The Trigger Point Manual (definition and "
        "minimal criteria), as summarised in shared/domain/tpi-clinical-facts.md §6",
        "Shah JP et al. PM&R 2015 (reliability caveats), domain file §6",
    ),
)

LCD_DOCUMENTATION_RULE = Rule(
    id="ASM-TRP-LCD-DOC",
    version=1,
    title="Trigger point documented as the Medicare LCD asks",
    basis=(
        "The harmonised Medicare LCDs for trigger point injection (L34211, L36859) ask that a clinical "
        "trigger point be documented by at least two findings among taut band, hypersensitive spot, "
        "local twitch response and referred pain, together with a focal hypersensitive nodule. "
        "Other payers may ask for something else; this only checks the documentation."
    ),
    sources=("CMS LCD L34211 / L36859 Trigger Point Injections (rev. 2024-04-01), domain file §1.4 and §6",),
)


class TriggerPointStatus(StrEnum):
    ACTIVE = "active"
    LATENT = "latent"
    NOT_TRIGGER_POINT = "not_trigger_point"


# The exam findings a rule may name, with the words shown to the clinician.
FINDING_LABELS: dict[str, str] = {
    "taut_band": "palpable taut band",
    "tender_spot": "exquisitely tender spot in the band",
    "recognised_pain": "patient recognises the provoked pain",
    "spontaneous_pain": "spontaneous pain from this muscle",
    "local_twitch_response": "local twitch response",
    "jump_sign": "jump sign",
    "focal_nodule": "focal hypersensitive nodule",
    "referred_pain_reproduced": "referred pain reproduced",
}
BOOLEAN_FINDINGS: tuple[str, ...] = (
    "taut_band",
    "tender_spot",
    "recognised_pain",
    "spontaneous_pain",
    "local_twitch_response",
    "jump_sign",
    "focal_nodule",
)


@dataclass(frozen=True)
class TriggerPointCriteria:
    """Every threshold of ASM-TRP-CLASSIFY and ASM-TRP-LCD-DOC in one table.

    Finding names are keys of ``FINDING_LABELS``. Defaults follow the domain file
    §6 (minimal criteria, ~4 kg pressure) and §1.4 (LCD: ≥2 findings + nodule).
    """

    required_for_trigger_point: tuple[str, ...] = ("taut_band", "tender_spot")
    # Recognition of the provoked pain as the familiar complaint is what makes a point active
    # (domain file §6 "patient recognizes the pain as familiar"); spontaneous pain supports it.
    required_for_active: tuple[str, ...] = ("recognised_pain",)
    lcd_countable_findings: tuple[str, ...] = (
        "taut_band",
        "tender_spot",
        "local_twitch_response",
        "referred_pain_reproduced",
    )
    lcd_min_findings: int = 2
    lcd_requires_focal_nodule: bool = True
    # Supporting information only: a trigger point should hurt at about 4 kg of pressure.
    ppt_supporting_at_or_below_kg_cm2: float = 4.0
    # Hand-held algometers read up to about 10–20 kgf on a 1 cm² tip; above this is a typo.
    ppt_plausible_max_kg_cm2: float = 20.0

    def __post_init__(self) -> None:
        problems = []
        for name in ("required_for_trigger_point", "required_for_active", "lcd_countable_findings"):
            unknown = [item for item in getattr(self, name) if item not in FINDING_LABELS]
            if unknown:
                problems.append(
                    f"{name}: unknown finding(s) {', '.join(unknown)}; allowed: {', '.join(FINDING_LABELS)}"
                )
        if not 1 <= self.lcd_min_findings <= len(self.lcd_countable_findings):
            problems.append(f"lcd_min_findings must be between 1 and {len(self.lcd_countable_findings)}")
        if not 0 < self.ppt_supporting_at_or_below_kg_cm2 < self.ppt_plausible_max_kg_cm2:
            problems.append("pressure thresholds must satisfy 0 < supporting threshold < plausible maximum")
        if problems:
            raise RuleInputError(problems)


DEFAULT_CRITERIA = TriggerPointCriteria()


@dataclass(frozen=True)
class ExamFinding:
    """What palpation of one muscle on one side showed.

    Every yes/no finding must be stated: an unexamined finding is not the same as an
    absent one, so there are no defaults. `pressure_pain_threshold_kg_cm2` is None
    when no algometer was used.
    """

    muscle: str
    side: str
    taut_band: bool
    tender_spot: bool
    recognised_pain: bool
    spontaneous_pain: bool
    local_twitch_response: bool
    jump_sign: bool
    focal_nodule: bool
    referred_pain_zones: frozenset[str]
    pressure_pain_threshold_kg_cm2: float | None = None

    @property
    def referred_pain_reproduced(self) -> bool:
        return bool(self.referred_pain_zones)

    def has(self, finding: str) -> bool:
        return bool(getattr(self, finding))


@dataclass(frozen=True)
class TriggerPointClassification:
    """What the two rules said about one muscle on one side."""

    muscle: str
    side: str
    status: TriggerPointStatus
    meets_lcd_documentation: bool
    lcd_findings_present: tuple[str, ...]
    missing_for_trigger_point: tuple[str, ...]
    missing_for_active: tuple[str, ...]
    supporting_findings: tuple[str, ...]
    referred_zones_in_atlas_pattern: frozenset[str]
    findings: tuple[Finding, ...]


class ExamCatalogue(Protocol):
    """The part of the atlas this module needs (see triggerpoint.atlas.catalog.Atlas)."""

    zones: Mapping[str, Any]

    def has_muscle(self, muscle_id: str) -> bool: ...

    def referred_zones(self, muscle_id: str, side: str) -> tuple[frozenset[str], frozenset[str]]: ...


def _default_atlas() -> ExamCatalogue:
    return load_atlas()


def exam_problems(
    finding: ExamFinding, atlas: ExamCatalogue, criteria: TriggerPointCriteria = DEFAULT_CRITERIA
) -> list[str]:
    """Every reason `finding` cannot be classified (empty when it can)."""
    problems: list[str] = []
    if not isinstance(finding.muscle, str) or not atlas.has_muscle(finding.muscle):
        problems.append(f"unknown muscle {finding.muscle!r}")
    if finding.side not in SIDES:
        problems.append(f"side must be one of {', '.join(SIDES)}, not {finding.side!r}")
    for name in BOOLEAN_FINDINGS:
        if not isinstance(getattr(finding, name), bool):
            problems.append(f"{name} must be true or false, not {getattr(finding, name)!r}")
    zones = finding.referred_pain_zones
    if not isinstance(zones, Collection) or isinstance(zones, str):
        problems.append("referred_pain_zones must be a set of zone ids")
    else:
        unknown = sorted(str(zone) for zone in zones if zone not in atlas.zones)
        if unknown:
            problems.append(
                f"unknown referred pain zone(s): {', '.join(unknown)}; use the body-map zone ids "
                f"(for example {', '.join(sorted(atlas.zones)[:3])})"
            )
    ppt = finding.pressure_pain_threshold_kg_cm2
    if ppt is not None:
        if isinstance(ppt, bool) or not isinstance(ppt, int | float):
            problems.append(f"pressure_pain_threshold_kg_cm2 must be a number, not {ppt!r}")
        elif not 0 < ppt <= criteria.ppt_plausible_max_kg_cm2:
            problems.append(
                f"pressure_pain_threshold_kg_cm2 must be above 0 and at most "
                f"{criteria.ppt_plausible_max_kg_cm2:g} kg/cm², not {ppt:g}"
            )
    return problems


def _labels(names: Iterable[str]) -> str:
    return ", ".join(FINDING_LABELS[name] for name in names)


def classify_trigger_point(
    finding: ExamFinding,
    criteria: TriggerPointCriteria = DEFAULT_CRITERIA,
    *,
    atlas: ExamCatalogue | None = None,
) -> TriggerPointClassification:
    """Apply ASM-TRP-CLASSIFY and ASM-TRP-LCD-DOC to one muscle on one side.

    Raises RuleInputError listing every problem with the finding.
    """
    atlas = atlas if atlas is not None else _default_atlas()
    problems = exam_problems(finding, atlas, criteria)
    if problems:
        raise RuleInputError(problems)

    missing_for_tp = tuple(name for name in criteria.required_for_trigger_point if not finding.has(name))
    missing_for_active = tuple(name for name in criteria.required_for_active if not finding.has(name))
    if missing_for_tp:
        status = TriggerPointStatus.NOT_TRIGGER_POINT
    elif missing_for_active:
        status = TriggerPointStatus.LATENT
    else:
        status = TriggerPointStatus.ACTIVE

    lcd_present = tuple(name for name in criteria.lcd_countable_findings if finding.has(name))
    nodule_ok = finding.focal_nodule or not criteria.lcd_requires_focal_nodule
    meets_lcd = len(lcd_present) >= criteria.lcd_min_findings and nodule_ok

    supporting = [
        name
        for name in ("spontaneous_pain", "local_twitch_response", "jump_sign", "referred_pain_reproduced")
        if finding.has(name) and name not in criteria.required_for_active
    ]
    ppt = finding.pressure_pain_threshold_kg_cm2
    if ppt is not None and ppt <= criteria.ppt_supporting_at_or_below_kg_cm2:
        supporting.append("low_pressure_pain_threshold")
    essential, spillover = atlas.referred_zones(finding.muscle, finding.side)
    in_pattern = frozenset(finding.referred_pain_zones) & (essential | spillover)

    return TriggerPointClassification(
        muscle=finding.muscle,
        side=finding.side,
        status=status,
        meets_lcd_documentation=meets_lcd,
        lcd_findings_present=lcd_present,
        missing_for_trigger_point=missing_for_tp,
        missing_for_active=missing_for_active,
        supporting_findings=tuple(supporting),
        referred_zones_in_atlas_pattern=in_pattern,
        findings=(
            _classification_finding(
                finding, status, missing_for_tp, missing_for_active, supporting, criteria
            ),
            _lcd_finding(finding, meets_lcd, lcd_present, nodule_ok, criteria),
        ),
    )


def classify_exam(
    findings: Iterable[ExamFinding],
    criteria: TriggerPointCriteria = DEFAULT_CRITERIA,
    *,
    atlas: ExamCatalogue | None = None,
) -> tuple[TriggerPointClassification, ...]:
    """Classify every examined site; problems from all sites are reported together."""
    atlas = atlas if atlas is not None else _default_atlas()
    findings = tuple(findings)
    problems: list[str] = []
    seen: set[tuple[str, str]] = set()
    for index, finding in enumerate(findings):
        problems += [f"finding {index + 1}: {problem}" for problem in exam_problems(finding, atlas, criteria)]
        key = (finding.muscle, finding.side)
        if key in seen:
            problems.append(f"finding {index + 1}: {finding.muscle} ({finding.side}) is recorded twice")
        seen.add(key)
    if problems:
        raise RuleInputError(problems)
    return tuple(classify_trigger_point(finding, criteria, atlas=atlas) for finding in findings)


def _site(finding: ExamFinding) -> str:
    return f"{finding.muscle.replace('_', ' ')} ({finding.side})"


def _classification_finding(
    finding: ExamFinding,
    status: TriggerPointStatus,
    missing_for_tp: tuple[str, ...],
    missing_for_active: tuple[str, ...],
    supporting: list[str],
    criteria: TriggerPointCriteria,
) -> Finding:
    site = _site(finding)
    if status is TriggerPointStatus.ACTIVE:
        message = f"{site}: active trigger point ({_labels(criteria.required_for_trigger_point + criteria.required_for_active)})."
    elif status is TriggerPointStatus.LATENT:
        message = (
            f"{site}: latent trigger point ({_labels(criteria.required_for_trigger_point)}), "
            f"without {_labels(missing_for_active)}."
        )
    else:
        message = f"{site}: not a trigger point by the minimal criteria (no {_labels(missing_for_tp)})."
        if finding.tender_spot and not finding.taut_band:
            message += " A tender spot without a taut band is a tender point, which is a different finding."
    if supporting:
        supporting_labels = [
            f"pressure pain threshold {finding.pressure_pain_threshold_kg_cm2:g} kg/cm²"
            if name == "low_pressure_pain_threshold"
            else FINDING_LABELS[name]
            for name in supporting
        ]
        message += f" Supporting: {', '.join(supporting_labels)}."
    return Finding.of(
        CLASSIFY_RULE, "info", message, status=status.value, muscle=finding.muscle, side=finding.side
    )


def _lcd_finding(
    finding: ExamFinding,
    meets_lcd: bool,
    lcd_present: tuple[str, ...],
    nodule_ok: bool,
    criteria: TriggerPointCriteria,
) -> Finding:
    site = _site(finding)
    count = f"{len(lcd_present)} of the listed findings ({_labels(lcd_present) or 'none'})"
    if meets_lcd:
        message = f"{site}: documentation meets the Medicare LCD criteria: {count}"
        if criteria.lcd_requires_focal_nodule:
            message += " and a focal hypersensitive nodule"
        return Finding.of(LCD_DOCUMENTATION_RULE, "info", message + ".", meets=True)
    gaps = []
    if len(lcd_present) < criteria.lcd_min_findings:
        gaps.append(
            f"at least {criteria.lcd_min_findings} of {_labels(criteria.lcd_countable_findings)} (found {count})"
        )
    if not nodule_ok:
        gaps.append("a focal hypersensitive nodule")
    message = (
        f"{site}: documentation does not yet meet the Medicare LCD criteria; it needs {' and '.join(gaps)}."
    )
    return Finding.of(LCD_DOCUMENTATION_RULE, "review", message, meets=False)
