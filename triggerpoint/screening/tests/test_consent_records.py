"""Consent records: generated from the plan, signed once, immutable in the model and in the database."""

from __future__ import annotations

import io

import pytest
from django.db import DatabaseError, transaction

from triggerpoint.audit.models import AuditEvent
from triggerpoint.core.context import acting_as
from triggerpoint.core.errors import ImmutableRecord
from triggerpoint.core.rules import RuleInputError
from triggerpoint.screening import consent_records, services
from triggerpoint.screening.models import Consent


def _png_data_url() -> str:
    import base64

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGBA", (60, 20), (0, 0, 0, 255)).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _consent_for(user, patient, plan, day):
    with acting_as(user):
        screening = services.create_screening(user, patient, day, plan)
        return consent_records.generate_consent(user, screening)


def _sign(user, consent, **overrides):
    fields = dict(signer_name="Pat Portalowner", signature_kind="drawn", signature_image=_png_data_url(),
                  acknowledged=True, witness_name="Nina Nurse", expected_version=consent.version)
    fields.update(overrides)
    with acting_as(user):
        return consent_records.sign_consent(user, consent, **fields)


def test_a_thoracic_plan_names_pneumothorax_and_a_lumbar_plan_does_not(nurse, patient, procedure_day, thoracic_plan, lumbar_plan):
    thoracic = _consent_for(nurse, patient, thoracic_plan, procedure_day)
    lumbar = _consent_for(nurse, patient, lumbar_plan, procedure_day)
    assert "pneumothorax" in thoracic.document["risk_ids"]
    assert "Collapsed lung (pneumothorax)" in thoracic.document_text
    assert "pneumothorax" not in lumbar.document["risk_ids"]
    assert "pneumothorax" not in lumbar.document_text.lower()
    general = {"allergic_reaction", "infection", "bleeding", "nerve_injury", "temporary_pain_increase"}
    assert general <= set(thoracic.document["risk_ids"]) and general <= set(lumbar.document["risk_ids"])
    from triggerpoint.atlas.catalog import load_atlas

    assert f"{load_atlas().muscle('upper_trapezius').name} (right)" in thoracic.document_text
    assert f"{load_atlas().muscle('rhomboids').name} (left)" in thoracic.document_text


def test_steroid_and_botulinum_specifics_appear_only_when_planned(nurse, patient, procedure_day, lumbar_plan):
    plain = _consent_for(nurse, patient, lumbar_plan, procedure_day)
    with_drugs = _consent_for(
        nurse, patient, dict(lumbar_plan, injectates=[{"drug": "lidocaine"}, {"drug": "triamcinolone"},
                                                      {"drug": "onabotulinumtoxinA"}]), procedure_day)
    extra = set(with_drugs.document["risk_ids"]) - set(plain.document["risk_ids"])
    assert extra == {"corticosteroid_effects", "botulinum_toxin_effects"}
    assert "Triamcinolone acetonide" in with_drugs.document_text and "OnabotulinumtoxinA" in with_drugs.document_text


def test_a_signed_consent_cannot_be_changed_by_the_model_or_the_database(nurse, patient, procedure_day, lumbar_plan):
    consent = _sign(nurse, _consent_for(nurse, patient, lumbar_plan, procedure_day))
    assert consent.is_signed and consent.signature_kind == "drawn"
    consent.signer_name = "Someone Else"
    with pytest.raises(ImmutableRecord):
        consent.save()
    with pytest.raises(ImmutableRecord):
        consent.save_versioned(consent.version, fields=["signer_name"])
    with pytest.raises(ImmutableRecord):
        consent.soft_delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        Consent.objects.filter(pk=consent.pk).update(signer_name="Bypassing the model")
    assert Consent.objects.get(pk=consent.pk).signer_name == "Pat Portalowner"
    with pytest.raises(ImmutableRecord):
        _sign(nurse, Consent.objects.get(pk=consent.pk))


def test_an_unsigned_consent_can_still_be_replaced_when_the_form_is_generated_again(nurse, patient, procedure_day, lumbar_plan):
    first = _consent_for(nurse, patient, lumbar_plan, procedure_day)
    with acting_as(nurse):
        again = consent_records.generate_consent(nurse, first.screening)
    assert again == first  # same plan, same wording: the open form is reused
    first.screening.plan = dict(lumbar_plan, guidance="ultrasound")
    first.screening.save()
    with acting_as(nurse):
        replaced = consent_records.generate_consent(nurse, first.screening)
    assert replaced != first and replaced.document["guidance"] == "ultrasound"
    assert Consent.all_objects.get(pk=first.pk).deleted_at is not None


def test_signing_needs_a_typed_name_and_the_acknowledgement(nurse, patient, procedure_day, lumbar_plan):
    consent = _consent_for(nurse, patient, lumbar_plan, procedure_day)
    with pytest.raises(RuleInputError) as caught:
        _sign(nurse, consent, signer_name=" ", acknowledged=False, signature_kind="checkbox", signature_image="")
    assert len(caught.value.problems) == 2
    signed = _sign(nurse, consent, signature_kind="checkbox", signature_image="ignored for a checkbox")
    assert signed.signature_image == "" and signed.signature_kind == "checkbox"


def test_front_desk_cannot_sign_a_consent(nurse, front_desk, patient, procedure_day, lumbar_plan):
    from django.core.exceptions import PermissionDenied

    consent = _consent_for(nurse, patient, lumbar_plan, procedure_day)
    with pytest.raises(PermissionDenied):
        _sign(front_desk, consent)


def test_generating_and_signing_are_audited(nurse, patient, procedure_day, lumbar_plan):
    _sign(nurse, _consent_for(nurse, patient, lumbar_plan, procedure_day))
    signed = AuditEvent.objects.get(action="screening.consent.signed")
    assert signed.actor == nurse and signed.patient == patient
    assert signed.details["signature_kind"] == "drawn" and signed.details["witnessed"] is True
    assert AuditEvent.objects.filter(action="screening.consent.generated").exists()
