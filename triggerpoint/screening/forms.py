"""Forms for the screening pages: the plan, the questionnaire (patient and staff), review, override, consent.

The forms only translate between HTML fields and the JSON the services take; all checks
of meaning (dates in the window, plausible temperatures, known muscles and drugs) happen
in the pure parsers, whose problems are shown on the form.

The patient questionnaire speaks the patient's language: its labels, help texts, choices,
headings and errors come from ``data/patient_text.yaml`` (English and Spanish). Only the
words change; field names and stored values are the same in every language.
"""

from __future__ import annotations

from typing import Any

from django import forms

from triggerpoint.atlas.catalog import SIDES, load_atlas
from triggerpoint.catalogues.drugs import LOCAL_ANESTHETIC_CLASSES, load_drugs
from triggerpoint.core import plausible
from triggerpoint.core.rules import RuleInputError
from triggerpoint.screening.answers import RED_FLAGS, parse_answers
from triggerpoint.screening.content import DEFAULT_LANGUAGE, load_patient_text
from triggerpoint.screening.preparation import patient_date
from triggerpoint.screening.rules import (
    DEFAULT_POLICY,
    GUIDANCE_MODES,
    TECHNIQUES,
    celsius_to_fahrenheit,
    recent_event_window,
)

YES_NO = [("yes", "Yes"), ("no", "No")]
PLAN_SITE_ROWS = 8


def _yes_no(label: str = "", help_text: str = "") -> forms.ChoiceField:
    return forms.ChoiceField(label=label, choices=YES_NO, widget=forms.RadioSelect(attrs={"class": "yes-no"}), help_text=help_text)


def _date_field(label: str = "") -> forms.DateField:
    # ISO always: a date input needs it, whatever language the page is in.
    return forms.DateField(label=label, required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))


def muscle_choices() -> list[tuple[str, Any]]:
    atlas = load_atlas()
    by_region: dict[str, list[tuple[str, str]]] = {}
    for muscle in sorted(atlas.muscles.values(), key=lambda m: m.name):
        label = muscle.name + (" ⚠ pneumothorax risk" if muscle.pneumothorax_risk else "")
        by_region.setdefault(muscle.body_region.replace("_", " ").capitalize(), []).append((muscle.id, label))
    return [("", "— muscle —")] + sorted(by_region.items())


def drug_choices() -> list[tuple[str, str]]:
    drugs = load_drugs()
    return [(drug.id, f"{drug.name} ({drug.drug_class.replace('_', ' ')})") for drug in drugs.drugs.values()]


class PlanForm(forms.Form):
    planned_procedure_date = forms.DateField(label="Planned procedure date", widget=forms.DateInput(attrs={"type": "date"}),
                                             validators=[plausible.form_validator("scheduled")])
    injectates = forms.MultipleChoiceField(
        label="Injectates", required=False, widget=forms.CheckboxSelectMultiple, choices=drug_choices
    )
    guidance = forms.ChoiceField(
        label="Guidance", choices=[(g, g.capitalize()) for g in GUIDANCE_MODES], widget=forms.RadioSelect, initial="landmark"
    )
    technique = forms.ChoiceField(
        label="Technique",
        choices=[(t, t.replace("_", " ").capitalize()) for t in TECHNIQUES],
        widget=forms.RadioSelect,
        initial="injection",
    )
    trigger_points_documented = forms.BooleanField(
        label="Trigger points (taut band, referred pain) documented on examination", required=False
    )
    with_epinephrine = forms.ChoiceField(
        label="Local anesthetic with epinephrine",
        choices=[("", "Not decided"), ("no", "No (plain)"), ("yes", "Yes")],
        required=False,
        help_text="Epinephrine forms contain sulfites (allergy check).",
    )
    vial = forms.ChoiceField(
        label="Vials",
        choices=[("", "Not decided"), ("single_dose", "Single-dose, preservative-free"), ("multi_dose", "Multi-dose")],
        required=False,
        help_text="Multi-dose vials contain preservatives such as methylparaben (allergy check).",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = muscle_choices()
        for index in range(PLAN_SITE_ROWS):
            self.fields[f"site_{index}_muscle"] = forms.ChoiceField(label=f"Site {index + 1} muscle", choices=choices, required=False)
            self.fields[f"site_{index}_side"] = forms.ChoiceField(
                label=f"Site {index + 1} side", choices=[("", "— side —")] + [(s, s.capitalize()) for s in SIDES], required=False
            )

    def site_rows(self):
        return [(self[f"site_{i}_muscle"], self[f"site_{i}_side"]) for i in range(PLAN_SITE_ROWS)]

    @staticmethod
    def initial_from(plan: dict[str, Any]) -> dict[str, Any]:
        """The form's starting values for (part of) a plan, e.g. the prefill from the signed assessment."""
        initial: dict[str, Any] = {}
        for index, site in enumerate((plan.get("sites") or [])[:PLAN_SITE_ROWS]):
            initial[f"site_{index}_muscle"] = site.get("muscle") or ""
            initial[f"site_{index}_side"] = site.get("side") or ""
        if "injectates" in plan:
            initial["injectates"] = [row["drug"] for row in plan["injectates"]]
        if plan.get("technique"):
            initial["technique"] = plan["technique"]
        if plan.get("guidance"):
            initial["guidance"] = plan["guidance"]
        return initial

    def _injectate(self, drug_id: str) -> dict[str, Any]:
        """The drug with the form the plan says: epinephrine applies to local anesthetics, the vial to every drug."""
        item: dict[str, Any] = {"drug": drug_id}
        drug = load_drugs().resolve(drug_id)
        epinephrine = self.cleaned_data.get("with_epinephrine")
        if epinephrine and drug is not None and drug.drug_class in LOCAL_ANESTHETIC_CLASSES:
            item["with_epinephrine"] = epinephrine == "yes"
        if self.cleaned_data.get("vial"):
            item["vial"] = self.cleaned_data["vial"]
        return item

    def plan(self) -> dict[str, Any]:
        data = self.cleaned_data
        sites = []
        for index in range(PLAN_SITE_ROWS):
            muscle, side = data.get(f"site_{index}_muscle"), data.get(f"site_{index}_side")
            if muscle or side:
                sites.append({"muscle": muscle or None, "side": side or None})
        plan: dict[str, Any] = {
            "sites": sites,
            "injectates": [self._injectate(drug) for drug in data.get("injectates", [])],
            "guidance": data.get("guidance"),
            "technique": data.get("technique") or "injection",
        }
        if data.get("trigger_points_documented"):
            plan["trigger_points_documented"] = True
        return plan


class QuestionnaireForm(forms.Form):
    """The patient's questions, in plain words; the staff form adds the procedure-day measurements.

    Labels, help texts and choice labels are set in ``__init__`` from the patient text data in
    `language`; each question's field name is its key under ``questions`` (and ``help``).
    """

    recent_fever = _yes_no()
    recent_fever_date = _date_field()
    recent_antibiotics = _yes_no()
    recent_antibiotics_date = _date_field()
    recent_antibiotics_end_date = _date_field()
    recent_illness = _yes_no()
    recent_illness_date = _date_field()
    recent_hospital = _yes_no()
    recent_hospital_date = _date_field()
    feels_unwell = _yes_no()
    on_antibiotics = _yes_no()
    infection_at_site = _yes_no()
    pregnant = forms.ChoiceField(
        choices=[("no", "No"), ("yes", "Yes"), ("unsure", "I am not sure")],
        widget=forms.RadioSelect(attrs={"class": "yes-no"}),
        required=False,
    )
    breastfeeding = forms.ChoiceField(
        choices=YES_NO, widget=forms.RadioSelect(attrs={"class": "yes-no"}), required=False
    )
    prior_vasovagal = _yes_no()
    steroid_injections_elsewhere_12m = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=366,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    new_medications = forms.CharField(required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))
    new_allergies = forms.CharField(required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))
    notes = forms.CharField(required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 3}))

    EVENT_QUESTIONS = (
        ("recent_fever", "fever"),
        ("recent_antibiotics", "antibiotics"),
        ("recent_illness", "illness"),
        ("recent_hospital", "hospitalization"),
    )

    def __init__(
        self, *args, screening, ask_pregnancy: bool = True, policy=DEFAULT_POLICY, language: str = DEFAULT_LANGUAGE,
        **kwargs,
    ):
        self.screening = screening
        self.language = language
        super().__init__(*args, **kwargs)
        self._set_patient_words()
        start, _ = recent_event_window(screening.planned_procedure_date, policy)
        days = policy.recent_event_window_days
        self.window_start = start
        self.window_start_text = patient_date(start, language)
        self.window_length_text = (
            self.word("questionnaire.weeks", count=days // 7) if days % 7 == 0 else self.word("questionnaire.days", count=days)
        )
        self.headings = {
            "since": self.word("questionnaire.since", date=self.window_start_text),
            "window_hint": self.word("questionnaire.window_hint", length=self.window_length_text),
            "right_now": self.word("questionnaire.right_now"),
            "about_you": self.word("questionnaire.about_you"),
        }
        threshold = policy.fever_threshold_c
        self.fields["recent_fever"].help_text = self.word(
            "help.recent_fever", fahrenheit=f"{celsius_to_fahrenheit(threshold):.1f}", celsius=threshold
        )
        if not ask_pregnancy:
            del self.fields["pregnant"]
            del self.fields["breastfeeding"]

    def word(self, key: str, **values: Any) -> str:
        """The patient text `key` in the form's language, with `values` filled in."""
        return load_patient_text().get(key, self.language).format(**values)

    def _set_patient_words(self) -> None:
        texts = load_patient_text().texts
        for name, field in self.fields.items():
            if f"questions.{name}" not in texts:
                continue  # a staff-only measurement
            field.label = self.word(f"questions.{name}")
            if f"help.{name}" in texts and name != "recent_fever":  # the fever help needs the policy: below
                field.help_text = self.word(f"help.{name}")
            if isinstance(field, forms.ChoiceField):
                field.choices = [(value, self.word(f"choices.{value}")) for value, _label in field.choices]

    @classmethod
    def initial_from(cls, answers: dict[str, Any]) -> dict[str, Any]:
        """Form values from stored answers, so a form reopens with what was said."""
        initial: dict[str, Any] = {}
        if "events" in answers:
            for name, _type in cls.EVENT_QUESTIONS:
                initial[name] = "no"
            for event in answers["events"]:
                name = next(n for n, t in cls.EVENT_QUESTIONS if t == event["type"])
                initial[name] = "yes"
                initial[f"{name}_date"] = event["date"]
                if event.get("end_date"):
                    initial[f"{name}_end_date"] = event["end_date"]
        today = answers.get("today", {})
        for flag in ("feels_unwell", "on_antibiotics", "infection_at_site"):
            if flag in today:
                initial[flag] = "yes" if today[flag] else "no"
        if "temperature" in today:
            initial["temperature_value"] = today["temperature"]["value"]
            initial["temperature_unit"] = today["temperature"]["unit"]
        if "blood_glucose_mg_dl" in today:
            initial["blood_glucose_mg_dl"] = today["blood_glucose_mg_dl"]
        if "pregnant" in answers:
            initial["pregnant"] = answers["pregnant"]
        if "breastfeeding" in answers:
            initial["breastfeeding"] = answers["breastfeeding"]
        if "inr" in answers:
            initial["inr_value"] = answers["inr"]["value"]
            initial["inr_date"] = answers["inr"]["date"]
        if "red_flags" in answers:
            initial["red_flags"] = answers["red_flags"]
        if "prior_vasovagal" in answers:
            initial["prior_vasovagal"] = "yes" if answers["prior_vasovagal"] else "no"
        for key in ("steroid_injections_elsewhere_12m", "new_medications", "new_allergies", "notes"):
            if key in answers:
                initial[key] = answers[key]
        return initial

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        events = []
        for name, event_type in self.EVENT_QUESTIONS:
            if data.get(name) != "yes":
                continue
            start = data.get(f"{name}_date")
            if start is None:
                self.add_error(f"{name}_date", self.word("errors.date_needed"))
                continue
            event = {"type": event_type, "date": start.isoformat()}
            end = data.get(f"{name}_end_date")
            if end is not None:
                event["end_date"] = end.isoformat()
            events.append(event)
        answers: dict[str, Any] = {
            "events": events,
            "today": {flag: data.get(flag) == "yes" for flag in ("feels_unwell", "on_antibiotics", "infection_at_site")},
            "prior_vasovagal": data.get("prior_vasovagal") == "yes",
        }
        if "pregnant" in self.fields:
            if data.get("pregnant"):
                answers["pregnant"] = data["pregnant"]
            else:
                self.add_error("pregnant", self.word("errors.answer_needed"))
        else:
            answers["pregnant"] = "no"
        if "breastfeeding" in self.fields and data.get("breastfeeding"):
            answers["breastfeeding"] = data["breastfeeding"]  # left unanswered: "not asked" (a toxin plan asks)
        if data.get("steroid_injections_elsewhere_12m") is not None:
            answers["steroid_injections_elsewhere_12m"] = data["steroid_injections_elsewhere_12m"]
        for key in ("new_medications", "new_allergies", "notes"):
            if data.get(key):
                answers[key] = data[key]
        self.add_measurements(answers, data)
        if self.errors:
            return data
        try:
            self.answers = parse_answers(answers, self.screening.planned_procedure_date, self.screening.clinic.today())
        except RuleInputError as exc:
            for problem in exc.problems:
                self.add_error(None, self._plain_problem(problem))
        return data

    def add_measurements(self, answers: dict[str, Any], data: dict[str, Any]) -> None:
        """Patients do not measure; the staff form records temperature and glucose."""

    def _plain_problem(self, problem: str) -> str:
        if "is in the future" in problem:
            return self.word("errors.date_in_future")
        if "is not before the procedure date" in problem:
            return self.word("errors.date_not_before_procedure")
        return problem


class StaffQuestionnaireForm(QuestionnaireForm):
    """Staff record the same answers plus the procedure-day temperature and glucose."""

    temperature_value = forms.DecimalField(label="Temperature today", required=False, max_digits=5, decimal_places=1)
    temperature_unit = forms.ChoiceField(label="Unit", choices=[("F", "°F"), ("C", "°C")], initial="F")
    blood_glucose_mg_dl = forms.DecimalField(
        label="Blood glucose today (mg/dL)", required=False, max_digits=6, decimal_places=1
    )
    inr_value = forms.DecimalField(label="Most recent INR", required=False, max_digits=4, decimal_places=1)
    inr_date = _date_field("Date of that INR")
    red_flags = forms.MultipleChoiceField(
        label="Red flags (tick any that apply)",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[(flag, flag.replace("_", " ").capitalize()) for flag in RED_FLAGS],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in ("feels_unwell", "on_antibiotics", "infection_at_site"):
            self.fields[field].label = {
                "feels_unwell": "Feels unwell today",
                "on_antibiotics": "On antibiotics today",
                "infection_at_site": "Infection or broken skin at or near a planned site",
            }[field]
        for field, label in (("recent_fever", "Fever"), ("recent_antibiotics", "Antibiotics"),
                             ("recent_illness", "Illness"), ("recent_hospital", "Hospital stay")):
            self.fields[field].label = label
        for field in ("recent_fever_date", "recent_antibiotics_date", "recent_illness_date", "recent_hospital_date"):
            self.fields[field].label = "Start date"
        self.fields["recent_antibiotics_end_date"].label = "End date (empty if still taking them)"
        self.fields["steroid_injections_elsewhere_12m"].help_text = "Outside this clinic. Leave empty if unknown."
        if "pregnant" in self.fields:
            self.fields["pregnant"].label = "Pregnant or could be"
            self.fields["breastfeeding"].label = "Breast-feeding"
        self.fields["prior_vasovagal"].label = "Prior vasovagal reaction (fainted with needles)"
        self.fields["steroid_injections_elsewhere_12m"].label = "Steroid injections elsewhere, last 12 months"
        self.fields["new_medications"].label = "Medications not yet on the chart"
        self.fields["new_allergies"].label = "Allergies not yet on the chart"
        self.fields["notes"].label = "Notes"

    def add_measurements(self, answers: dict[str, Any], data: dict[str, Any]) -> None:
        if data.get("temperature_value") is not None:
            answers["today"]["temperature"] = {"value": str(data["temperature_value"]), "unit": data["temperature_unit"]}
        if data.get("blood_glucose_mg_dl") is not None:
            answers["today"]["blood_glucose_mg_dl"] = str(data["blood_glucose_mg_dl"])
        if data.get("inr_value") is not None:
            if data.get("inr_date") is None:
                self.add_error("inr_date", "Give the date the INR was taken.")
            else:
                answers["inr"] = {"value": str(data["inr_value"]), "date": data["inr_date"].isoformat()}
        if data.get("red_flags"):
            answers["red_flags"] = list(data["red_flags"])


class ReviewForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    note = forms.CharField(label="Review note (optional)", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class OverrideForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(
        label="Reason for proceeding despite the finding",
        min_length=10,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Required. It is stored with the screening and in the audit log.",
    )


class SendLinkForm(forms.Form):
    channel = forms.ChoiceField(label="Send by", choices=[("email", "Email"), ("sms", "Text message (SMS)")])


class ConsentSignForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    signer_name = forms.CharField(label="Full name of the person signing", max_length=200)
    signer_relationship = forms.ChoiceField(
        label="Signing as",
        choices=[("self", "The patient"), ("parent", "Parent"), ("guardian", "Legal guardian"), ("representative", "Authorized representative")],
        initial="self",
    )
    signature_kind = forms.ChoiceField(
        label="How the patient signs",
        choices=[("drawn", "Draw the signature"), ("checkbox", "Tick the box (signed at the desk)")],
        widget=forms.RadioSelect,
        initial="drawn",
    )
    signature_image = forms.CharField(required=False, widget=forms.HiddenInput(attrs={"data-signature-output": "1"}))
    acknowledged = forms.BooleanField(
        label="I have read this form, my questions were answered, and I agree to the procedure.", required=False
    )
    witness_name = forms.CharField(label="Witness (staff member present)", max_length=200, required=False)
