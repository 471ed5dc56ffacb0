"""What the outcome pages show: labels, the per-patient overview and the dashboard's charts (read-only).

Presentation reads the domain one way: this module imports ``services`` (the clinic's local
date, the repeat decision) and ``services`` never imports it, so recording an outcome does not
load page labels. The patient's language is ``patients.language.page_language``, which both use.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.utils import dateformat
from django.utils.translation import gettext, gettext_noop

from triggerpoint.accounts.selectors import display_names
from triggerpoint.assessment.diagnoses import load_icd_table
from triggerpoint.atlas.catalog import BODY_REGION_LABELS, load_atlas
from triggerpoint.catalogues import instrument_scoring
from triggerpoint.catalogues import instruments as inst
from triggerpoint.catalogues.drugs import load_drugs
from triggerpoint.core.rules import RuleInputError
from triggerpoint.outcomes import analytics, charts, repeat, repeat_policies, services
from triggerpoint.outcomes.models import (
    Measurement,
    OutcomeRequest,
    OutcomeRollup,
    ProcedureOutcome,
    RequestStatus,
    TimePoint,
)
from triggerpoint.patients.language import page_language
from triggerpoint.patients.selectors import chart_ids
from triggerpoint.procedures.selectors import signed_procedures

GUIDANCE_LABELS = {"ultrasound": gettext_noop("Ultrasound"), "landmark": gettext_noop("Landmark (palpation)")}


# ----------------------------------------------------------------------------- the patient's language
# Patient pages (the questionnaire by link and in the portal, the pain diary, the portal section)
# and the request message render inside `translation.override(patient_language(patient))`, like the
# aftercare and follow-up pages: their words are marked for translation (Spanish in
# outcomes/locale/es), the questions and answer labels come from the instrument files (`en`/`es`).
# Staff pages stay in English.


patient_language = page_language  # one rule for every app (patients/language.py)


#: A time point as a patient reads it (the English is the model's label in lower case).
PATIENT_TIME_POINTS = {
    TimePoint.BASELINE: gettext_noop("baseline (before the procedure)"),
    TimePoint.IMMEDIATE: gettext_noop("immediately after"),
    TimePoint.WEEK_2: gettext_noop("2 weeks"),
    TimePoint.WEEK_6: gettext_noop("6 weeks"),
    TimePoint.WEEK_12: gettext_noop("12 weeks"),
    TimePoint.DIARY: gettext_noop("pain diary"),
    TimePoint.OTHER: gettext_noop("other"),
}


def time_point_words(time_point: str) -> str:
    """The time point in the active language ("2 weeks", "2 semanas")."""
    wording = PATIENT_TIME_POINTS.get(time_point)
    return gettext(wording) if wording else time_point


def chart_date_label(day: date, kind: str) -> str:
    """A pain chart's axis date in the active language (the English matches charts.english_date_label)."""
    formats = {"day": gettext("M d"), "month": "M", "month_year": gettext("M Y")}
    return dateformat.format(day, formats[kind])


def muscle_label(muscle_id: str) -> str:
    atlas = load_atlas()
    return atlas.muscle(muscle_id).name if atlas.has_muscle(muscle_id) else muscle_id.replace("_", " ")


def drug_label(drug_id: str) -> str:
    if drug_id == "dry_needling":
        return "Dry needling (no injectate)"
    try:
        return load_drugs().get(drug_id).name
    except KeyError:
        return drug_id


def condition_label(code: str) -> str:
    if not code or code == analytics.UNSPECIFIED:
        return "Not recorded"
    try:
        entry = load_icd_table().codes.get(code)
    except Exception:  # noqa: BLE001 - a label is never worth failing the report for
        entry = None
    return f"{code} {entry.description}" if entry is not None else code


def report_labels(clinic_id: int) -> dict[str, dict[str, str]]:
    """Human labels for every value the clinic's rollups hold."""
    values: dict[str, set[str]] = {}
    for dimension, value in OutcomeRollup.objects.filter(clinic_id=clinic_id).values_list("dimension", "value").distinct():
        values.setdefault(dimension, set()).add(value)
    labels: dict[str, dict[str, str]] = {"all": {"all": "All procedures"}}
    labels["condition"] = {v: condition_label(v) for v in values.get("condition", ())}
    labels["muscle"] = {v: muscle_label(v) for v in values.get("muscle", ())}
    labels["injectate"] = {v: drug_label(v) for v in values.get("injectate", ())}
    labels["guidance"] = {v: GUIDANCE_LABELS.get(v, v) for v in values.get("guidance", ())}
    ids = [int(v) for v in values.get("clinician", ()) if v.isdigit()]
    names = display_names(ids)
    labels["clinician"] = {v: names.get(v, "Unknown clinician") for v in values.get("clinician", ())}
    return labels


# ----------------------------------------------------------------------------- per patient
@dataclass
class ProcedureRow:
    procedure: object
    number: int
    muscles: str
    injectates: str
    outcome: ProcedureOutcome | None
    mcid_2w: bool | None
    mcid_6w: bool | None
    pgic_6w: str | None


def _sites_text(procedure) -> str:
    counts: dict[str, list[str]] = {}
    for site in procedure.sites.all():
        counts.setdefault(site.muscle, []).append(site.side[:1].upper())
    return ", ".join(f"{muscle_label(m)} ({'+'.join(sorted(s))})" for m, s in counts.items())


def _injectates_text(procedure) -> str:
    parts = []
    for injectate in procedure.injectates.all():
        strength = ""
        if injectate.concentration_percent is not None:
            strength = f" {injectate.concentration_percent.normalize():f}%"
        elif injectate.concentration_units_per_ml is not None:
            strength = f" {injectate.concentration_units_per_ml.normalize():f} U/mL"
        parts.append(f"{drug_label(injectate.drug)}{strength}")
    if not parts and any(s.technique == "dry_needling" for s in procedure.sites.all()):
        return "Dry needling"
    return ", ".join(dict.fromkeys(parts)) or "—"


def patient_overview(patient, today: date | None = None, chart_width: int = 960, chart_height: int = 320) -> dict:
    """Everything the per-patient outcomes page shows (procedures, readings, chart, requests)."""
    today = today or patient.clinic.today()
    nrs = inst.get_instrument("nrs_pain")
    pgic = inst.get_instrument("pgic")
    procedures = list(
        signed_procedures(patient_id__in=chart_ids(patient))  # the charts merged into this one too
        .prefetch_related("sites", "injectates")
        .order_by("procedure_date", "id")
    )
    outcomes = {o.procedure_id: o for o in ProcedureOutcome.objects.filter(procedure__in=procedures)}
    measurements = list(Measurement.objects.filter(patient_id__in=chart_ids(patient)).select_related("procedure").order_by("measured_at"))
    rows, marks = [], []
    for number, procedure in enumerate(procedures, start=1):
        outcome = outcomes.get(procedure.pk)
        mcid = {}
        for tp in ("2w", "6w"):
            pain = getattr(outcome, f"pain_{tp}", None) if outcome else None
            if outcome is not None and pain is not None and outcome.baseline_pain is not None:
                mcid[tp] = instrument_scoring.change(nrs, outcome.baseline_pain, pain).beats_mcid
        pgic_answers = [m for m in measurements if m.procedure_id == procedure.pk and m.instrument == pgic.id
                        and m.time_point == TimePoint.WEEK_6 and m.score is not None]
        pgic_text = None
        if pgic_answers:
            value = int(pgic_answers[-1].score)
            pgic_text = next((c.label.en for c in pgic.items[0].choices if c.value == value), str(value))
        row = ProcedureRow(
            procedure=procedure, number=number, muscles=_sites_text(procedure), injectates=_injectates_text(procedure),
            outcome=outcome or ProcedureOutcome(), mcid_2w=mcid.get("2w"), mcid_6w=mcid.get("6w"), pgic_6w=pgic_text,
        )
        rows.append(row)
        marks.append(
            charts.ProcedureMark(
                on=procedure.procedure_date, number=number,
                title=f"P{number} {procedure.procedure_date}: {row.muscles} — {row.injectates} "
                      f"({gettext(GUIDANCE_LABELS[procedure.guidance]) if procedure.guidance in GUIDANCE_LABELS else procedure.guidance})",
                relief_days=outcome.relief_days if outcome else None,
                relief_ended=bool(outcome.relief_event) if outcome else False,
                relief_title=_relief_title(outcome),
            )
        )
    points = []
    kinds = {"baseline": "baseline", "immediate": "immediate", "diary": "diary"}
    for m in measurements:
        pain = m.pain_now
        if pain is None:
            continue
        on = services.local_date(m.measured_at, patient.clinic)
        points.append(
            charts.PainPoint(
                on=on, pain=pain, kind=kinds.get(m.time_point, "follow_up"),
                label=gettext("%(date)s: pain %(pain)s/10 (%(when)s)") % {
                    "date": on, "pain": f"{pain:g}", "when": time_point_words(m.time_point)},
            )
        )
    requests = list(OutcomeRequest.objects.filter(patient_id__in=chart_ids(patient)).select_related("procedure").order_by("-due_on")[:30])
    for request in requests:
        request.shown_status = (
            RequestStatus.EXPIRED if request.status == RequestStatus.PENDING and request.answer_by < today
            else ("due" if request.is_open_on(today) else request.status)
        )
    last = procedures[-1] if procedures else None
    return {
        "rows": list(reversed(rows)),
        "chart": charts.pain_chart(points, marks, today, width=chart_width, height=chart_height,
                                   date_label=chart_date_label),
        "requests": requests,
        "measurements": list(reversed(measurements))[:40],
        "last_procedure": last,
        "nrs": nrs,
    }


def _relief_title(outcome) -> str:
    if outcome is None or outcome.relief_days is None:
        return ""
    if outcome.relief_event:
        return gettext("Relief lasted %(days)s days") % {"days": outcome.relief_days}
    return gettext("Relief still held at the last answer, day %(days)s") % {"days": outcome.relief_days}


def repeat_context(patient, planned_date: date, regions: list[str], payer: str) -> dict:
    policies = repeat_policies.load_repeat_policies()
    try:
        decision = services.repeat_decision_for(patient, planned_date, regions, payer or None)
        problems: list[str] = []
    except RuleInputError as error:
        decision, problems = None, error.problems
    rules = repeat.repeat_rules(policies.get(payer, repeat_policies.DEFAULT_REPEAT_POLICY))
    findings = []
    if decision is not None:
        findings = [{"finding": f, "rule": rules.get(f.rule)} for f in decision.findings]
    return {
        "repeat_decision": decision,
        "repeat_findings": findings,
        "repeat_problems": problems,
        "repeat_planned_date": planned_date,
        "repeat_regions": regions,
        "repeat_payer": payer,
        "repeat_policies": policies,
        "repeat_all_regions": list(BODY_REGION_LABELS.items()),
        "repeat_patient": patient,
    }


# ----------------------------------------------------------------------------- dashboard
def dashboard_charts(report: analytics.Report, by: str) -> dict:
    groups = report.breakdowns.get(by, [])[:8]
    km = charts.km_chart([(g.label, g.relief) for g in groups[:6]], max_days=100)
    responders = charts.interval_chart(
        [(g.label, g.responders_6w.rate, g.responders_6w.ci_low, g.responders_6w.ci_high, g.responders_6w.n) for g in groups],
        low=0.0, high=1.0, percent=True,
    )
    changes = [g.change_6w for g in groups if g.change_6w.mean is not None]
    low = min([c.ci_low if c.ci_low is not None else c.mean for c in changes] + [-1.0])
    high = max([c.ci_high if c.ci_high is not None else c.mean for c in changes] + [0.5])
    change = charts.interval_chart(
        [(g.label, g.change_6w.mean, g.change_6w.ci_low, g.change_6w.ci_high, g.change_6w.n) for g in groups],
        low=float(int(low) - 1), high=float(max(int(high) + 1, 1)),
    )
    return {"km": km, "responders": responders, "change": change}
