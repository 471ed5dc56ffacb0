"""The procedure note: the hub record of a trigger point injection session.

A note starts as a draft (autosaved, version-checked so two clinicians cannot
overwrite each other) and becomes immutable when signed. Immutability is enforced
here (save/delete refuse) and in the database (triggers added in a migration), so
a signed note cannot be changed by any code path — corrections are `Amendment`s
that are shown with the original.

Muscles are atlas ids and drugs are drug-catalogue ids (validated by the services,
not by foreign keys, because the catalogues are versioned data files).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from triggerpoint.core.choices import Guidance, Side, Technique
from triggerpoint.core.errors import HardDeleteRefused, ImmutableRecord
from triggerpoint.core.models import ClinicalRecord

NRS_VALIDATORS = [MinValueValidator(0), MaxValueValidator(10)]


class ProcedureStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SIGNED = "signed", "Signed"


class Complication(models.TextChoices):
    VASOVAGAL = "vasovagal", "Vasovagal reaction"
    BLEEDING = "bleeding_haematoma", "Bleeding / haematoma"
    LAST = "local_anesthetic_toxicity", "Signs of local-anaesthetic toxicity"
    PNEUMOTHORAX = "suspected_pneumothorax", "Suspected pneumothorax"
    OTHER = "other", "Other"


class DischargeCondition(models.TextChoices):
    STABLE = "stable", "Stable, walked out unaided"
    STABLE_ESCORTED = "stable_escorted", "Stable, escorted"
    TRANSFERRED = "transferred", "Transferred for further care"


class YesNo(models.TextChoices):
    YES = "yes", "Yes"
    NO = "no", "No"


class SiteMarked(models.TextChoices):
    YES = "yes", "Yes, site marked"
    NO = "no", "No"
    NOT_APPLICABLE = "not_applicable", "Not applicable (midline, single site, or marking impractical)"


class SkinPrep(models.TextChoices):
    CHLORHEXIDINE_ALCOHOL = "chlorhexidine_alcohol", "Chlorhexidine gluconate with alcohol"
    POVIDONE_IODINE = "povidone_iodine", "Povidone-iodine"
    ALCOHOL = "alcohol", "Isopropyl alcohol 70 %"
    OTHER = "other", "Other (see notes)"


class SterileTechnique(models.TextChoices):
    ASEPTIC_NO_TOUCH = "aseptic_no_touch", "Aseptic no-touch technique (clean gloves)"
    FULL_STERILE = "full_sterile", "Full sterile technique (sterile gloves and field)"


class Procedure(ClinicalRecord):
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="procedures")
    performed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    procedure_date = models.DateField(default=timezone.localdate)
    performed_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=ProcedureStatus.choices, default=ProcedureStatus.DRAFT)
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    screening = models.ForeignKey(
        "screening.ScreeningRecord", null=True, blank=True, on_delete=models.PROTECT, related_name="procedures"
    )
    consent = models.ForeignKey("screening.Consent", null=True, blank=True, on_delete=models.PROTECT, related_name="procedures")
    assessment = models.ForeignKey(
        "assessment.Visit", null=True, blank=True, on_delete=models.PROTECT, related_name="procedures"
    )
    # The day's procedure appointment the note was written for (set when the draft opens and the patient has
    # arrived for one); the worklist's row links to the note through it. Here, not on the appointment:
    # scheduling sits below procedures.
    appointment = models.ForeignKey(
        "scheduling.Appointment", null=True, blank=True, on_delete=models.PROTECT, related_name="procedures"
    )
    guidance = models.CharField(max_length=12, choices=Guidance.choices, default=Guidance.LANDMARK)
    guidance_images = models.JSONField(default=list, blank=True, help_text="References to ultrasound still images.")
    pre_nrs = models.PositiveSmallIntegerField(null=True, blank=True, validators=NRS_VALIDATORS)
    post_nrs = models.PositiveSmallIntegerField(null=True, blank=True, validators=NRS_VALIDATORS)
    observation_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    complications = models.JSONField(default=list, blank=True)
    complication_notes = models.TextField(blank=True)
    discharge_condition = models.CharField(max_length=20, choices=DischargeCondition.choices, blank=True)
    notes = models.TextField(blank=True)
    payer = models.CharField(max_length=40, blank=True, help_text="Payer policy id for coding warnings.")
    diagnosis_codes = models.JSONField(default=list, blank=True, help_text="ICD-10-CM codes linked from the assessment.")
    # The fields the draft opened with from the plan, still as prefilled:
    # {"sites": {"source": "screening"|"assessment"|"patient", "id", "date", "label", "value"}} (procedures.prefill).
    prefilled_from = models.JSONField(default=dict, blank=True)
    # Snapshots taken at signing so the signed note shows exactly what was checked.
    weight_kg_used = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    dose_check = models.JSONField(null=True, blank=True)
    codes = models.JSONField(null=True, blank=True)
    dose_override_reason = models.TextField(blank=True)
    screening_override_reason = models.TextField(blank=True)
    repeat_override_reason = models.TextField(
        blank=True, help_text="Physician's reason for signing a session the payer's repeat limits advise against."
    )
    # Universal Protocol (The Joint Commission UP.01.01.01-UP.01.03.01): part of the legal record.
    timeout_performed = models.CharField(max_length=3, choices=YesNo.choices, blank=True)
    timeout_time = models.TimeField(null=True, blank=True, help_text="Clinic-local time the time-out was performed.")
    site_marked = models.CharField(max_length=14, choices=SiteMarked.choices, blank=True)
    skin_prep_agent = models.CharField(max_length=24, choices=SkinPrep.choices, blank=True)
    sterile_technique = models.CharField(max_length=20, choices=SterileTechnique.choices, blank=True)

    class Meta:
        ordering = ["-procedure_date", "-created_at"]
        indexes = [models.Index(fields=["clinic", "status", "procedure_date"])]

    def __str__(self) -> str:
        return f"Procedure {self.procedure_date} ({self.get_status_display()})"

    @property
    def is_signed(self) -> bool:
        return self.status == ProcedureStatus.SIGNED

    def _stored_status(self) -> str | None:
        if self.pk is None:
            return None
        return type(self).all_objects.filter(pk=self.pk).values_list("status", flat=True).first()

    def save(self, *args, **kwargs):
        if self._stored_status() == ProcedureStatus.SIGNED:
            raise ImmutableRecord("A signed procedure note cannot be changed; write an amendment instead.")
        super().save(*args, **kwargs)

    def save_versioned(self, expected_version: int, fields: list[str]) -> None:
        if self._stored_status() == ProcedureStatus.SIGNED:
            raise ImmutableRecord("A signed procedure note cannot be changed; write an amendment instead.")
        super().save_versioned(expected_version, fields)

    def soft_delete(self) -> None:
        if self._stored_status() == ProcedureStatus.SIGNED:
            raise ImmutableRecord("A signed procedure note cannot be deleted.")
        super().soft_delete()


class _ChildOfProcedure(models.Model):
    """Sites and injectates are frozen with their note: no change once it is signed."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self._parent_signed():
            raise ImmutableRecord("The sites and injectates of a signed note cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self._parent_signed():
            raise ImmutableRecord("The sites and injectates of a signed note cannot be removed.")
        return super().delete(*args, **kwargs)

    def _parent_signed(self) -> bool:
        procedure_id = self.procedure_id
        if self.pk is not None:
            stored = type(self).objects.filter(pk=self.pk).values_list("procedure_id", flat=True).first()
            if stored is not None and Procedure.all_objects.filter(pk=stored, status=ProcedureStatus.SIGNED).exists():
                return True
        return Procedure.all_objects.filter(pk=procedure_id, status=ProcedureStatus.SIGNED).exists()


class InjectionSite(_ChildOfProcedure):
    procedure = models.ForeignKey(Procedure, on_delete=models.CASCADE, related_name="sites")
    position = models.PositiveSmallIntegerField(default=0)
    muscle = models.CharField(max_length=60, help_text="Atlas muscle id.")
    side = models.CharField(max_length=5, choices=Side.choices)
    trigger_point = models.CharField(max_length=120, blank=True, help_text="Which trigger point / location in the muscle.")
    technique = models.CharField(max_length=12, choices=Technique.choices, default=Technique.INJECTION)
    insertions = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1), MaxValueValidator(50)])
    needle_gauge = models.PositiveSmallIntegerField(null=True, blank=True, validators=[MinValueValidator(18), MaxValueValidator(34)])
    needle_length_mm = models.PositiveSmallIntegerField(null=True, blank=True, validators=[MinValueValidator(5), MaxValueValidator(150)])
    local_twitch = models.BooleanField(null=True, blank=True, help_text="Local twitch response elicited.")
    immediate_response = models.CharField(max_length=200, blank=True)
    uses_shared_mix = models.BooleanField(default=True)
    # Volume of the shared mix given here; null = the standard per-site volume of the mix.
    mix_volume_ml = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.muscle} ({self.side})"


class Injectate(_ChildOfProcedure):
    procedure = models.ForeignKey(Procedure, on_delete=models.CASCADE, related_name="injectates")
    site = models.ForeignKey(InjectionSite, null=True, blank=True, on_delete=models.CASCADE, related_name="injectates")
    drug = models.CharField(max_length=60, help_text="Drug catalogue id.")
    concentration_percent = models.DecimalField(max_digits=6, decimal_places=3, null=True, blank=True)
    concentration_mg_per_ml = models.DecimalField(max_digits=8, decimal_places=3, null=True, blank=True)
    concentration_units_per_ml = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    with_epinephrine = models.BooleanField(default=False)
    # Total volume given: for a shared-mix row, summed over every site that received the mix.
    # Null while a draft is incomplete; signing requires it.
    volume_ml = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    # For a shared-mix row: the standard volume of this component per site (the mix "set once").
    ml_per_site = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    dose_mg = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    dose_units = models.DecimalField(max_digits=8, decimal_places=1, null=True, blank=True)
    lot_number = models.CharField(max_length=40, blank=True)
    expiry = models.DateField(null=True, blank=True)
    ndc = models.CharField(max_length=13, blank=True, help_text="National Drug Code, 11-digit 5-4-2 format.")
    single_dose_vial = models.BooleanField(null=True, blank=True, help_text="Drawn from a single-dose vial (JW/JZ).")
    discarded = models.DecimalField(
        max_digits=8, decimal_places=2, null=True, blank=True,
        help_text="Amount discarded from a single-dose vial, in the drug's dose unit (mg or units); 0 = none.",
    )

    class Meta:
        ordering = ["site_id", "id"]

    def __str__(self) -> str:
        return f"{self.drug} {self.volume_ml} mL"


class Amendment(models.Model):
    """A correction to a signed note: append-only, shown with the original."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    procedure = models.ForeignKey(Procedure, on_delete=models.PROTECT, related_name="amendments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    reason = models.TextField()
    text = models.TextField()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Amendment {self.created_at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ImmutableRecord("Amendments are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise HardDeleteRefused("Amendments are never deleted.")


def guidance_image_path(instance: GuidanceImage, filename: str) -> str:
    """Per clinic, with a random name: the stored path says nothing about the patient and cannot be guessed."""
    extension = {"image/png": "png", "image/jpeg": "jpg"}.get(instance.content_type, "bin")
    return f"guidance/{instance.clinic.public_id}/{uuid.uuid4().hex}.{extension}"


class GuidanceImage(ClinicalRecord):
    """An ultrasound still attached to a procedure note.

    Belongs to the note: added or removed (soft delete; the file is kept) only while
    the note is a draft, and frozen with it once signed — here and by database
    triggers. The file lives under MEDIA_ROOT but is only ever served by the
    access-controlled `procedures:image` view, never by a public media URL.
    """

    procedure = models.ForeignKey(Procedure, on_delete=models.PROTECT, related_name="images")
    image = models.FileField(upload_to=guidance_image_path, max_length=200)
    caption = models.CharField(max_length=200, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)
    content_type = models.CharField(max_length=20, choices=[("image/png", "PNG"), ("image/jpeg", "JPEG")])
    size_bytes = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()

    class Meta:
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return f"Guidance image {self.caption or self.public_id}"

    def _note_signed(self) -> bool:
        ids = {self.procedure_id}
        if self.pk is not None:
            ids.add(type(self).all_objects.filter(pk=self.pk).values_list("procedure_id", flat=True).first())
        return Procedure.all_objects.filter(pk__in=[i for i in ids if i], status=ProcedureStatus.SIGNED).exists()

    def save(self, *args, **kwargs):
        if self._note_signed():
            raise ImmutableRecord("The images of a signed note cannot be added or changed.")
        super().save(*args, **kwargs)

    def save_versioned(self, expected_version: int, fields: list[str]) -> None:
        # soft_delete() writes through here
        if self._note_signed():
            raise ImmutableRecord("The images of a signed note cannot be changed or removed.")
        super().save_versioned(expected_version, fields)
