"""Turning stored check-ins and alerts into what a page shows (labels, not ids).

Shared by the worklist, the alert page, the portal and the patient's result page, so a
symptom or a temperature reads the same everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import translation
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from triggerpoint.atlas.catalog import load_atlas
from triggerpoint.catalogues.drugs import load_drugs
from triggerpoint.followup.content import load_symptoms
from triggerpoint.followup.temperature import Temperature
from triggerpoint.followup.toxin import procedures_of_day
from triggerpoint.followup.triage import DEFAULT_THRESHOLDS
from triggerpoint.patients.language import page_language
from triggerpoint.patients.selectors import chart_ids
from triggerpoint.procedures.selectors import signed_procedures

# Patient-facing words are marked for translation (Spanish in followup/locale/es); they are
# lazy, so they take the language active when the page renders: the views render patient
# pages inside `translation.override(patient_language(patient))`, as the aftercare pages do.
DISPOSITION_HEADLINES = {
    "emergency": _("Call 911 now"),
    "urgent": _("We are paging the on-call clinician"),
    "routine": _("A clinician will contact you"),
    "self_care": _("This is expected after injections"),
}

#: How the check-in form groups the published symptoms, in the order a patient should read them.
FORM_GROUPS = (
    ("emergency", _("Right now, do you have any of these?")),
    ("toxin_spread", _("Since your botulinum toxin (Botox) shot, have you had any of these?")),
    ("anaesthetic_reaction", _("Since the injection, have you had any of these?")),
    ("infection_or_allergy", _("At the injection site or on your skin")),
    ("expected", _("Common after injections")),
    ("other", _("Anything else")),
)


patient_language = page_language  # one rule for every app (patients/language.py)


@dataclass(frozen=True)
class AnswerLine:
    label: str
    value: str
    flag: bool = False  # a warning sign (shown highlighted to the clinician)


def symptom_label(symptom_id: str, language: str = "en") -> str:
    catalog = load_symptoms()
    if symptom_id not in catalog.by_id:
        return symptom_id.replace("_", " ")
    symptom = catalog.get(symptom_id)
    return symptom.label_es if language == "es" else symptom.label_en


def form_groups(
    selected: set[str] | frozenset[str] = frozenset(), language: str = "en", *, toxin_possible: bool = True
) -> list[dict[str, Any]]:
    """[{"id", "heading", "urgent", "items": [{"id", "label", "checked"}]}] for the check-in form.

    The botulinum-toxin spread signs are offered when the procedure included a toxin or when
    that cannot be told (`toxin_possible`); a toxin-free procedure does not show them.
    """
    catalog = load_symptoms()
    groups = []
    for group_id, heading in FORM_GROUPS:
        if group_id == "toxin_spread" and not toxin_possible:
            continue
        items = [
            {"id": s.id, "label": s.label_es if language == "es" else s.label_en, "checked": s.id in selected}
            for s in catalog.symptoms if s.group == group_id
        ]
        if items:
            groups.append({"id": group_id, "heading": heading, "urgent": group_id in ("emergency", "toxin_spread"),
                           "items": items})
    return groups


def describe_temperature(raw: dict[str, Any] | None) -> str:
    if not raw:
        return ""
    return Temperature(Decimal(str(raw["value"])), raw["unit"]).describe()


def answer_lines(answers: dict[str, Any]) -> list[AnswerLine]:
    """The answers as label/value lines; warning signs flagged."""
    if not answers:
        return []
    catalog = load_symptoms()
    lines = []
    chosen = answers.get("symptoms") or []
    if chosen:
        flagged = [s for s in chosen if s in catalog.by_id and catalog.get(s).group not in ("expected",)]
        lines.append(AnswerLine("Symptoms", "; ".join(symptom_label(s) for s in chosen), bool(flagged)))
    else:
        lines.append(AnswerLine("Symptoms", "none ticked"))
    temperature = describe_temperature(answers.get("temperature"))
    lines.append(AnswerLine("Temperature", temperature or "not taken"))
    if answers.get("pain_now") is not None:
        lines.append(AnswerLine("Pain now", f"{answers['pain_now']}/10", answers["pain_now"] >= 7))
    if answers.get("relief_percent") is not None:
        lines.append(AnswerLine("Relief since injection", f"{answers['relief_percent']}%"))
    if answers.get("free_text"):
        lines.append(AnswerLine("In their words", answers["free_text"]))
    return lines


#: "What we understood" in another language than English, worded from each finding's rule and
#: data (triage writes its messages in English only). Short English msgids, translated in
#: followup/locale; a rule missing here, or a msgid with no translation, shows triage's English.
REASON_WORDING = {
    "TRI-EMERG-RED-FLAG": gettext_noop("Emergency warning sign: %(signs)s."),
    "TRI-EMERG-PNEUMOTHORAX": gettext_noop(
        "%(Signs)s after an injection over the chest wall or lower neck can mean a collapsed lung (pneumothorax)."),
    "TRI-EMERG-LAST": gettext_noop("Possible reaction to the numbing medicine soon after the injection: %(signs)s."),
    "TRI-ROUTINE-LAST-LATE": gettext_noop(
        "%(Signs)s: reported too long after the injection to be a reaction to the numbing medicine; "
        "a clinician will review it."),
    "TRI-URG-FEVER": gettext_noop("Temperature %(temperature)s is above %(fever)s on day %(day)s after the procedure."),
    "TRI-URG-FEVER-UNMEASURED": gettext_noop("Feeling feverish on day %(day)s with no temperature reading."),
    "TRI-ROUTINE-FEVER-NOT-CONFIRMED": gettext_noop(
        "Feeling feverish, but the reading %(temperature)s is not above %(fever)s."),
    "TRI-URG-SITE": gettext_noop("Possible infection at the injection site on day %(day)s: %(signs)s."),
    "TRI-URG-ALLERGY": gettext_noop("Possible allergic reaction on day %(day)s: %(signs)s."),
    "TRI-URG-PAIN": gettext_noop("Pain much worse, or pain with fever, on day %(day)s."),
    "TRI-ROUTINE-AFTER-WINDOW": gettext_noop(
        "Warning sign reported on day %(day)s, after the days in which the clinic pages it."),
    "TRI-TOXIN-SPREAD": gettext_noop("Possible spread of the botulinum toxin on day %(day)s: %(signs)s."),
    "TRI-URG-NEURO-SIGN": gettext_noop("New nerve sign on day %(day)s: %(signs)s."),
    "TRI-EMERG-TEXT-ALARM-WORD": gettext_noop(
        "Your message mentions something that could be an emergency sign, in words we could not read."),
    "TRI-URG-TEXT-ALARM-WORD": gettext_noop(
        "Your message mentions something that could be a warning sign, in words we could not read. "
        "A clinician will call you."),
    "TRI-ROUTINE-PROLONGED": gettext_noop("%(Sign)s: still there longer than expected after the injection."),
    "TRI-ROUTINE-SEVERE-PAIN": gettext_noop("Pain score %(pain)s/10 is severe."),
    "TRI-ROUTINE-REQUEST": gettext_noop("You asked for a clinician to look at this."),
    "TRI-ROUTINE-LATE-REPORT": gettext_noop("Reported on day %(day)s, after the follow-up window."),
    "TRI-TEXT-UNCLEAR": gettext_noop("Your message could not be understood automatically; a person will read it."),
    "TRI-SELF-CARE": gettext_noop("%(Sign)s: expected after trigger point injections."),
    "TRI-NO-WARNING-SIGNS": gettext_noop("No warning sign was reported."),
}


def _reason_in(reason: dict[str, Any], language: str) -> str:
    english = reason["message"]
    wording = REASON_WORDING.get(reason.get("rule", ""))
    if wording is None:
        return english
    with translation.override(language):
        translated = gettext(wording)
    if translated == wording:  # no translation in this language: triage's own (richer) English
        return english
    data = reason.get("data") or {}
    signs = "; ".join(symptom_label(s, language).lower() for s in data.get("symptoms", []))
    sign = symptom_label(data["symptom"], language) if data.get("symptom") else ""
    temperature = (Temperature(Decimal(str(data["temperature_f"])), "F").describe()
                   if data.get("temperature_f") is not None else "")
    values = {
        "signs": signs, "Signs": signs[:1].upper() + signs[1:], "Sign": sign, "day": data.get("day", ""),
        "temperature": temperature, "fever": DEFAULT_THRESHOLDS.fever_label[0],
        "days": DEFAULT_THRESHOLDS.urgent_window_days, "pain": data.get("pain_now", ""),
    }
    return translated % values


def patient_reasons(triage: dict[str, Any], language: str = "en") -> list[str]:
    """The reasons worded for the patient (the rule messages; the clinician also sees the basis).

    English shows triage's messages as stored. Another language words each reason from its
    rule and data (`REASON_WORDING`), falling back to the English message per reason.
    """
    reasons = triage.get("reasons", [])
    if language == "en":
        return [reason["message"] for reason in reasons]
    return [_reason_in(reason, language) for reason in reasons]


def headline(disposition: str) -> str:
    """The result page's heading (lazy: translated when rendered)."""
    return DISPOSITION_HEADLINES.get(disposition, _("Thank you"))


@dataclass(frozen=True)
class ClinicCallNumber:
    """The one number the urgent result page tells the patient to call, and dials.

    The urgent instructions (data/instructions.yaml) say "call the clinic's main number and ask
    for the on-call clinician", so the button shows and dials the clinic's main number; only a
    clinic with no main number falls back to its after-hours number, and the button then says so.
    Shown text and `tel:` target are both derived from `number`, so they cannot disagree
    (hazard HAZ-WRONG-PHONE-NUMBER).
    """

    number: str
    is_main: bool

    @property
    def dial(self) -> str:
        """`number` as a tel: URI target (digits and a leading +; RFC 3966 visual separators dropped)."""
        digits = "".join(ch for ch in self.number if ch.isdigit())
        return ("+" + digits) if self.number.strip().startswith("+") else digits


def clinic_call_number(clinic) -> ClinicCallNumber | None:
    """The clinic's main number, else its after-hours number, else None (no button)."""
    if clinic.phone.strip():
        return ClinicCallNumber(clinic.phone.strip(), is_main=True)
    if clinic.after_hours_phone.strip():
        return ClinicCallNumber(clinic.after_hours_phone.strip(), is_main=False)
    return None


# ----------------------------------------------------------------------------- procedure facts


@dataclass(frozen=True)
class SiteSummary:
    muscle: str
    name: str
    side: str
    technique: str
    pneumothorax_risk: bool


@dataclass(frozen=True)
class ProcedureSummary:
    """What a clinician needs at a glance when a patient calls about this procedure."""

    procedure_date: Any
    performed_by: str
    guidance: str
    sites: tuple[SiteSummary, ...]
    injectates: tuple[str, ...]

    @property
    def pneumothorax_sites(self) -> tuple[SiteSummary, ...]:
        return tuple(site for site in self.sites if site.pneumothorax_risk)


def summarise_procedure(procedure) -> ProcedureSummary:
    atlas, drugs = load_atlas(), load_drugs()
    sites = []
    for site in procedure.sites.all():
        known = atlas.has_muscle(site.muscle)
        muscle = atlas.muscle(site.muscle) if known else None
        sites.append(SiteSummary(
            muscle=site.muscle,
            name=muscle.name if muscle else site.muscle.replace("_", " "),
            side=site.side,
            technique=site.technique,
            # An unknown muscle id is treated as at risk: the safe assumption for a warning.
            pneumothorax_risk=bool(muscle.pneumothorax_risk) if muscle else True,
        ))
    injectates = []
    for row in procedure.injectates.all():
        try:
            name = drugs.get(row.drug).name
        except KeyError:
            name = row.drug
        strength = f" {row.concentration_percent.normalize():f}%" if row.concentration_percent else ""
        dose = ""
        if row.dose_mg:
            dose = f", {row.dose_mg.normalize():f} mg"
        elif row.dose_units:
            dose = f", {row.dose_units.normalize():f} units"
        injectates.append(f"{name}{strength} {row.volume_ml.normalize():f} mL{dose}")
    performer = procedure.performed_by
    return ProcedureSummary(
        procedure_date=procedure.procedure_date,
        performed_by=performer.get_full_name() or performer.username,
        guidance=procedure.get_guidance_display(),
        sites=tuple(sites),
        injectates=tuple(injectates),
    )


def summarise_day(procedure) -> tuple[ProcedureSummary, ...]:
    """A summary of each note of the procedure's day (the day's check-ins ask about all of them)."""
    return tuple(summarise_procedure(note) for note in procedures_of_day(procedure))


def latest_procedure_summary(procedure) -> ProcedureSummary | None:
    """The patient's most recent signed note (today's included) when it is later than `procedure`'s day.

    An alert about an earlier injection must not hide that the patient was injected again since:
    the newer sites and drugs change what the warning sign may mean.
    """
    latest = (
        signed_procedures(patient_id__in=chart_ids(procedure.patient_id), procedure_date__gt=procedure.procedure_date)
        .select_related("performed_by")
        .order_by("-procedure_date", "-signed_at", "-id")
        .first()
    )
    return summarise_procedure(latest) if latest is not None else None
