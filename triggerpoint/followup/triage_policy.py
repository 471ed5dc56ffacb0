"""Triage dispositions, the clinic-settable thresholds (`TriageThresholds`) and the triage rule table.

The windows and what each disposition means are described in `triage`. Pure module: no Django,
no ORM, no HTTP.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from triggerpoint.core.rules import Rule
from triggerpoint.followup.temperature import CELSIUS, FAHRENHEIT, fahrenheit_to_celsius, format_degrees
from triggerpoint.followup.triage_signs import sign_rules
from triggerpoint.followup.windows import FEVER_ALLERGY, LOCAL_INFECTION, TOXIN_SPREAD, load_windows

EMERGENCY = "emergency"


URGENT = "urgent"


ROUTINE = "routine"


SELF_CARE = "self_care"


#: Least to most severe; a disposition is the most severe of its findings.
DISPOSITIONS: tuple[str, ...] = (SELF_CARE, ROUTINE, URGENT, EMERGENCY)


_RANK = {name: rank for rank, name in enumerate(DISPOSITIONS)}


SEED_002 = "Trigger Point Clinic protocol, seed page 002 (warning signs after trigger point injection)"


DRUGS_COM = "Drugs.com, trigger point injection discharge care https://www.drugs.com/cg/trigger-point-injection-discharge-care.html"


MEDSCAPE_LAST = "Medscape, local anesthetic systemic toxicity https://emedicine.medscape.com/article/1844551-overview"


FCEP_PTX = "FCEP case report, bilateral pneumothoraces after trigger point injections https://fcep.org/bilateral-pneumothoraces-after-trigger-point-injection-therapy-a-case-report/"


@dataclass(frozen=True)
class TriageThresholds:
    """Every number triage uses, in one table. Pass another instance to change a clinic's protocol.

    Defaults: the seed protocol (fever over 101 °F; soreness about 48 hours), Medscape's
    local-anaesthetic toxicity onset (usually minutes, up to 60 min; doubled here as a margin),
    a plausible body-temperature range of 34–43 °C, and the warning-sign windows from
    data/warning_windows.yaml (fever/allergy 5 days, local infection 14, toxin spread 84).
    """

    fever_above_f: Decimal = Decimal("101.0")
    #: Fever and allergy signs are paged through this day (the fever_allergy window).
    urgent_window_days: int = field(default_factory=lambda: load_windows().days(FEVER_ALLERGY))
    #: Site infection signs and pain not relieved are paged through this day.
    local_infection_window_days: int = field(default_factory=lambda: load_windows().days(LOCAL_INFECTION))
    #: Botulinum toxin spread signs are acted on through this day.
    toxin_spread_window_days: int = field(default_factory=lambda: load_windows().days(TOXIN_SPREAD))
    anaesthetic_reaction_window: timedelta = timedelta(hours=2)
    expected_effects_window: timedelta = timedelta(hours=48)
    plausible_temperature_f: tuple[Decimal, Decimal] = (Decimal("93.2"), Decimal("109.4"))
    reporting_window_days: int = 14
    severe_pain_score: int = 7

    def __post_init__(self) -> None:
        low, high = self.plausible_temperature_f
        if not low < self.fever_above_f < high:
            raise ValueError("fever threshold must lie inside the plausible temperature range")
        if not 0 <= self.urgent_window_days <= self.local_infection_window_days <= self.reporting_window_days:
            raise ValueError("windows must satisfy 0 <= fever/allergy <= local infection <= reporting window")
        if self.toxin_spread_window_days < 0:
            raise ValueError("the toxin spread window must not be negative")

    @property
    def fever_label(self) -> tuple[str, str]:
        """('101.0 °F', '38.3 °C') for patient texts."""
        return (
            format_degrees(self.fever_above_f, FAHRENHEIT),
            format_degrees(fahrenheit_to_celsius(self.fever_above_f), CELSIUS),
        )


DEFAULT_THRESHOLDS = TriageThresholds()


@functools.cache
def triage_rules(thresholds: TriageThresholds = DEFAULT_THRESHOLDS) -> dict[str, Rule]:
    """The rules with their basis worded from `thresholds` (so the basis never shows a stale number)."""
    fever_f, fever_c = thresholds.fever_label
    days = thresholds.urgent_window_days
    site_days = thresholds.local_infection_window_days
    last_minutes = int(thresholds.anaesthetic_reaction_window.total_seconds() // 60)
    expected_hours = int(thresholds.expected_effects_window.total_seconds() // 3600)
    rules = [
        Rule("TRI-EMERG-RED-FLAG", 1, "Emergency warning sign",
             "Trouble breathing, chest pain, sudden weakness, fainting, swelling of the lips, tongue or throat, "
             "a seizure or a racing heart can mean anaphylaxis, a collapsed lung, bleeding or a drug reaction: "
             "call 911 at any time after the injection.", (DRUGS_COM, SEED_002)),
        Rule("TRI-EMERG-PNEUMOTHORAX", 1, "Breathing trouble or chest pain after a chest-wall or neck site",
             "Injections over the chest wall and lower neck can puncture the lung; breathing trouble or chest pain "
             "after such a site may be a pneumothorax, which can appear hours later and needs urgent imaging.",
             (FCEP_PTX, SEED_002)),
        Rule("TRI-EMERG-LAST", 1, "Possible local-anaesthetic toxicity",
             f"Numbness around the mouth, metallic taste, ringing ears, dizziness, confusion or twitching within "
             f"{last_minutes} minutes of an injection can be early local-anaesthetic systemic toxicity, which can "
             f"progress to seizures and cardiac arrest. Onset is usually 1–5 minutes, up to 60.", (MEDSCAPE_LAST,)),
        Rule("TRI-ROUTINE-LAST-LATE", 1, "Toxicity-type sign outside the toxicity window",
             f"More than {last_minutes} minutes after the injection these signs are unlikely to be anaesthetic "
             f"toxicity; a clinician reviews them.", (MEDSCAPE_LAST,)),
        Rule("TRI-URG-FEVER", 1, f"Temperature above {fever_f} within {days} days",
             f"A temperature above {fever_f} ({fever_c}) within {days} days of the procedure can mean infection; "
             f"the clinic pages its on-call clinician. (No published TPI-specific threshold was found; this is the "
             f"clinic's own protocol.)", (SEED_002, DRUGS_COM)),
        Rule("TRI-URG-FEVER-UNMEASURED", 1, "Feeling feverish with no reading",
             f"A patient who feels feverish within {days} days but has no reading may be above {fever_f}; "
             f"paging is the safe choice until a reading is known.", (SEED_002,)),
        Rule("TRI-ROUTINE-FEVER-NOT-CONFIRMED", 1, "Feeling feverish, reading not above the threshold",
             f"The reading is not above {fever_f} ({fever_c}); a clinician reviews it.", (SEED_002,)),
        Rule("TRI-URG-SITE", 2, f"Signs of infection at the site within {site_days} days",
             f"Persistent or spreading redness, swelling, increasing local pain or discharge at the injection site "
             f"within {site_days} days can mean infection; the clinic pages its on-call clinician. "
             f"{load_windows().get(LOCAL_INFECTION).basis}", (SEED_002, DRUGS_COM)),
        Rule("TRI-URG-ALLERGY", 1, f"Possible allergic reaction within {days} days",
             f"Hives, rash or itching within {days} days can be an allergic reaction to an injected drug; the clinic "
             f"pages its on-call clinician. Swelling of the lips, tongue or throat is an emergency instead.",
             (SEED_002, DRUGS_COM)),
        Rule("TRI-URG-PAIN", 2, f"Pain much worse and not relieved within {site_days} days, or pain with fever "
             f"within {days}",
             f"Pain that is much worse and not relieved by ice and NSAIDs (within {site_days} days), or pain together "
             f"with fever (within {days} days, the fever window), can mean infection, a haematoma or nerve injury; "
             f"the clinic pages its on-call clinician.", (SEED_002,)),
        Rule("TRI-ROUTINE-AFTER-WINDOW", 2, "Warning sign after its window",
             f"The clinic pages fever and allergy signs within {days} days and site infection signs within "
             f"{site_days} days of the procedure (day 0 is the procedure day); later they are reviewed by a "
             f"clinician within a business day.", (SEED_002,)),
        Rule("TRI-ROUTINE-PROLONGED", 1, "Expected effect lasting longer than expected",
             f"Soreness and numbness are expected for about {expected_hours} hours; lasting longer, a clinician "
             f"reviews them (nerve irritation, haematoma).", (SEED_002,)),
        Rule("TRI-ROUTINE-SEVERE-PAIN", 1, "Severe pain score",
             f"A pain score of {thresholds.severe_pain_score}/10 or more is severe on the numeric rating scale; "
             f"expected post-injection soreness is mild, so a clinician reviews it.", (SEED_002,)),
        Rule("TRI-ROUTINE-REQUEST", 1, "Patient asks for a clinician",
             "Anything the patient asks a clinician to look at is read by a clinician.", (SEED_002,)),
        Rule("TRI-ROUTINE-LATE-REPORT", 1, "Check-in after the follow-up window",
             f"More than {thresholds.reporting_window_days} days after the procedure a report is no longer "
             f"treated as an injection after-effect; a clinician reviews it.", (SEED_002,)),
        Rule("TRI-TEXT-UNCLEAR", 1, "Message not understood",
             "The software could not read the patient's message; a person reads it so that a warning sign written "
             "in unexpected words is not missed.", ()),
        Rule("TRI-SELF-CARE", 1, "Expected after-effect",
             f"Soreness for about {expected_hours} hours, a small bruise and temporary numbness are expected after "
             f"trigger point injections and are managed at home with ice, heat and stretching.",
             (SEED_002, "Trigger Point Clinic protocol, seed page 003 (aftercare)")),
        Rule("TRI-NO-WARNING-SIGNS", 1, "No warning sign reported",
             "Nothing in the check-in is a warning sign.", (SEED_002,)),
    ]
    rules += sign_rules(thresholds.toxin_spread_window_days, thresholds.reporting_window_days)
    return {rule.id: rule for rule in rules}

