"""The consent form in Spanish for a Spanish-preferring patient; the English form unchanged.

Hazard HAZ-WRONG-LANGUAGE-INSTRUCTIONS: a patient must understand what they sign.
"""

from __future__ import annotations

import io
import re

import pytest
import yaml

from triggerpoint.atlas.catalog import load_atlas
from triggerpoint.catalogues.drugs import load_drugs
from triggerpoint.core.context import acting_as
from triggerpoint.core.readability import SPANISH_MIN_FERNANDEZ_HUERTA, spanish_fernandez_huerta
from triggerpoint.screening import consent_records, services
from triggerpoint.screening.consent import build_consent
from triggerpoint.screening.content import DATA_DIR, load_consent_es, load_consent_risks
from triggerpoint.screening.rules import parse_screening_request
from triggerpoint.screening.tests.builders import payload

THORACIC = {"sites": [{"muscle": "upper_trapezius", "side": "right"}, {"muscle": "rhomboids", "side": "left"}],
            "injectates": [{"drug": "lidocaine"}, {"drug": "triamcinolone"}], "guidance": "landmark"}
RISKS = [entry.id for entry in load_consent_risks().entries]
ENGLISH_RISKS = {entry.id: entry for entry in load_consent_risks().entries}


def _document(language, **plan):
    inp = parse_screening_request(payload(plan=plan or THORACIC))
    return build_consent(inp.plan, load_atlas(), load_drugs(), language)


def test_the_spanish_form_names_procedure_muscles_medicines_and_risks_in_spanish():
    document = _document("es")
    assert document.language == "es"
    assert document.procedure == "Inyección en puntos gatillo"
    assert [site.muscle_name for site in document.sites] == ["Trapecio superior", "Romboides mayor y menor"]
    assert document.injectates == ("Lidocaína", "Acetónido de triamcinolona")
    assert document.guidance_text == "La aguja se pondrá guiándose por el tacto, sin ultrasonido."
    titles = {risk.id: risk.title for risk in document.risks}
    assert titles["pneumothorax"] == "Pulmón colapsado (neumotórax)"
    assert titles["corticosteroid_effects"] == "Efectos del esteroide"


def test_the_english_form_is_unchanged():
    document = _document("en")
    assert document.language == "en" and document.procedure == "Trigger point injection"
    assert [site.muscle_name for site in document.sites] == ["Upper trapezius", "Rhomboid major and minor"]
    assert document.injectates == ("Lidocaine", "Triamcinolone acetonide")
    assert {risk.id: risk.plain_text for risk in document.risks} == {
        risk.id: ENGLISH_RISKS[risk.id].text for risk in document.risks
    }


def test_an_unknown_language_is_refused():
    with pytest.raises(ValueError, match="language"):
        _document("fr")


def test_every_consent_risk_has_spanish_and_nothing_else_is_translated():
    assert set(load_consent_es().risks) == set(RISKS)


def test_every_drug_has_a_spanish_name():
    assert set(load_consent_es().drugs) == set(load_drugs().ids)


def test_the_spanish_translates_the_current_risk_wording():
    raw = yaml.safe_load((DATA_DIR / "consent_es.yaml").read_text(encoding="utf-8"))
    assert raw["risks_version"] == load_consent_risks().version


@pytest.mark.parametrize("risk_id", RISKS)
def test_each_spanish_risk_is_fairly_easy_to_read_and_says_the_english_numbers(risk_id):
    spanish = load_consent_es().risks[risk_id]
    text = f"{spanish['title']}. {spanish['plain_text']}"
    assert spanish_fernandez_huerta(text) >= SPANISH_MIN_FERNANDEZ_HUERTA
    english = ENGLISH_RISKS[risk_id].text
    assert set(re.findall(r"\d+", spanish["plain_text"])) == set(re.findall(r"\d+", english))


def test_the_spanish_choice_paragraph_is_fairly_easy_to_read():
    assert spanish_fernandez_huerta(load_consent_es().labels["your_choice_text"]) >= SPANISH_MIN_FERNANDEZ_HUERTA


@pytest.mark.django_db
class TestTheStoredAndPrintedForm:
    def _consent(self, user, patient, day, language):
        patient.preferred_language = language
        patient.save()
        with acting_as(user):
            screening = services.create_screening(user, patient, day, THORACIC)
            return screening, consent_records.generate_consent(user, screening)

    @staticmethod
    def _pdf_text(content: bytes) -> str:
        from pypdf import PdfReader

        return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages).split())

    def test_the_signed_text_of_a_spanish_patient_is_spanish(self, nurse, patient, procedure_day):
        _screening, consent = self._consent(nurse, patient, procedure_day, "es")
        assert consent.document["language"] == "es"
        assert consent.document_text.startswith("Consentimiento para: inyección en puntos gatillo")
        assert "Trapecio superior (derecho)" in consent.document_text
        assert "- Pulmón colapsado (neumotórax):" in consent.document_text
        assert "Collapsed lung" not in consent.document_text and "Muscles and sides" not in consent.document_text

    def test_the_pdf_of_a_spanish_patient_is_spanish(self, login_as, nurse, patient, procedure_day):
        screening, consent = self._consent(nurse, patient, procedure_day, "es")
        url = f"/screening/patient/{patient.public_id}/{screening.public_id}/consent/{consent.public_id}/print.pdf"
        text = self._pdf_text(login_as(nurse).get(url).content)
        assert "Consentimiento para: inyección en puntos gatillo" in text
        assert "Trapecio superior, lado derecho" in text and "Lidocaína" in text
        assert "Pulmón colapsado (neumotórax)" in text and "Usted decide" in text and "SIN FIRMAR" in text
        for english in ("Consent to", "What we will do", "Collapsed lung", "Your choice", "NOT SIGNED"):
            assert english not in text

    def test_the_pdf_of_an_english_patient_is_the_english_form(self, login_as, nurse, patient, procedure_day):
        screening, consent = self._consent(nurse, patient, procedure_day, "en")
        url = f"/screening/patient/{patient.public_id}/{screening.public_id}/consent/{consent.public_id}/print.pdf"
        text = self._pdf_text(login_as(nurse).get(url).content)
        assert "Consent to trigger point injection" in text and "What we will do" in text
        assert "Upper trapezius, right side" in text and "Collapsed lung (pneumothorax)" in text
        assert "NOT SIGNED" in text and "Consentimiento" not in text
        assert consent.document_text.startswith("Consent to trigger point injection")
