"""Bleeding rules of issue 14: deep, non-compressible sites, dual antithrombotic therapy, a high INR.

Trigger point injections are low bleeding risk and blood thinners are continued (SCR-ANTICOAGULANT).
Three situations still need a physician to look first:

* **SCR-DEEP-SITE-BLEEDING** — a site the atlas marks ``non_compressible`` (gluteals, piriformis,
  quadratus lumborum, iliopsoas, multifidus) with any anticoagulant or antiplatelet, or a recent
  INR above range: a bleed there cannot be stopped by pressing and can compress a nerve (a gluteus
  medius haematoma with weakness 3 hours after a TPI on clopidogrel). The finding carries
  ``aftercare_warning: haematoma``; the aftercare plan adds the haematoma warning for these
  patients (`haematoma_warning_needed`, used by ``aftercare/services.py``).
* **SCR-DUAL-ANTITHROMBOTIC** — two or more different anticoagulants/antiplatelets together.
* **SCR-INR-ABOVE-RANGE** — an INR above the upper limit taken within the recent window (defaults:
  above 3.0, within 28 days; 3.0 itself and a reading 29 days old do not count).

Thresholds and severities: ``data/safety_rules.yaml`` (``bleeding``). Pure: no Django, ORM or HTTP.
"""

from __future__ import annotations

from typing import Any

from triggerpoint.core.rules import Finding, Rule
from triggerpoint.screening.safety_data import load_safety_rules

ANTITHROMBOTIC_CLASSES = frozenset({"anticoagulant", "antiplatelet"})
HAEMATOMA_WARNING = "haematoma"
_TABLE = load_safety_rules()
_SOURCES = _TABLE.cite("bleeding")

DEEP_SITE = Rule(
    "SCR-DEEP-SITE-BLEEDING",
    1,
    "Deep, non-compressible site with a blood thinner or a high INR",
    "A bleed deep in the buttock, the psoas or beside the spine cannot be stopped by pressing on it and can "
    "press on a nerve; a gluteus medius haematoma with leg weakness followed a trigger point injection in a "
    "patient on clopidogrel. Consider a superficial site, ultrasound guidance and a thinner needle, and warn "
    "the patient.",
    _SOURCES,
)
DUAL = Rule(
    "SCR-DUAL-ANTITHROMBOTIC",
    1,
    "Two or more blood thinners together",
    "Combining anticoagulants and antiplatelets (or two antiplatelets) raises bleeding risk beyond either "
    "alone; ASRA lists concurrent use as a patient factor for bleeding.",
    _SOURCES,
)
INR = Rule(
    "SCR-INR-ABOVE-RANGE",
    1,
    "Recent INR above range",
    "An INR above the usual warfarin target range means the blood clots more slowly than intended; the "
    "physician checks it before needling, especially at deep sites.",
    _SOURCES,
)
RULES: tuple[Rule, ...] = (DEEP_SITE, DUAL, INR)


def antithrombotics(ctx) -> list[str]:
    """Distinct anticoagulants and antiplatelets the patient takes, by table entry where named there."""
    seen: dict[str, str] = {}
    for medication in ctx.inp.patient.medications:
        entry = ctx.blood_thinners.find(medication.name)
        if entry is not None:
            seen.setdefault(entry.id, entry.name)
        elif medication.drug_class in ANTITHROMBOTIC_CLASSES:
            seen.setdefault(medication.name.casefold(), medication.name)
    return list(seen.values())


def inr_above_range(ctx) -> bool:
    """A recent INR above the limit: above (not at) the upper limit, taken within the recent window."""
    reading = ctx.inp.patient.inr
    if reading is None:
        return False
    age_days = (ctx.inp.procedure_date - reading.taken_on).days
    return reading.value > _TABLE.inr_upper_limit and age_days <= _TABLE.bleeding["inr_recent_days"]


def haematoma_warning_needed(non_compressible_site: bool, antithrombotic_count: int, inr_high: bool) -> bool:
    """Whether the patient's aftercare plan needs the haematoma warning (same test as SCR-DEEP-SITE-BLEEDING)."""
    return non_compressible_site and (antithrombotic_count > 0 or inr_high)


def deep_site(ctx) -> list[Finding]:
    deep = sorted({site.muscle for site in ctx.inp.plan.sites if ctx.atlas.muscle(site.muscle).non_compressible})
    drugs = antithrombotics(ctx)
    high_inr = inr_above_range(ctx)
    if not haematoma_warning_needed(bool(deep), len(drugs), high_inr):
        return []
    reasons = ([", ".join(drugs)] if drugs else []) + (
        [f"INR {ctx.inp.patient.inr.value} on {ctx.inp.patient.inr.taken_on.isoformat()}"] if high_inr else []
    )
    names = ", ".join(ctx.atlas.muscle(muscle_id).name for muscle_id in deep)
    return [
        Finding.of(
            DEEP_SITE,
            _TABLE.bleeding["deep_site_severity"],
            f"Deep, non-compressible site ({names}) with {' and '.join(reasons)}: a bleed here cannot be stopped "
            "by pressure. Consider another site or ultrasound guidance; the aftercare plan will warn the patient "
            "about swelling, numbness or weakness.",
            muscles=deep,
            antithrombotics=drugs,
            inr_above_range=high_inr,
            aftercare_warning=HAEMATOMA_WARNING,
        )
    ]


def dual_therapy(ctx) -> list[Finding]:
    drugs = antithrombotics(ctx)
    if len(drugs) < 2:
        return []
    return [
        Finding.of(
            DUAL,
            _TABLE.bleeding["dual_antithrombotic_severity"],
            f"{len(drugs)} blood thinners together ({', '.join(drugs)}): bleeding risk is higher. The physician "
            "reviews the sites and needle; do not stop either without the prescriber.",
            antithrombotics=drugs,
        )
    ]


def high_inr(ctx) -> list[Finding]:
    reading = ctx.inp.patient.inr
    if reading is None or reading.value <= _TABLE.inr_upper_limit:
        return []
    limit, window = _TABLE.inr_upper_limit, _TABLE.bleeding["inr_recent_days"]
    if not inr_above_range(ctx):
        return [
            Finding.of(
                INR,
                "info",
                f"INR {reading.value} on {reading.taken_on.isoformat()} was above {limit} but is older than {window} "
                "days; a current INR may be needed.",
                inr=str(reading.value),
            )
        ]
    return [
        Finding.of(
            INR,
            _TABLE.bleeding["inr_severity"],
            f"INR {reading.value} on {reading.taken_on.isoformat()} is above {limit}: the physician reviews it "
            "before the procedure (deep sites especially).",
            inr=str(reading.value),
            upper_limit=str(limit),
        )
    ]


EVALUATORS: dict[str, Any] = {
    DEEP_SITE.id: deep_site,
    DUAL.id: dual_therapy,
    INR.id: high_inr,
}
