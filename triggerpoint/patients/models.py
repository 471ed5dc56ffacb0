"""The patient record: demographics, weight, allergies, medications and risk factors.

Screening, dosing and triage read these facts, so they are coded (drug class,
risk factor kind) rather than free text wherever a rule depends on them.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from triggerpoint.core.models import ClinicalRecord
from triggerpoint.patients.folding import fold, phone_digits
from triggerpoint.patients.payers import validate_payer


class Sex(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    OTHER = "other", "Other"
    UNKNOWN = "unknown", "Unknown"


class Language(models.TextChoices):
    ENGLISH = "en", "English"
    SPANISH = "es", "Español"


class AllergyStatus(models.TextChoices):
    """Whether anyone asked about allergies. "No known drug allergies" is a recorded answer; "unknown" means never asked."""

    UNKNOWN = "unknown", "Not recorded (never asked)"
    NKDA = "nkda", "No known drug allergies"
    HAS_ALLERGIES = "has_allergies", "Has allergies"


class Patient(ClinicalRecord):
    mrn = models.CharField("MRN", max_length=32)
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    sex = models.CharField(max_length=10, choices=Sex.choices, default=Sex.UNKNOWN)
    weight_kg = models.DecimalField(
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(400)],
    )
    weight_measured_on = models.DateField(null=True, blank=True)
    height_cm = models.DecimalField(
        max_digits=4, decimal_places=1, null=True, blank=True, validators=[MinValueValidator(30), MaxValueValidator(260)]
    )
    phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)
    address = models.TextField(blank=True)
    preferred_language = models.CharField(max_length=5, choices=Language.choices, default=Language.ENGLISH)
    payer = models.CharField(max_length=40, blank=True, validators=[validate_payer],
                             help_text="Payer id from the payer table; a new procedure note takes it for coding.")
    payer_member_id = models.CharField("member id", max_length=40, blank=True)
    # Set by the allergy services only: recording an allergy makes it has_allergies; NKDA is refused
    # while active allergies exist. Screening is never ready while it is unknown.
    allergy_status = models.CharField(max_length=16, choices=AllergyStatus.choices, default=AllergyStatus.UNKNOWN)
    portal_user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # "family given", folded (accents, case, punctuation gone): what the search box matches names against.
    # Kept by save() and save_versioned(); on PostgreSQL a trigram index serves "contains" (migration 0005).
    search_name = models.CharField(max_length=210, blank=True, editable=False)
    # The phone's digits only (a leading US country code 1 dropped): what the search box and the duplicate
    # check compare, whatever the format typed. Kept by save() and save_versioned(); indexed (migration 0006).
    phone_digits = models.CharField(max_length=40, blank=True, editable=False)
    # A duplicate chart merged into another (patients.merging): set once, never cleared. The absorbed chart
    # keeps its signed records (the database refuses to move them) and is read through the survivor; it is
    # read-only and hidden from search, and every lookup by id, MRN or portal account follows the link.
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="absorbed_charts", editable=False)
    merged_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["family_name", "given_name"]
        constraints = [models.UniqueConstraint(fields=["clinic", "mrn"], name="patient_mrn_unique_per_clinic")]
        indexes = [models.Index(fields=["clinic", "family_name"]),
                   models.Index(fields=["clinic", "phone_digits"], name="patient_clinic_phone_digits")]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.mrn})"

    NAME_FIELDS = ("given_name", "family_name")

    def _derived_fields(self, fields) -> list[str]:
        """Set the stored search keys; the ones that `fields` (None: all) touch, to save with them."""
        self.search_name = fold(f"{self.family_name} {self.given_name}")
        self.phone_digits = phone_digits(self.phone)
        if fields is None:
            return []
        derived = []
        if set(self.NAME_FIELDS) & set(fields):
            derived.append("search_name")
        if "phone" in fields:
            derived.append("phone_digits")
        return derived

    def save(self, *args, **kwargs):
        fields = kwargs.get("update_fields")
        derived = self._derived_fields(fields)
        if derived:
            kwargs["update_fields"] = [*fields, *derived]
        super().save(*args, **kwargs)

    def save_versioned(self, expected_version: int, fields: list[str]) -> None:
        super().save_versioned(expected_version, [*fields, *self._derived_fields(fields)])

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    def age_on(self, on: date) -> int:
        dob = self.date_of_birth
        return on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))

    @property
    def bmi(self) -> float | None:
        if not self.weight_kg or not self.height_cm:
            return None
        metres = float(self.height_cm) / 100
        return round(float(self.weight_kg) / (metres * metres), 1)


class MrnCounter(models.Model):
    """The last number handed out as an MRN in one clinic; its row is locked while a number is taken."""

    clinic = models.OneToOneField("clinics.Clinic", on_delete=models.CASCADE, related_name="+")
    last_number = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.clinic_id}: {self.last_number}"


class Severity(models.TextChoices):
    MILD = "mild", "Mild"
    MODERATE = "moderate", "Moderate"
    SEVERE = "severe", "Severe"
    UNKNOWN = "unknown", "Unknown"


class Allergy(ClinicalRecord):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="allergies")
    substance = models.CharField(max_length=120)
    reaction = models.CharField(max_length=200, blank=True)
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.UNKNOWN)

    class Meta:
        ordering = ["substance"]
        verbose_name_plural = "allergies"

    def __str__(self) -> str:
        return self.substance


class DrugClass(models.TextChoices):
    ANTICOAGULANT = "anticoagulant", "Anticoagulant"
    ANTIPLATELET = "antiplatelet", "Antiplatelet"
    NSAID = "nsaid", "NSAID"
    CORTICOSTEROID = "corticosteroid", "Corticosteroid"
    ANTIBIOTIC = "antibiotic", "Antibiotic"
    OPIOID = "opioid", "Opioid"
    MUSCLE_RELAXANT = "muscle_relaxant", "Muscle relaxant"
    ANTIDEPRESSANT = "antidepressant", "Antidepressant"
    ANTICONVULSANT = "anticonvulsant", "Anticonvulsant"
    ANTIDIABETIC = "antidiabetic", "Antidiabetic"
    OTHER = "other", "Other"


class Medication(ClinicalRecord):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="medications")
    name = models.CharField(max_length=120)
    drug_class = models.CharField(max_length=20, choices=DrugClass.choices, default=DrugClass.OTHER)
    dose = models.CharField(max_length=120, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RiskFactorKind(models.TextChoices):
    BLEEDING_DISORDER = "bleeding_disorder", "Bleeding disorder"
    HIGH_BLEEDING_RISK = "high_bleeding_risk", "High bleeding risk (physician marked)"
    DIABETES = "diabetes", "Diabetes"
    PREGNANCY = "pregnancy", "Pregnancy"
    BREASTFEEDING = "breastfeeding", "Breast-feeding"
    IMMUNOSUPPRESSION = "immunosuppression", "Immunosuppression"
    PRIOR_VASOVAGAL = "prior_vasovagal", "Prior vasovagal reaction"
    COPD = "copd", "COPD"
    THIN_HABITUS = "thin_habitus", "Thin habitus"
    FIBROMYALGIA = "fibromyalgia", "Fibromyalgia"
    SMOKER = "smoker", "Smoker"
    MYASTHENIA_GRAVIS = "myasthenia_gravis", "Myasthenia gravis"
    LAMBERT_EATON = "lambert_eaton", "Lambert–Eaton myasthenic syndrome"
    ALS = "als", "Amyotrophic lateral sclerosis (ALS) / motor neurone disease"
    KIDNEY_IMPAIRMENT = "kidney_impairment", "Kidney impairment"
    HEART_BLOCK = "heart_block", "Heart block"
    SUSPECTED_MALIGNANCY = "suspected_malignancy", "Red flag: suspected malignancy"
    NEW_NEUROLOGICAL_DEFICIT = "new_neurological_deficit", "Red flag: new neurological deficit"
    RECENT_TRAUMA_AT_SITE = "recent_trauma_at_site", "Red flag: recent trauma at the site"
    RECENT_SURGERY_AT_SITE = "recent_surgery_at_site", "Red flag: recent surgery at the site"
    FRACTURE = "fracture", "Red flag: fracture (known or suspected)"


class RiskFactor(ClinicalRecord):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="risk_factors")
    kind = models.CharField(max_length=30, choices=RiskFactorKind.choices)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["kind"]

    def __str__(self) -> str:
        return self.get_kind_display()


class PatientIdentifier(models.Model):
    """An identifier another system gave the patient (FHIR `Patient.identifier`: system + value), per clinic.

    The import from an EHR (`fhir.importing`) finds the chart by it before any duplicate rule; one
    (clinic, system, value) names one chart."""

    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="identifiers")
    system = models.CharField(max_length=255)
    value = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["clinic", "system", "value"],
                                               name="patient_identifier_unique_per_clinic")]

    def __str__(self) -> str:
        return f"{self.system}|{self.value}"


class ImportedItem(ClinicalRecord):
    """One coded item received from another system, kept as sent (system, code, text) and what we made of it.

    `kind`: allergy | medication | condition | weight. `mapped_to` says what it became on the chart
    ("allergy: Lidocaine", "medication: anticoagulant"), empty when nothing; `needs_classification`
    marks what no vocabulary of ours recognised, shown on the chart until a person classifies it.
    The natural key (patient, kind, system, code, text) makes a re-sent item a no-op."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="imported_items")
    kind = models.CharField(max_length=20)
    system = models.CharField(max_length=255, blank=True)
    code = models.CharField(max_length=100, blank=True)
    text = models.CharField(max_length=255)
    detail = models.CharField(max_length=255, blank=True)
    mapped_to = models.CharField(max_length=200, blank=True)
    needs_classification = models.BooleanField(default=False)
    source = models.CharField(max_length=255, blank=True)  # the sending system (the identifier system matched)

    class Meta:
        ordering = ["kind", "text"]
        constraints = [models.UniqueConstraint(fields=["patient", "kind", "system", "code", "text"],
                                               name="imported_item_unique_per_patient")]

    def __str__(self) -> str:
        return f"{self.kind}: {self.text}"
