"""The check-in form (phone-first) and the small staff forms of follow-up."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from triggerpoint.followup.content import load_symptoms
from triggerpoint.followup.models import CallOutcome
from triggerpoint.followup.temperature import Temperature, describe_range, is_plausible
from triggerpoint.followup.triage import DEFAULT_THRESHOLDS

UNIT_CHOICES = (("F", "°F"), ("C", "°C"))
PAIN_CHOICES = [(str(score), str(score)) for score in range(11)]
RELIEF_CHOICES = [("", _("Not sure"))] + [(str(p), f"{p}%") for p in range(0, 101, 10)]


class CheckInForm(forms.Form):
    """Symptoms, temperature with unit, pain now, percent relief, free text — all optional.

    A form with nothing ticked is a valid answer: "I am fine".
    """

    symptoms = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)
    temperature = forms.DecimalField(
        required=False, max_digits=5, decimal_places=1, label=_("Temperature"),
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.1", "placeholder": _("e.g. 99.1")}),
        error_messages={"invalid": _("Enter the number on the thermometer, for example 99.1 or 37.3."),
                        "max_decimal_places": _("Use at most one digit after the point.")},
    )
    temperature_unit = forms.ChoiceField(choices=UNIT_CHOICES, initial="F", widget=forms.RadioSelect, required=False)
    pain_now = forms.ChoiceField(choices=PAIN_CHOICES, required=False, widget=forms.RadioSelect)
    relief_percent = forms.ChoiceField(choices=RELIEF_CHOICES, required=False)
    free_text = forms.CharField(required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["symptoms"].choices = [(s.id, s.label_en) for s in load_symptoms().symptoms]

    def clean(self):
        cleaned = super().clean()
        value: Decimal | None = cleaned.get("temperature")
        unit = cleaned.get("temperature_unit") or "F"
        cleaned["temperature_unit"] = unit
        if value is not None:
            reading = Temperature(value, unit)
            if not is_plausible(reading, DEFAULT_THRESHOLDS.plausible_temperature_f):
                other = "°C" if unit == "F" else "°F"
                self.add_error("temperature", gettext(
                    "%(value)s °%(unit)s is not a body temperature we can use. Please check the thermometer and "
                    "whether it shows %(other)s instead. Body temperatures are about %(range)s."
                ) % {"value": value, "unit": unit, "other": other,
                     "range": describe_range(DEFAULT_THRESHOLDS.plausible_temperature_f)})
        return cleaned

    def answers(self) -> dict:
        """The raw answers for `followup.answers.normalise_answers`."""
        data = self.cleaned_data
        temperature = None
        if data.get("temperature") is not None:
            temperature = {"value": float(data["temperature"]), "unit": data["temperature_unit"]}
        return {
            "symptoms": list(data.get("symptoms") or []),
            "temperature": temperature,
            "pain_now": int(data["pain_now"]) if data.get("pain_now") not in (None, "") else None,
            "relief_percent": int(data["relief_percent"]) if data.get("relief_percent") not in (None, "") else None,
            "free_text": data.get("free_text") or "",
        }


class CallNoteForm(forms.Form):
    outcome = forms.ChoiceField(choices=CallOutcome.choices)
    note = forms.CharField(required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 2}))
    alert = forms.UUIDField(required=False)
    checkin = forms.UUIDField(required=False)


class ResolveForm(forms.Form):
    note = forms.CharField(max_length=4000, widget=forms.Textarea(attrs={"rows": 2}),
                           error_messages={"required": "Write what was done before resolving the alert."})
