"""Warning-sign triage after a trigger point injection.

Given a patient's check-in (what they feel, when, which sites were injected, an optional
temperature and message), decide how fast a human must act, and tell the patient what to
do now. Dispositions, most severe first:

``emergency``  call 911 now (breathing trouble, chest pain, sudden weakness, fainting,
               swelling of lips/tongue/throat, seizure, racing heart at any time; early
               signs of local-anaesthetic toxicity within its window after the injection).
``urgent``     the on-call clinician is paged (fever above the threshold or signs of allergy
               within 5 days; signs of infection at the site or pain much worse despite ice
               and NSAIDs within 14 days; toxin-spread signs within 12 weeks of botulinum
               toxin; a message naming breathing, chest, throat, swelling or fainting in
               words the scanner could not read). The windows live in
               data/warning_windows.yaml, which patient materials read too.
``routine``    a clinician reads it within a business day (the same signs later on, effects
               lasting longer than expected, a request to be looked at, an unreadable
               message).
``self_care``  expected effects (soreness in the first 48 hours, a small bruise, temporary
               numbness), answered with the matching aftercare advice.

The clinic protocol (seed page 002) pages *all* of its warning signs; this module sends the
breathing/chest/weakness signs to 911 instead, as issue 8 and the Drugs.com discharge sheet
do, because a page-and-call-back loop is too slow for a collapsed lung or anaphylaxis.

Decisions made explicit (each is tested):

* **Time.** ``reported_at`` must be timezone-aware; a naive datetime is *rejected*, never
  assumed to be UTC, because a wrong zone shifts the day number and can close a window
  early. Day numbers are calendar days: the procedure day is day 0, "within 5 days" means
  days 0–5 inclusive, day 6 is outside. The calendar date of ``reported_at`` is taken in
  the UTC offset it was sent with, so callers send it in the clinic's local offset.
* **Injection time.** The contract carries only ``procedure_date``; an optional
  ``procedure_at`` gives the exact time. Without it the windows measured in hours are
  computed conservatively: the toxicity window is assumed to start at the *latest* possible
  injection time (end of the procedure day), so it stays open longer (never under-triage);
  the 48-hour soreness window is assumed to start at the *earliest* (start of the procedure
  day), so soreness stops counting as expected sooner (routine rather than self care).
* **Fever.** "Above 101 °F" is strict: 101.0 °F is not urgent, 101.1 °F is. °C readings are
  converted exactly (38.3 °C = 100.94 °F is not above; 38.4 °C = 101.12 °F is). A patient
  who feels feverish but has no reading is paged (we cannot rule out a fever above the
  threshold); one whose reading is not above the threshold is reviewed routinely.
* **Free text** is scanned by text_scan and can only *raise* the disposition: the result is
  the more severe of the form alone and the form plus the message, so a message that says
  "no fever" can never cancel a ticked fever. A non-empty message the scanner could not
  read raises the check-in to at least ``routine`` (``TRI-TEXT-UNCLEAR``): a patient who
  took the trouble to write something we cannot classify may be describing a warning sign
  in words we do not know, and self care would mean nobody ever reads it.
* **Reporting window.** After ``reporting_window_days`` a check-in is no longer attributed
  to the injection: emergency signs still say call 911; toxin-spread signs inside their
  12-week window and unread alarm words keep their disposition (triage_signs); everything
  else becomes one routine review (``TRI-ROUTINE-LATE-REPORT``).
* **Botulinum toxin.** ``botulinum_toxin`` (true/false) says whether the procedure included a
  toxin; absent or null means unknown, and unknown is treated as "possibly given".

Pure module: no Django, no ORM, no HTTP.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Protocol

from triggerpoint.core import plausible
from triggerpoint.core.rules import Finding, Rule, RuleInputError
from triggerpoint.followup.content import (
    SymptomCatalog,
    load_instructions,
    load_lexicon,
    load_symptoms,
)
from triggerpoint.followup.temperature import (
    CELSIUS,
    FAHRENHEIT,
    UNIT_SPELLINGS,
    Temperature,
    describe_range,
    fahrenheit_to_celsius,
    format_degrees,
    is_plausible,
    normalise_unit,
    to_decimal,
)
from triggerpoint.followup.text_scan import TextScan, scan_text
from triggerpoint.followup.triage_signs import NOT_FOLDED_LATE, alarm_outcome, sign_rules, toxin_outcomes
from triggerpoint.followup.windows import FEVER_ALLERGY, LOCAL_INFECTION, TOXIN_SPREAD, load_windows

EMERGENCY = "emergency"
URGENT = "urgent"
ROUTINE = "routine"
SELF_CARE = "self_care"
#: Least to most severe; a disposition is the most severe of its findings.
DISPOSITIONS: tuple[str, ...] = (SELF_CARE, ROUTINE, URGENT, EMERGENCY)
_RANK = {name: rank for rank, name in enumerate(DISPOSITIONS)}

SIDES = ("left", "right")
PAIN_SCALE = (0, 10)
MAX_FREE_TEXT_CHARS = 4000
REQUEST_FIELDS = (
    "procedure_date",
    "procedure_at",
    "reported_at",
    "sites",
    "symptoms",
    "temperature",
    "pain_now",
    "free_text",
    "botulinum_toxin",
)
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


class MuscleCatalogue(Protocol):
    """What triage needs from the atlas (``triggerpoint.atlas.catalog.Atlas``)."""

    def has_muscle(self, muscle_id: str) -> bool: ...

    def muscle(self, muscle_id: str) -> Any: ...


def _default_atlas() -> MuscleCatalogue:
    from triggerpoint.atlas.catalog import load_atlas  # imported late: a sibling app, loaded only when needed

    return load_atlas()


# ----------------------------------------------------------------------------- input


@dataclass(frozen=True)
class Site:
    """One treated site: one muscle on one side."""

    muscle: str
    side: str


@dataclass(frozen=True)
class TriageInput:
    """A validated check-in. Build it with parse_triage_request, or directly from typed values."""

    procedure_date: date
    reported_at: datetime
    symptoms: frozenset[str] = frozenset()
    sites: tuple[Site, ...] = ()
    temperature: Temperature | None = None
    pain_now: int | None = None
    free_text: str = ""
    procedure_at: datetime | None = None
    botulinum_toxin: bool | None = None


def _parse_date(raw: object, name: str, problems: list[str]) -> date | None:
    if raw is None:
        problems.append(f"{name}: required (YYYY-MM-DD)")
        return None
    if not isinstance(raw, str):
        problems.append(f"{name}: must be a date string YYYY-MM-DD, got {raw!r}")
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        problems.append(f"{name}: {raw!r} is not a date (YYYY-MM-DD)")
        return None


def _parse_datetime(raw: object, name: str, problems: list[str]) -> datetime | None:
    if not isinstance(raw, str):
        problems.append(f"{name}: must be an ISO 8601 datetime string with a UTC offset, got {raw!r}")
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        problems.append(f"{name}: {raw!r} is not an ISO 8601 datetime")
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        problems.append(
            f"{name}: {raw!r} has no UTC offset; send it with the clinic's offset (e.g. 2025-03-04T09:30:00-05:00) "
            f"— a missing zone is not assumed to be UTC because that can shift the day after the procedure"
        )
        return None
    return value


def _parse_temperature(raw: object, thresholds: TriageThresholds, problems: list[str]) -> Temperature | None:
    if not isinstance(raw, Mapping):
        problems.append('temperature: must be an object {"value": number, "unit": "F" | "C"}')
        return None
    unknown = sorted(set(raw) - {"value", "unit"})
    if unknown:
        problems.append(f"temperature: unknown field(s) {unknown}; allowed: ['unit', 'value']")
    value = to_decimal(raw.get("value")) if not isinstance(raw.get("value"), str) else None
    unit = normalise_unit(raw.get("unit"))
    if value is None:
        problems.append(f"temperature.value: must be a number, got {raw.get('value')!r}")
    if unit is None:
        problems.append(
            f"temperature.unit: {raw.get('unit')!r} is not a temperature unit; allowed: {sorted(UNIT_SPELLINGS)}"
        )
    if value is None or unit is None:
        return None
    reading = Temperature(value, unit)
    if not is_plausible(reading, thresholds.plausible_temperature_f):
        problems.append(
            f"temperature: {value} °{unit} is not a plausible body temperature (expected "
            f"{describe_range(thresholds.plausible_temperature_f)}); please check the reading and the unit — "
            f"it is not guessed"
        )
        return None
    return reading


def _parse_sites(raw: object, atlas: MuscleCatalogue | None, problems: list[str]) -> tuple[Site, ...]:
    if not isinstance(raw, list):
        problems.append('sites: must be a list of {"muscle": "<muscle id>", "side": "left" | "right"}')
        return ()
    sites = []
    for index, entry in enumerate(raw):
        if not isinstance(entry, Mapping):
            problems.append(f'sites[{index}]: must be an object {{"muscle", "side"}}')
            continue
        unknown = sorted(set(entry) - {"muscle", "side"})
        if unknown:
            problems.append(f"sites[{index}]: unknown field(s) {unknown}; allowed: ['muscle', 'side']")
        muscle, side = entry.get("muscle"), entry.get("side")
        ok = True
        if side not in SIDES:
            problems.append(f"sites[{index}].side: {side!r} is not a side; allowed: {list(SIDES)}")
            ok = False
        if not isinstance(muscle, str) or not muscle:
            problems.append(f"sites[{index}].muscle: required muscle id")
            ok = False
        else:
            atlas = atlas or _default_atlas()
            if not atlas.has_muscle(muscle):
                allowed = sorted(getattr(atlas, "muscles", {}))
                problems.append(f"sites[{index}].muscle: unknown muscle {muscle!r}; allowed: {allowed}")
                ok = False
        if ok:
            sites.append(Site(muscle=muscle, side=side))
    return tuple(sites)


def _parse_symptoms(raw: object, catalog: SymptomCatalog, problems: list[str]) -> frozenset[str]:
    if raw is None:
        problems.append(f"symptoms: required (a list, may be empty); allowed ids: {list(catalog.ids)}")
        return frozenset()
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        problems.append(f"symptoms: must be a list of symptom ids; allowed ids: {list(catalog.ids)}")
        return frozenset()
    unknown = [item for item in raw if item not in catalog.by_id]
    if unknown:
        problems.append(f"symptoms: unknown symptom id(s) {unknown}; allowed ids: {list(catalog.ids)}")
    return frozenset(item for item in raw if item in catalog.by_id)


def _parse_pain(raw: object, problems: list[str]) -> int | None:
    low, high = PAIN_SCALE
    if isinstance(raw, bool) or not isinstance(raw, int | float) or raw != int(raw) or not low <= raw <= high:
        problems.append(f"pain_now: must be a whole number from {low} to {high}, got {raw!r}")
        return None
    return int(raw)


def parse_triage_request(
    payload: object,
    *,
    atlas: MuscleCatalogue | None = None,
    symptoms: SymptomCatalog | None = None,
    thresholds: TriageThresholds = DEFAULT_THRESHOLDS,
) -> TriageInput:
    """Turn the JSON body of ``POST /api/v1/followup/triage`` into a TriageInput.

    Raises RuleInputError listing every problem at once: missing or malformed dates, a
    naive datetime, a report dated before the procedure, unknown fields, unknown symptom
    ids (with the allowed list), unknown muscles or sides, a bad unit, an implausible
    temperature, a pain score outside 0–10. ``null`` optional fields count as absent.
    The atlas is loaded only when sites are given.
    """
    catalog = symptoms or load_symptoms()
    if not isinstance(payload, Mapping):
        raise RuleInputError("the check-in must be a JSON object")
    problems: list[str] = []
    unknown = sorted(set(payload) - set(REQUEST_FIELDS))
    if unknown:
        problems.append(f"unknown field(s) {unknown}; allowed: {list(REQUEST_FIELDS)}")

    procedure_date = _parse_date(payload.get("procedure_date"), "procedure_date", problems)
    reported_at = None
    if payload.get("reported_at") is None:
        problems.append("reported_at: required (ISO 8601 datetime with a UTC offset)")
    else:
        reported_at = _parse_datetime(payload["reported_at"], "reported_at", problems)
    procedure_at = None
    if payload.get("procedure_at") is not None:
        procedure_at = _parse_datetime(payload["procedure_at"], "procedure_at", problems)
    # Years such as 9999 parse but overflow once converted to UTC: refuse them with the field named.
    implausible: list[str] = []
    for name, kind, value in (("procedure_date", "scheduled", procedure_date), ("reported_at", "recorded", reported_at),
                              ("procedure_at", "scheduled", procedure_at)):
        plausible.check(kind, value, f"{name}:", implausible)
    problems.extend(implausible)

    symptom_ids = _parse_symptoms(payload.get("symptoms"), catalog, problems)
    sites: tuple[Site, ...] = ()
    if payload.get("sites") is not None:
        sites = _parse_sites(payload["sites"], atlas, problems)
    temperature = None
    if payload.get("temperature") is not None:
        temperature = _parse_temperature(payload["temperature"], thresholds, problems)
    pain_now = None
    if payload.get("pain_now") is not None:
        pain_now = _parse_pain(payload["pain_now"], problems)
    free_text = payload.get("free_text") or ""
    if not isinstance(free_text, str):
        problems.append("free_text: must be a string")
        free_text = ""
    elif len(free_text) > MAX_FREE_TEXT_CHARS:
        problems.append(f"free_text: longer than {MAX_FREE_TEXT_CHARS} characters")

    botulinum_toxin = payload.get("botulinum_toxin")
    if botulinum_toxin is not None and not isinstance(botulinum_toxin, bool):
        problems.append(f"botulinum_toxin: must be true, false or null (unknown), got {botulinum_toxin!r}")
        botulinum_toxin = None

    if procedure_date and reported_at and not implausible:
        problems.extend(_timing_problems(procedure_date, reported_at, procedure_at))
    if problems:
        raise RuleInputError(problems)
    assert procedure_date is not None and reported_at is not None  # noqa: S101 - guaranteed by the checks above
    return TriageInput(
        procedure_date=procedure_date,
        reported_at=reported_at,
        symptoms=symptom_ids,
        sites=sites,
        temperature=temperature,
        pain_now=pain_now,
        free_text=free_text,
        procedure_at=procedure_at,
        botulinum_toxin=botulinum_toxin,
    )


def _timing_problems(procedure_date: date, reported_at: datetime, procedure_at: datetime | None) -> list[str]:
    problems = []
    if reported_at.tzinfo is None or reported_at.utcoffset() is None:
        problems.append("reported_at: must carry a UTC offset")
        return problems
    if reported_at.date() < procedure_date:
        problems.append(
            f"reported_at: {reported_at.isoformat()} is before the procedure date {procedure_date.isoformat()}"
        )
    if procedure_at is not None:
        if procedure_at.tzinfo is None or procedure_at.utcoffset() is None:
            problems.append("procedure_at: must carry a UTC offset")
            return problems
        if procedure_at.date() != procedure_date:
            problems.append(
                f"procedure_at: {procedure_at.isoformat()} is not on procedure_date {procedure_date.isoformat()} "
                f"(send it in the clinic's local offset)"
            )
        if reported_at < procedure_at:
            problems.append(f"reported_at: {reported_at.isoformat()} is before procedure_at {procedure_at.isoformat()}")
    return problems


# ----------------------------------------------------------------------------- timing


@dataclass(frozen=True)
class Timing:
    """Where the report falls relative to the injection (see the module docstring)."""

    day: int
    hours_since_procedure: float | None
    anaesthetic_window_open: bool
    expected_effects_window_open: bool
    within_urgent_window: bool
    within_reporting_window: bool
    within_local_infection_window: bool
    exact: bool


def compute_timing(inp: TriageInput, thresholds: TriageThresholds = DEFAULT_THRESHOLDS) -> Timing:
    day = (inp.reported_at.date() - inp.procedure_date).days
    if inp.procedure_at is not None:
        elapsed = inp.reported_at - inp.procedure_at
        hours: float | None = elapsed.total_seconds() / 3600
        anaesthetic_open = elapsed <= thresholds.anaesthetic_reaction_window
        expected_open = elapsed <= thresholds.expected_effects_window
    else:
        # Only the date is known: the injection happened somewhere inside the procedure day,
        # in the reporter's offset. Take whichever end of that day is the safer assumption.
        start_of_day = datetime.combine(inp.procedure_date, time.min, tzinfo=inp.reported_at.tzinfo)
        latest_injection = start_of_day + timedelta(days=1)
        hours = None
        anaesthetic_open = inp.reported_at - latest_injection <= thresholds.anaesthetic_reaction_window
        expected_open = inp.reported_at - start_of_day <= thresholds.expected_effects_window
    return Timing(
        day=day,
        hours_since_procedure=hours,
        anaesthetic_window_open=anaesthetic_open,
        expected_effects_window_open=expected_open,
        within_urgent_window=day <= thresholds.urgent_window_days,
        within_reporting_window=day <= thresholds.reporting_window_days,
        exact=inp.procedure_at is not None,
        within_local_infection_window=day <= thresholds.local_infection_window_days,
    )


# ----------------------------------------------------------------------------- evaluation


@dataclass(frozen=True)
class Reason:
    """A finding together with the disposition it asks for."""

    disposition: str
    finding: Finding


@dataclass(frozen=True)
class _Facts:
    """What one evaluation pass looks at (form alone, or form plus message)."""

    symptoms: frozenset[str]
    from_text: frozenset[str]
    temperature: Temperature | None
    temperature_from_text: bool
    pain_now: int | None
    text_unclear: tuple[str, ...] | None  # None: no unclear text; tuple: unreadable temperature mentions
    toxin_given: bool | None = None
    alarm_words: tuple[str, ...] = ()
    emergency_alarm_words: tuple[str, ...] = ()


def _labels(ids: Iterable[str], catalog: SymptomCatalog) -> str:
    return "; ".join(catalog.get(i).label_en.lower() for i in sorted(ids))


def _sourced(ids: Iterable[str], from_text: frozenset[str]) -> str:
    return " (from your message)" if set(ids) and set(ids) <= from_text else ""


def _evaluate(
    facts: _Facts,
    timing: Timing,
    ptx_sites: tuple[Site, ...],
    catalog: SymptomCatalog,
    thresholds: TriageThresholds,
) -> list[Reason]:
    rules = triage_rules(thresholds)
    reasons: list[Reason] = []

    def add(disposition: str, rule_id: str, message: str, **data: Any) -> None:
        reasons.append(Reason(disposition, Finding.of(rules[rule_id], disposition, message, **data)))

    by_rule: dict[str, set[str]] = {}
    for symptom_id in facts.symptoms:
        by_rule.setdefault(catalog.get(symptom_id).rule, set()).add(symptom_id)
    late_signs: set[str] = set()

    red_flags = by_rule.get("TRI-EMERG-RED-FLAG", set())
    if red_flags:
        add(EMERGENCY, "TRI-EMERG-RED-FLAG",
            f"Emergency warning sign: {_labels(red_flags, catalog)}{_sourced(red_flags, facts.from_text)}.",
            symptoms=sorted(red_flags))
    chest_signs = {s for s in red_flags if catalog.get(s).pneumothorax_sign}
    if chest_signs and ptx_sites:
        where = ", ".join(f"{site.side} {site.muscle.replace('_', ' ')}" for site in ptx_sites)
        add(EMERGENCY, "TRI-EMERG-PNEUMOTHORAX",
            f"{_labels(chest_signs, catalog).capitalize()} after an injection over the chest wall or lower neck "
            f"({where}) can mean a collapsed lung (pneumothorax).",
            symptoms=sorted(chest_signs), sites=[f"{s.side}:{s.muscle}" for s in ptx_sites])

    last_signs = by_rule.get("TRI-EMERG-LAST", set())
    if last_signs and timing.anaesthetic_window_open:
        add(EMERGENCY, "TRI-EMERG-LAST",
            f"Possible reaction to the numbing medicine soon after the injection: {_labels(last_signs, catalog)}"
            f"{_sourced(last_signs, facts.from_text)}.", symptoms=sorted(last_signs))
    elif last_signs:
        add(ROUTINE, "TRI-ROUTINE-LAST-LATE",
            f"{_labels(last_signs, catalog).capitalize()}: reported too long after the injection to be a reaction "
            f"to the numbing medicine; a clinician will review it.", symptoms=sorted(last_signs))

    fever_reading = facts.temperature is not None and facts.temperature.fahrenheit > thresholds.fever_above_f
    if fever_reading:
        assert facts.temperature is not None  # noqa: S101 - narrowed for the type checker
        described = facts.temperature.describe()
        if timing.within_urgent_window:
            add(URGENT, "TRI-URG-FEVER",
                f"Temperature {described} is above {thresholds.fever_label[0]} on day {timing.day} after the "
                f"procedure{' (from your message)' if facts.temperature_from_text else ''}.",
                temperature_f=float(facts.temperature.fahrenheit), day=timing.day)
        else:
            late_signs.add(f"temperature {described}")

    feverish = "fever" in facts.symptoms
    if feverish and not fever_reading:
        if not timing.within_urgent_window:
            late_signs.add("feeling feverish")
        elif facts.temperature is None:
            add(URGENT, "TRI-URG-FEVER-UNMEASURED",
                f"Feeling feverish on day {timing.day} with no temperature reading"
                f"{_sourced({'fever'}, facts.from_text)}.", day=timing.day)
        else:
            add(ROUTINE, "TRI-ROUTINE-FEVER-NOT-CONFIRMED",
                f"Feeling feverish, but the reading {facts.temperature.describe()} is not above "
                f"{thresholds.fever_label[0]}.", temperature_f=float(facts.temperature.fahrenheit))

    for rule_id, what, window_open in (
        ("TRI-URG-SITE", "Possible infection at the injection site", timing.within_local_infection_window),
        ("TRI-URG-ALLERGY", "Possible allergic reaction", timing.within_urgent_window),
    ):
        signs = by_rule.get(rule_id, set())
        if signs and window_open:
            add(URGENT, rule_id, f"{what} on day {timing.day}: {_labels(signs, catalog)}"
                f"{_sourced(signs, facts.from_text)}.", symptoms=sorted(signs), day=timing.day)
        elif signs:
            late_signs.update(catalog.get(s).label_en.lower() for s in signs)

    pain_signs = {s for s in facts.symptoms if catalog.get(s).pain_sign}
    severe_score = facts.pain_now is not None and facts.pain_now >= thresholds.severe_pain_score
    not_relieved = by_rule.get("TRI-URG-PAIN", set())
    with_fever = (feverish or fever_reading) and (pain_signs or severe_score) and timing.within_urgent_window
    not_relieved_paged = bool(not_relieved) and timing.within_local_infection_window
    if not_relieved_paged or with_fever:
        detail = (f"pain much worse and not relieved{_sourced(not_relieved, facts.from_text)}" if not_relieved_paged
                  else "pain together with fever")
        add(URGENT, "TRI-URG-PAIN", f"{detail.capitalize()} on day {timing.day}.", day=timing.day)
    elif not_relieved:
        late_signs.update(catalog.get(s).label_en.lower() for s in not_relieved)

    for outcome in toxin_outcomes(facts.symptoms, catalog, day=timing.day, toxin_given=facts.toxin_given,
                                  toxin_window_days=thresholds.toxin_spread_window_days,
                                  from_text=facts.from_text):
        add(outcome.disposition, outcome.rule, outcome.message, **outcome.data)
    alarm = alarm_outcome(facts.alarm_words, facts.emergency_alarm_words)
    if alarm is not None:
        add(alarm.disposition, alarm.rule, alarm.message, **alarm.data)

    if late_signs:
        add(ROUTINE, "TRI-ROUTINE-AFTER-WINDOW",
            f"Reported on day {timing.day}, after the window in which it is paged: {'; '.join(sorted(late_signs))}.",
            day=timing.day)

    if severe_score:
        add(ROUTINE, "TRI-ROUTINE-SEVERE-PAIN", f"Pain score {facts.pain_now}/10 is severe.", pain_now=facts.pain_now)

    requested = by_rule.get("TRI-ROUTINE-REQUEST", set())
    if requested:
        add(ROUTINE, "TRI-ROUTINE-REQUEST", "You asked for a clinician to look at this.")

    for symptom_id in sorted(by_rule.get("TRI-SELF-CARE", set())):
        symptom = catalog.get(symptom_id)
        window_open = (timing.expected_effects_window_open if symptom.self_care_window == "expected_effects"
                       else timing.within_reporting_window)
        if window_open:
            add(SELF_CARE, "TRI-SELF-CARE", f"{symptom.label_en}: expected after trigger point injections.",
                symptom=symptom_id)
        else:
            add(ROUTINE, "TRI-ROUTINE-PROLONGED",
                f"{symptom.label_en}: still there {_elapsed_words(timing)} after the injection, longer than expected.",
                symptom=symptom_id)

    if facts.text_unclear is not None:
        unreadable = facts.text_unclear
        detail = (f" (could not read the temperature {', '.join(repr(t) for t in unreadable)})" if unreadable else "")
        add(ROUTINE, "TRI-TEXT-UNCLEAR", f"Your message could not be understood automatically{detail}; "
            f"a person will read it.")

    if not timing.within_reporting_window:
        reasons = _fold_late_report(reasons, timing, rules)
    if not reasons:
        add(SELF_CARE, "TRI-NO-WARNING-SIGNS", "No warning sign was reported.")
    return reasons


def _elapsed_words(timing: Timing) -> str:
    if timing.hours_since_procedure is not None:
        return f"{timing.hours_since_procedure:.0f} hours"
    return f"on day {timing.day}"


def _fold_late_report(reasons: list[Reason], timing: Timing, rules: Mapping[str, Rule]) -> list[Reason]:
    """After the reporting window, keep emergencies and the unclear-text flag; fold the rest into one review."""
    kept = [r for r in reasons
            if r.disposition == EMERGENCY or r.finding.rule == "TRI-TEXT-UNCLEAR" or r.finding.rule in NOT_FOLDED_LATE]
    folded = [r for r in reasons if r not in kept]
    if folded:
        summary = "; ".join(r.finding.message.rstrip(".") for r in folded)
        kept.append(Reason(ROUTINE, Finding.of(
            rules["TRI-ROUTINE-LATE-REPORT"], ROUTINE,
            f"Reported on day {timing.day}, after the follow-up window: {summary}.", day=timing.day)))
    return kept


# ----------------------------------------------------------------------------- result


@dataclass(frozen=True)
class TriageResult:
    """The disposition, why, and what the patient is told. `as_dict()` is the API contract shape."""

    disposition: str
    reasons: tuple[Finding, ...]
    instructions: str
    text_understood: bool | None
    day: int
    hours_since_procedure: float | None
    symptoms_from_text: tuple[str, ...] = ()
    temperature: Temperature | None = None
    text_scan: TextScan | None = field(default=None, compare=False, repr=False)

    @property
    def rule_ids(self) -> tuple[str, ...]:
        return tuple(reason.rule for reason in self.reasons)

    def as_dict(self) -> dict[str, Any]:
        return {
            "disposition": self.disposition,
            "reasons": [reason.as_dict() for reason in self.reasons],
            "instructions": self.instructions,
            "text_understood": self.text_understood,
            "day_after_procedure": self.day,
            "symptoms_from_text": list(self.symptoms_from_text),
            "temperature": self.temperature.as_dict() if self.temperature else None,
        }


def instruction_values(thresholds: TriageThresholds = DEFAULT_THRESHOLDS) -> dict[str, Any]:
    """What fills an instruction's placeholders: the fever threshold and the warning-sign windows."""
    fever_f, fever_c = thresholds.fever_label
    return {"fever_f": fever_f, "fever_c": fever_c, "urgent_days": thresholds.urgent_window_days,
            "fever_days": thresholds.urgent_window_days, "site_days": thresholds.local_infection_window_days,
            "toxin_weeks": thresholds.toxin_spread_window_days // 7}


def _instructions(
    disposition: str, reasons: list[Reason], thresholds: TriageThresholds, language: str,
    toxin_given: bool | None = None,
) -> str:
    texts = load_instructions(language)
    values = instruction_values(thresholds)
    rule_ids = {r.finding.rule for r in reasons}
    parts = [texts.dispositions[disposition]]
    if "TRI-TOXIN-SPREAD" in rule_ids and disposition in (EMERGENCY, URGENT):
        parts.append(texts.extras["toxin_spread"])
    if disposition == EMERGENCY:
        if "TRI-EMERG-PNEUMOTHORAX" in rule_ids:
            parts.append(texts.extras["pneumothorax"])
        if "TRI-EMERG-LAST" in rule_ids:
            parts.append(texts.extras["anaesthetic_reaction"])
    if disposition == URGENT and "TRI-URG-FEVER-UNMEASURED" in rule_ids:
        parts.append(texts.extras["take_temperature"])
    if disposition == ROUTINE and "TRI-TEXT-UNCLEAR" in rule_ids:
        parts.append(texts.extras["unclear_text"])
    if disposition in (SELF_CARE, ROUTINE):
        advice_ids = [str(r.finding.data["symptom"]) for r in reasons if r.finding.rule == "TRI-SELF-CARE"]
        if "TRI-NO-WARNING-SIGNS" in rule_ids:
            advice_ids.append("no_warning_signs")
        parts.extend(texts.self_care_advice[a] for a in dict.fromkeys(advice_ids))
    if disposition == SELF_CARE:
        parts.append(texts.extras["safety_net"])
    if disposition in (SELF_CARE, ROUTINE) and toxin_given:
        parts.append(texts.extras["toxin_safety_net"])
    return " ".join(part.format(**values).strip() for part in parts)


def _most_severe(reasons: Iterable[Reason]) -> str:
    return max((r.disposition for r in reasons), key=_RANK.__getitem__)


def triage(
    inp: TriageInput,
    atlas: MuscleCatalogue | None = None,
    thresholds: TriageThresholds = DEFAULT_THRESHOLDS,
    *,
    symptoms: SymptomCatalog | None = None,
    language: str = "en",
) -> TriageResult:
    """Decide the disposition of one check-in.

    `atlas` answers whether a treated muscle lies over the lung (``pneumothorax_risk``);
    it is loaded only when sites are given. Raises RuleInputError for a TriageInput whose
    times are inconsistent (parse_triage_request already checks this for API input).
    """
    catalog = symptoms or load_symptoms()
    problems = _timing_problems(inp.procedure_date, inp.reported_at, inp.procedure_at)
    unknown = sorted(inp.symptoms - set(catalog.ids))
    if unknown:
        problems.append(f"symptoms: unknown symptom id(s) {unknown}; allowed ids: {list(catalog.ids)}")
    if problems:
        raise RuleInputError(problems)

    timing = compute_timing(inp, thresholds)
    ptx_sites: tuple[Site, ...] = ()
    if inp.sites:
        atlas = atlas or _default_atlas()
        ptx_sites = tuple(site for site in inp.sites if atlas.muscle(site.muscle).pneumothorax_risk)

    form_facts = _Facts(
        symptoms=inp.symptoms, from_text=frozenset(), temperature=inp.temperature,
        temperature_from_text=False, pain_now=inp.pain_now, text_unclear=None, toxin_given=inp.botulinum_toxin,
    )
    reasons = _evaluate(form_facts, timing, ptx_sites, catalog, thresholds)
    scan = None
    if inp.free_text.strip():
        scan = scan_text(inp.free_text, plausible_f=thresholds.plausible_temperature_f,
                         symptoms=catalog, lexicon=load_lexicon())
        temperature, from_text = inp.temperature, False
        if scan.temperature and (temperature is None or scan.temperature.fahrenheit > temperature.fahrenheit):
            temperature, from_text = scan.temperature, True
        combined = _Facts(
            symptoms=inp.symptoms | scan.symptoms,
            from_text=scan.symptoms - inp.symptoms,
            temperature=temperature,
            temperature_from_text=from_text,
            pain_now=inp.pain_now,
            text_unclear=None if scan.understood else scan.unreadable_temperatures,
            toxin_given=inp.botulinum_toxin,
            alarm_words=scan.unread_alarm_words,
            emergency_alarm_words=scan.unread_emergency_words,
        )
        with_text = _evaluate(combined, timing, ptx_sites, catalog, thresholds)
        # Text may raise, never lower: keep the form-only verdict when it is the more severe,
        # and show every reason either pass produced.
        form_findings = [r.finding for r in reasons]
        reasons = reasons + [r for r in with_text if r.finding not in form_findings]

    if any(r.finding.rule != "TRI-NO-WARNING-SIGNS" for r in reasons):
        reasons = [r for r in reasons if r.finding.rule != "TRI-NO-WARNING-SIGNS"]
    disposition = _most_severe(reasons)
    ordered = sorted(reasons, key=lambda r: -_RANK[r.disposition])
    used_temperature = inp.temperature
    if scan and scan.temperature and (used_temperature is None
                                      or scan.temperature.fahrenheit > used_temperature.fahrenheit):
        used_temperature = scan.temperature
    return TriageResult(
        disposition=disposition,
        reasons=tuple(r.finding for r in ordered),
        instructions=_instructions(disposition, ordered, thresholds, language, inp.botulinum_toxin),
        text_understood=None if scan is None else scan.understood,
        day=timing.day,
        hours_since_procedure=timing.hours_since_procedure,
        symptoms_from_text=tuple(sorted(scan.symptoms - inp.symptoms)) if scan else (),
        temperature=used_temperature,
        text_scan=scan,
    )


def published_symptoms(catalog: SymptomCatalog | None = None) -> dict[str, Any]:
    """The body of ``GET /api/v1/followup/symptoms``: the vocabulary a check-in may use."""
    catalog = catalog or load_symptoms()
    return {"version": catalog.version, "symptoms": catalog.published()}
