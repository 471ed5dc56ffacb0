from __future__ import annotations

from django import forms

from triggerpoint.core import plausible
from triggerpoint.patients import payers
from triggerpoint.patients.models import Allergy, Medication, Patient, RiskFactor


class PatientForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Patient
        fields = [
            "mrn",
            "given_name",
            "family_name",
            "date_of_birth",
            "sex",
            "weight_kg",
            "weight_measured_on",
            "height_cm",
            "phone",
            "email",
            "address",
            "preferred_language",
            "payer",
            "payer_member_id",
        ]
        widgets = {
            "date_of_birth": forms.DateInput(attrs={"type": "date"}),
            "weight_measured_on": forms.DateInput(attrs={"type": "date"}),
            "address": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["date_of_birth"].validators.append(plausible.form_validator("birth"))
        self.fields["weight_measured_on"].validators.append(plausible.form_validator("recorded"))
        self.fields["payer"].widget = forms.Select(choices=[("", "— not recorded —"), *payers.choices()])

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("weight_kg") and not cleaned.get("weight_measured_on"):
            self.add_error("weight_measured_on", "Give the date the weight was taken: dose checks need a recent weight.")
        return cleaned


class AllergyForm(forms.ModelForm):
    class Meta:
        model = Allergy
        fields = ["substance", "reaction", "severity"]


class MedicationForm(forms.ModelForm):
    class Meta:
        model = Medication
        fields = ["name", "drug_class", "dose"]


class RiskFactorForm(forms.ModelForm):
    class Meta:
        model = RiskFactor
        fields = ["kind", "note"]


class RegistrationForm(PatientForm):
    """A new chart: the MRN is generated unless typed (a patient imported from another system)."""

    confirm_not_duplicate = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mrn"].required = False
        self.fields["mrn"].help_text = "Leave blank to generate the clinic's next MRN; type it only for a patient imported from elsewhere."
