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

Files: ``triage_policy`` (dispositions, thresholds, the rule table), ``triage_request`` (reading
the JSON contract), ``triage_signs`` (toxin-spread and alarm-word outcomes); this module decides.

Pure module: no Django, no ORM, no HTTP.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from triggerpoint.core.rules import Finding, Rule, RuleInputError
from triggerpoint.followup.content import (
    SymptomCatalog,
    load_instructions,
    load_lexicon,
    load_symptoms,
)
from triggerpoint.followup.temperature import (
    Temperature,
)
from triggerpoint.followup.text_scan import TextScan, scan_text
from triggerpoint.followup.triage_policy import (
    _RANK,
    DEFAULT_THRESHOLDS,
    DISPOSITIONS,
    EMERGENCY,
    ROUTINE,
    SELF_CARE,
    URGENT,
    TriageThresholds,
    triage_rules,
)
from triggerpoint.followup.triage_request import (
    MAX_FREE_TEXT_CHARS,
    PAIN_SCALE,
    REQUEST_FIELDS,
    MuscleCatalogue,
    Site,
    TriageInput,
    _default_atlas,
    parse_triage_request,
    timing_problems,
)
from triggerpoint.followup.triage_signs import NOT_FOLDED_LATE, alarm_outcome, toxin_outcomes

__all__ = [
    "DEFAULT_THRESHOLDS", "DISPOSITIONS", "EMERGENCY", "MAX_FREE_TEXT_CHARS", "PAIN_SCALE", "REQUEST_FIELDS", "ROUTINE",
    "SELF_CARE", "URGENT", "Site", "TriageInput", "TriageResult", "TriageThresholds", "instruction_values",
    "parse_triage_request", "published_symptoms", "triage", "triage_rules",
]


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
    problems = timing_problems(inp.procedure_date, inp.reported_at, inp.procedure_at)
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
