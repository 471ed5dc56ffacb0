"""Pre-procedure screening: is this patient ready for this trigger point procedure on this day?

Each rule below looks at one kind of fact (today's health, the weeks before, allergies,
blood thinners, the planned sites and injectates, the patient's history) and states a
finding with a severity, a message and the basis shown to the clinician. The screening
status is the most severe finding: ``info`` < ``review`` < ``defer`` < ``contraindicated``;
``ready`` when nothing is above ``info``.

Every number a clinic may set differently lives in `ScreeningPolicy` (one table, the
defaults being the clinic protocol of the seed pages and the sources in
``shared/domain``); pass another instance to evaluate under another clinic's or payer's
rules. Clinical word lists (blood thinners, allergy words) are data in ``data/``.

Facts the rules need are parsed by `parse_screening_request` (``schemas.py``), which refuses a request
that is missing a required fact or names an unknown drug, muscle, unit or code — listing
every problem at once — so that a missing fact can never come out as a silent ``ready``.

The recent-illness window is half-open: an event counts when any of its days falls in
``[procedure_date - window_days, procedure_date)``. With the default 28 days, an event on
day 28 before the procedure counts and one ending on day 29 does not. An event may not
start on or after the procedure date: the procedure day's health is reported in ``today``.

Allergy matching, in order: a class word ("amide anesthetics", "steroids", "botox"); a drug
of the catalogue by id, name or synonym; a local anesthetic the clinic does not stock
(``data/allergy_terms.yaml``); then any other single word ending in "-caine" is taken as a
local anesthetic of unknown class, which the clinician must identify (``review``).
Cross-reactivity is by class: an allergy to one amide counts against every amide.

Issue 14 rule groups live in their own modules and are run from this module's rule table:
``rules_allergy`` (allergy status, excipients, unmatched allergies), ``rules_toxin`` (botulinum
toxin), ``rules_bleeding`` (deep non-compressible sites, dual antithrombotics, INR) and
``rules_conditions`` (immunosuppression, red flags, magnesium, bilateral chest-wall sites); their
thresholds are in ``data/safety_rules.yaml`` and ``data/excipients.yaml``.

Pure module: no Django, no ORM, no HTTP.

Files by what they decide: ``policy`` (vocabularies, thresholds, sources), ``inputs`` (the typed
facts), ``request`` (reading the JSON contract), ``rules_health`` (infection, antibiotics, fever,
feeling unwell, recent illness), ``rules_allergy_injectate`` (allergy to a planned injectate),
``rules_anticoagulant`` (blood thinners, bleeding disorders), ``rules_patient`` (pregnancy,
widespread pain, vasovagal, pneumothorax-risk sites), ``rules_steroid`` (corticosteroid cautions)
and ``rules_toxin`` (botulinum toxin). This module holds the rule table and runs it; its names
are the public surface the rest of the app imports.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from triggerpoint.atlas.catalog import Atlas, load_atlas
from triggerpoint.catalogues.drugs import Drug, DrugCatalog, load_drugs
from triggerpoint.core.rules import Finding, Rule
from triggerpoint.screening import (
    rules_allergy,
    rules_allergy_injectate,
    rules_anticoagulant,
    rules_bleeding,
    rules_conditions,
    rules_health,
    rules_patient,
    rules_steroid,
    rules_toxin,
)
from triggerpoint.screening.content import (
    AllergyVocabulary,
    BloodThinnerTable,
    load_allergy_vocabulary,
    load_blood_thinners,
)
from triggerpoint.screening.inputs import (
    Event,
    HistoryFacts,
    InrReading,
    Medication,
    PatientFacts,
    PlanFacts,
    PlannedInjectate,
    PlannedSite,
    ScreeningInput,
    ScreeningResult,
    Temperature,
    TodayFacts,
    celsius_to_fahrenheit,
    fahrenheit_to_celsius,
)
from triggerpoint.screening.policy import (
    ALLERGY_STATUSES,
    BLOOD_THINNER_CLASSES,
    BOTULINUM_TOXIN,
    CONDITIONS,
    CORTICOSTEROID,
    DEFAULT_POLICY,
    EVENT_TYPES,
    GUIDANCE_MODES,
    INPUT_LIMITS,
    MEDICATION_CLASSES,
    READY,
    SALINE,
    SEVERITIES,
    SEVERITY_RANK,
    SEXES,
    TECHNIQUES,
    TEMPERATURE_UNITS,
    VIAL_KINDS,
    InputLimits,
    ScreeningPolicy,
)
from triggerpoint.screening.rules_allergy_injectate import allergy_classes, remaining_alternatives
from triggerpoint.screening.rules_health import event_in_window, recent_event_window
from triggerpoint.screening.schemas import parse_plan, parse_screening_request

__all__ = [
    "ALLERGY_STATUSES", "BLOOD_THINNER_CLASSES", "BOTULINUM_TOXIN", "CONDITIONS", "CORTICOSTEROID", "DEFAULT_POLICY",
    "EVALUATORS", "EVENT_TYPES", "GUIDANCE_MODES", "INPUT_LIMITS", "MEDICATION_CLASSES", "READY", "RULES", "SALINE",
    "SEVERITIES", "SEXES", "TECHNIQUES", "TEMPERATURE_UNITS", "VIAL_KINDS", "Event", "HistoryFacts", "InputLimits",
    "InrReading", "Medication", "PatientFacts", "PlanFacts", "PlannedInjectate", "PlannedSite", "ScreeningInput",
    "ScreeningPolicy", "ScreeningResult", "Temperature", "TodayFacts", "allergy_classes", "celsius_to_fahrenheit",
    "evaluate", "event_in_window", "fahrenheit_to_celsius", "parse_plan", "parse_screening_request",
    "recent_event_window", "remaining_alternatives", "screening_status",
]

# --- the rule table, in the order findings of one severity are listed ---------------------------------

RULES: dict[str, Rule] = {
    rule.id: rule
    for rule in (
        rules_health.SITE_INFECTION,
        rules_allergy_injectate.ALLERGY_INJECTATE,
        rules_health.ANTIBIOTICS_TODAY,
        rules_health.FEVER_TODAY,
        rules_health.UNWELL_TODAY,
        rules_health.RECENT_ILLNESS,
        rules_anticoagulant.ANTICOAGULANT,
        rules_anticoagulant.BLEEDING_DISORDER,
        rules_patient.PREGNANCY,
        rules_patient.WIDESPREAD_PAIN,
        rules_steroid.STEROID_DIABETES,
        rules_steroid.STEROID_GLUCOSE,
        rules_patient.PNEUMOTHORAX_SITE,
        rules_toxin.OFF_LABEL,
        rules_patient.VASOVAGAL,
        rules_steroid.STEROID_SERIES,
        rules_steroid.STEROID_YEARLY,
        *rules_allergy.RULES,
        *rules_toxin.RULES,
        *rules_bleeding.RULES,
        *rules_conditions.RULES,
    )
}


# --- evaluation -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Context:
    inp: ScreeningInput
    policy: ScreeningPolicy
    atlas: Atlas
    drugs: DrugCatalog
    blood_thinners: BloodThinnerTable
    allergy_words: AllergyVocabulary

    @property
    def planned_drugs(self) -> tuple[Drug, ...]:
        return tuple(self.drugs.get(injectate.drug) for injectate in self.inp.plan.injectates)

    @property
    def planned_classes(self) -> frozenset[str]:
        return frozenset(drug.drug_class for drug in self.planned_drugs)

    @property
    def steroid_planned(self) -> bool:
        return CORTICOSTEROID in self.planned_classes

    def allergy_match(self, substance: str) -> str:
        """How a recorded allergy matched (see `allergy_classes`); the issue-14 allergy rules use it."""
        return allergy_classes(substance, self.allergy_words, self.drugs)[1]


EVALUATORS: dict[str, Callable[[_Context], list[Finding]]] = {
    "SCR-SITE-INFECTION": rules_health.site_infection,
    "SCR-ALLERGY-INJECTATE": rules_allergy_injectate.allergies,
    "SCR-ANTIBIOTICS-TODAY": rules_health.antibiotics_today,
    "SCR-FEVER-TODAY": rules_health.fever_today,
    "SCR-UNWELL-TODAY": rules_health.unwell_today,
    "SCR-RECENT-ILLNESS": rules_health.recent_illness,
    "SCR-ANTICOAGULANT": rules_anticoagulant.anticoagulants,
    "SCR-BLEEDING-DISORDER": rules_anticoagulant.bleeding_disorder,
    "SCR-PREGNANCY": rules_patient.pregnancy,
    "SCR-WIDESPREAD-PAIN": rules_patient.widespread_pain,
    "SCR-STEROID-DIABETES": rules_steroid.steroid_diabetes,
    "SCR-STEROID-GLUCOSE": rules_steroid.steroid_glucose,
    "SCR-PNEUMOTHORAX-SITE": rules_patient.pneumothorax_site,
    "SCR-BOTULINUM-TOXIN": rules_toxin.botulinum_toxin_planned,
    "SCR-VASOVAGAL": rules_patient.vasovagal,
    "SCR-STEROID-SERIES": rules_steroid.steroid_series,
    "SCR-STEROID-YEARLY": rules_steroid.steroid_yearly,
    # issue 14 rule groups, each in its own module
    **rules_allergy.EVALUATORS,
    **rules_toxin.EVALUATORS,
    **rules_bleeding.EVALUATORS,
    **rules_conditions.EVALUATORS,
}


def screening_status(findings: tuple[Finding, ...] | list[Finding]) -> str:
    """The most severe finding's severity; ``ready`` when nothing is above ``info``."""
    worst = max((SEVERITY_RANK[finding.severity] for finding in findings), default=0)
    return READY if worst == 0 else SEVERITIES[worst]


def evaluate(
    inp: ScreeningInput,
    policy: ScreeningPolicy = DEFAULT_POLICY,
    *,
    atlas: Atlas | None = None,
    drugs: DrugCatalog | None = None,
) -> ScreeningResult:
    """Run every screening rule; findings come most severe first, then in rule-table order."""
    ctx = _Context(
        inp=inp,
        policy=policy,
        atlas=atlas or load_atlas(),
        drugs=drugs or load_drugs(),
        blood_thinners=load_blood_thinners(),
        allergy_words=load_allergy_vocabulary(),
    )
    findings = [finding for evaluator in EVALUATORS.values() for finding in evaluator(ctx)]
    findings.sort(key=lambda finding: -SEVERITY_RANK[finding.severity])
    return ScreeningResult(status=screening_status(findings), findings=tuple(findings))
