"""Score the 2016 ACR fibromyalgia criteria and tell the clinician what they mean for injections.

A trigger point clinic needs this because fibromyalgia and myofascial pain look alike
at the door: both hurt in muscles and both are tender. Myofascial pain is regional and
comes from trigger points (a taut band with a tender spot); fibromyalgia is widespread
pain with widespread tenderness. Trigger point injections treat the first, not the
second, so the visit screens for fibromyalgia and says so when the criteria are met.

Rule ``ASM-FM-ACR2016`` (Wolfe et al. 2016 revision of the 2010/2011 criteria) is met
when all three hold:

1. WPI ≥ 7 and SSS ≥ 5, or WPI 4–6 and SSS ≥ 9;
2. generalised pain: pain in at least 4 of the 5 regions, where jaw, chest and
   abdominal pain do not count towards a region;
3. symptoms present at a similar level for at least 3 months.

A fibromyalgia diagnosis is valid whatever other diagnoses the patient has, so a met
result does not rule out trigger points; it changes what injections can be expected to do.

The 19 WPI areas, their regions and the pain-drawing zones in each are data
(``data/wpi_zone_map.yaml``). Pure module: no Django, no ORM, no HTTP.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from triggerpoint.assessment._data import AssessmentDataError, load_document
from triggerpoint.atlas.catalog import load_atlas
from triggerpoint.core.rules import Finding, Rule, RuleInputError

ACR_2016_RULE = Rule(
    id="ASM-FM-ACR2016",
    version=1,
    title="2016 ACR fibromyalgia criteria",
    basis=(
        "Fibromyalgia criteria are met when the Widespread Pain Index (WPI, 0–19) is at least 7 with a "
        "Symptom Severity Scale (SSS, 0–12) of at least 5, or the WPI is 4–6 with an SSS of at least 9; "
        "pain is generalised (at least 4 of 5 regions, not counting jaw, chest or abdominal pain); and "
        "symptoms have been present at a similar level for at least 3 months. The diagnosis stands "
        "whatever other diagnoses are present. Widespread tenderness is not a myofascial trigger point."
    ),
    sources=(
        "Wolfe F, et al. 2016 Revisions to the 2010/2011 fibromyalgia diagnostic criteria. "
        "Semin Arthritis Rheum 2016;46:319–329",
        "shared/domain/tpi-clinical-facts.md §6.1",
    ),
)

FIBROMYALGIA_MESSAGE = (
    "The 2016 ACR fibromyalgia criteria are met. Fibromyalgia is widespread pain with widespread "
    "tenderness; it is a different condition from myofascial trigger points. Trigger point injections "
    "are aimed only at trigger points (a taut band with an exquisitely tender spot), not at tender "
    "points, so inject only the trigger points you confirm on examination and set expectations "
    "accordingly. Some payers treat tender-point injection for fibromyalgia as investigational."
)

SEVERITY_ITEMS: tuple[str, ...] = ("fatigue", "waking_unrefreshed", "cognitive_symptoms")
SOMATIC_ITEMS: tuple[str, ...] = ("headaches", "lower_abdominal_pain_or_cramps", "depression")
SEVERITY_MAX = 3


@dataclass(frozen=True)
class Acr2016Thresholds:
    """Every threshold of ASM-FM-ACR2016 in one table (Wolfe et al. 2016)."""

    wpi_high_min: int = 7
    sss_with_high_wpi_min: int = 5
    wpi_mid_min: int = 4
    wpi_mid_max: int = 6
    sss_with_mid_wpi_min: int = 9
    generalised_pain_min_regions: int = 4
    symptom_min_months: int = 3


DEFAULT_THRESHOLDS = Acr2016Thresholds()


@dataclass(frozen=True)
class WpiArea:
    id: str
    label: str
    region: str
    counts_for_generalised_pain: bool
    zones: frozenset[str]


@dataclass(frozen=True)
class WpiMap:
    """The 19 WPI areas in their 5 regions, and which body-map zone lies in which area."""

    regions: dict[str, str]
    areas: dict[str, WpiArea]
    zone_to_area: dict[str, str]
    unmapped_zones: dict[str, str]  # zone id -> why it has no WPI area


@functools.lru_cache(maxsize=1)
def load_wpi_map() -> WpiMap:
    """The shipped WPI map, schema-validated and checked for overlaps; cached (immutable)."""
    return build_wpi_map(load_document("wpi_zone_map.yaml", "wpi_zone_map.schema.json"))


def build_wpi_map(document: Mapping[str, Any]) -> WpiMap:
    problems: list[str] = []
    source_ids = {source["id"] for source in document["sources"]}
    regions = {region["id"]: region["label"] for region in document["regions"]}
    areas: dict[str, WpiArea] = {}
    zone_to_area: dict[str, str] = {}
    for row in document["areas"]:
        if row["id"] in areas:
            problems.append(f"duplicate WPI area {row['id']}")
        if row["region"] not in regions:
            problems.append(f"area {row['id']}: unknown region {row['region']}")
        if row["source"] not in source_ids:
            problems.append(f"area {row['id']}: unknown source {row['source']}")
        for zone in row["zones"]:
            if zone in zone_to_area:
                problems.append(f"zone {zone} is in both {zone_to_area[zone]} and {row['id']}")
            zone_to_area[zone] = row["id"]
        areas[row["id"]] = WpiArea(
            row["id"],
            row["label"],
            row["region"],
            row["counts_for_generalised_pain"],
            frozenset(row["zones"]),
        )
    unmapped: dict[str, str] = {}
    for group in document["unmapped_zones"]:
        for zone in group["zones"]:
            if zone in zone_to_area or zone in unmapped:
                problems.append(f"zone {zone} is listed more than once")
            unmapped[zone] = group["reason"]
    if problems:
        raise AssessmentDataError(problems)
    return WpiMap(regions=regions, areas=areas, zone_to_area=zone_to_area, unmapped_zones=unmapped)


@dataclass(frozen=True)
class FibromyalgiaSymptoms:
    """The patient's answers to the 2016 criteria questionnaire.

    `painful_areas`: WPI area ids with pain in the past week. Severity items are 0–3
    for the past week; the three somatic items are "bothered by this in the past
    6 months". `symptom_months`: how long symptoms have been at a similar level.
    """

    painful_areas: frozenset[str]
    fatigue: int
    waking_unrefreshed: int
    cognitive_symptoms: int
    headaches: bool
    lower_abdominal_pain_or_cramps: bool
    depression: bool
    symptom_months: int


@dataclass(frozen=True)
class FibromyalgiaResult:
    wpi: int
    sss: int
    fibromyalgia_severity: int  # WPI + SSS, 0–31 ("polysymptomatic distress" in the 2016 paper)
    painful_regions: tuple[str, ...]  # regions with pain that counts for generalised pain
    generalised_pain: bool
    wpi_sss_met: bool
    duration_met: bool
    criteria_met: bool
    clinician_message: str | None
    findings: tuple[Finding, ...]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def symptom_problems(symptoms: FibromyalgiaSymptoms, wpi_map: WpiMap) -> list[str]:
    """Every reason `symptoms` cannot be scored (empty when it can)."""
    problems: list[str] = []
    areas = symptoms.painful_areas
    if isinstance(areas, str) or not isinstance(areas, Iterable):
        problems.append("painful_areas must be a set of WPI area ids")
    else:
        unknown = sorted(str(area) for area in areas if area not in wpi_map.areas)
        if unknown:
            problems.append(f"unknown WPI area(s): {', '.join(unknown)}; allowed: {', '.join(wpi_map.areas)}")
    for name in SEVERITY_ITEMS:
        value = getattr(symptoms, name)
        if not _is_int(value) or not 0 <= value <= SEVERITY_MAX:
            problems.append(f"{name} must be a whole number from 0 to {SEVERITY_MAX}, not {value!r}")
    for name in SOMATIC_ITEMS:
        if not isinstance(getattr(symptoms, name), bool):
            problems.append(f"{name} must be true or false, not {getattr(symptoms, name)!r}")
    if not _is_int(symptoms.symptom_months) or symptoms.symptom_months < 0:
        problems.append(
            f"symptom_months must be a whole number of months (0 or more), not {symptoms.symptom_months!r}"
        )
    return problems


def score_acr_2016(
    symptoms: FibromyalgiaSymptoms,
    thresholds: Acr2016Thresholds = DEFAULT_THRESHOLDS,
    *,
    wpi_map: WpiMap | None = None,
) -> FibromyalgiaResult:
    """Apply ASM-FM-ACR2016; raises RuleInputError listing every problem with the answers."""
    wpi_map = wpi_map if wpi_map is not None else load_wpi_map()
    problems = symptom_problems(symptoms, wpi_map)
    if problems:
        raise RuleInputError(problems)

    painful = frozenset(symptoms.painful_areas)
    wpi = len(painful)
    sss = sum(getattr(symptoms, name) for name in SEVERITY_ITEMS) + sum(
        1 for name in SOMATIC_ITEMS if getattr(symptoms, name)
    )
    regions = tuple(
        region
        for region in wpi_map.regions
        if any(
            area.region == region and area.counts_for_generalised_pain
            for area in (wpi_map.areas[area_id] for area_id in painful)
        )
    )
    t = thresholds
    wpi_sss_met = (wpi >= t.wpi_high_min and sss >= t.sss_with_high_wpi_min) or (
        t.wpi_mid_min <= wpi <= t.wpi_mid_max and sss >= t.sss_with_mid_wpi_min
    )
    generalised = len(regions) >= t.generalised_pain_min_regions
    duration_met = symptoms.symptom_months >= t.symptom_min_months
    met = wpi_sss_met and generalised and duration_met

    detail = (
        f"WPI {wpi}/19, SSS {sss}/12, pain in {len(regions)} of {len(wpi_map.regions)} regions "
        f"(jaw, chest and abdomen not counted), symptoms for {symptoms.symptom_months} month(s)."
    )
    if met:
        finding = Finding.of(ACR_2016_RULE, "review", f"{FIBROMYALGIA_MESSAGE} {detail}", met=True)
    else:
        unmet = []
        if not wpi_sss_met:
            unmet.append(
                f"WPI/SSS (needs WPI ≥ {t.wpi_high_min} with SSS ≥ {t.sss_with_high_wpi_min}, "
                f"or WPI {t.wpi_mid_min}–{t.wpi_mid_max} with SSS ≥ {t.sss_with_mid_wpi_min})"
            )
        if not generalised:
            unmet.append(f"generalised pain (needs {t.generalised_pain_min_regions} regions)")
        if not duration_met:
            unmet.append(f"duration (needs {t.symptom_min_months} months at a similar level)")
        finding = Finding.of(
            ACR_2016_RULE,
            "info",
            f"The 2016 ACR fibromyalgia criteria are not met: {'; '.join(unmet)}. {detail}",
            met=False,
        )
    return FibromyalgiaResult(
        wpi=wpi,
        sss=sss,
        fibromyalgia_severity=wpi + sss,
        painful_regions=regions,
        generalised_pain=generalised,
        wpi_sss_met=wpi_sss_met,
        duration_met=duration_met,
        criteria_met=met,
        clinician_message=FIBROMYALGIA_MESSAGE if met else None,
        findings=(finding,),
    )


@dataclass(frozen=True)
class WpiFromDrawing:
    """WPI areas proposed from a pain drawing, for the clinician to confirm."""

    areas: frozenset[str]
    zones_by_area: dict[str, frozenset[str]]
    zones_without_area: frozenset[str]  # drawn zones outside the 19 WPI areas (head, hands, feet)


def wpi_areas_from_pain_drawing(
    zone_ids: Iterable[str],
    *,
    known_zones: Iterable[str] | None = None,
    wpi_map: WpiMap | None = None,
) -> WpiFromDrawing:
    """Map the body-map zones a patient shaded to WPI areas.

    Raises RuleInputError naming every zone id the body map does not have.
    `known_zones` defaults to the atlas's zone ids.
    """
    wpi_map = wpi_map if wpi_map is not None else load_wpi_map()
    if known_zones is None:
        known_zones = load_atlas().zones
    known = frozenset(known_zones)
    if isinstance(zone_ids, str):
        raise RuleInputError("zone ids must be a list, not a single string")
    drawn = frozenset(zone_ids)
    unknown = sorted(str(zone) for zone in drawn if zone not in known)
    if unknown:
        raise RuleInputError(f"unknown body-map zone(s): {', '.join(unknown)}")
    zones_by_area: dict[str, set[str]] = {}
    outside: set[str] = set()
    for zone in drawn:
        area = wpi_map.zone_to_area.get(zone)
        if area is None:
            outside.add(zone)
        else:
            zones_by_area.setdefault(area, set()).add(zone)
    return WpiFromDrawing(
        areas=frozenset(zones_by_area),
        zones_by_area={area: frozenset(zones) for area, zones in sorted(zones_by_area.items())},
        zones_without_area=frozenset(outside),
    )
