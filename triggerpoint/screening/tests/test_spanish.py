"""The patient's questionnaire and preparation instructions in Spanish, chosen from the patient's record.

The words are data (``patient_text.yaml``, ``preparation.yaml``: ``en`` and ``es`` side by side); the
answers a patient sends are stored the same whatever the language, so the rules do not change.
"""

from __future__ import annotations

import io
import re
import string
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from pypdf import PdfReader

from triggerpoint.core.context import acting_as
from triggerpoint.core.data import read_yaml
from triggerpoint.core.readability import SPANISH_MIN_FERNANDEZ_HUERTA, spanish_fernandez_huerta
from triggerpoint.notifications.services import issue_link
from triggerpoint.screening import questionnaire_link, services
from triggerpoint.screening.content import DATA_DIR, load_patient_text, load_preparation_instructions
from triggerpoint.screening.forms import QuestionnaireForm
from triggerpoint.screening.preparation import build_preparation, patient_date
from triggerpoint.screening.rules import ScreeningPolicy, parse_screening_request
from triggerpoint.screening.tests.builders import PROCEDURE_DATE, payload

TRANSLATED_FILES = ("patient_text.yaml", "preparation.yaml")
# Values the pages fill in, for scoring whole sentences as the patient reads them.
SAMPLE_VALUES = {
    "name": "Ana", "clinic": "Clínica del Valle", "day": "lunes, 30 de junio de 2025", "phone": "555-0100",
    "date": "lunes, 2 de junio de 2025", "length": "las últimas 4 semanas", "count": "4",
    "fahrenheit": "100.4", "celsius": "38.0",
    "window_start": "lunes, 2 de junio de 2025", "procedure_date": "lunes, 30 de junio de 2025",
    "blood_thinners": "Eliquis", "glucose_watch_days": "3",
    "until": "lunes, 7 de julio de 2025", "url": "http://127.0.0.1:8000/screening/q/Xy3kP9wQ7rT2vB8nM4sL6dF1/",
}
ALL_WELL = {
    "recent_fever": "no", "recent_antibiotics": "no", "recent_illness": "no", "recent_hospital": "no",
    "feels_unwell": "no", "on_antibiotics": "no", "infection_at_site": "no", "pregnant": "no",
    "prior_vasovagal": "no",
}


def _speaks(patient, language: str):
    patient.preferred_language = language
    patient.save(update_fields=["preferred_language"])
    return patient


def _link(screening) -> str:
    _record, token = issue_link(screening.patient, questionnaire_link.QUESTIONNAIRE_PURPOSE, screening, timedelta(days=7))
    return f"/screening/q/{token}/"


def _pdf_text(content: bytes) -> str:
    assert content.startswith(b"%PDF")
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages).split())


# ------------------------------------------------------------------ every English text has its Spanish
def translated_entries(node, path=""):
    """Every {en: ..., es: ...} mapping in a data file, with where it is."""
    if isinstance(node, dict):
        if "en" in node and isinstance(node["en"], str):
            yield path, node
            return
        for key, value in node.items():
            yield from translated_entries(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            name = value.get("id", index) if isinstance(value, dict) else index
            yield from translated_entries(value, f"{path}/{name}")


def _placeholders(text: str) -> set[str]:
    return {field for _literal, field, _spec, _conversion in string.Formatter().parse(text) if field}


def translation_problems(document) -> list[str]:
    """Entries without Spanish, or whose Spanish has other placeholders or other numbers than the English."""
    problems = []
    for where, entry in translated_entries(document):
        spanish = entry.get("es")
        if not isinstance(spanish, str) or not spanish.strip():
            problems.append(f"{where}: no Spanish")
            continue
        if _placeholders(spanish) != _placeholders(entry["en"]):
            problems.append(f"{where}: placeholders {sorted(_placeholders(spanish))} != {sorted(_placeholders(entry['en']))}")
        if sorted(re.findall(r"\d+", spanish)) != sorted(re.findall(r"\d+", entry["en"])):
            problems.append(f"{where}: numbers differ from the English")
    return problems


@pytest.mark.parametrize("file_name", TRANSLATED_FILES)
def test_every_english_text_has_a_spanish_sibling_with_the_same_placeholders_and_numbers(file_name):
    document = read_yaml(DATA_DIR / file_name)
    assert len(list(translated_entries(document))) >= 10
    assert translation_problems(document) == []


def test_the_sibling_check_catches_a_new_english_text_without_spanish_or_with_a_hard_coded_number():
    document = {"texts": {"g": {
        "ok": {"en": "Call us at {phone}.", "es": "Llámenos al {phone}."},
        "new": {"en": "Hold it for {days} days."},
        "hard_coded": {"en": "Hold it for {days} days.", "es": "Déjela por 3 días."},
    }}}
    problems = translation_problems(document)
    assert any("/g/new: no Spanish" in p for p in problems)
    assert any("/g/hard_coded: placeholders" in p for p in problems)
    assert any("/g/hard_coded: numbers" in p for p in problems)
    assert not any("/g/ok" in p for p in problems)


def test_every_preparation_instruction_loads_in_both_languages():
    for entry in load_preparation_instructions().entries:
        assert entry.text_in("en") == entry.text
        assert entry.text_in("es") != entry.text, entry.id
        assert entry.text_in("fr") == entry.text  # anything else falls back to English


# ------------------------------------------------------------------ readability (mirrors the English grade tests)
def _spanish_texts():
    for where, entry in translated_entries(read_yaml(DATA_DIR / "patient_text.yaml")):
        if entry.get("es"):  # a missing one fails the sibling test above
            yield where, " ".join(entry["es"].split()).format(**SAMPLE_VALUES)
    for entry in load_preparation_instructions().entries:
        yield f"preparation/{entry.id}", entry.text_in("es").format(**SAMPLE_VALUES)


@pytest.mark.parametrize(("where", "text"), list(_spanish_texts()), ids=lambda value: str(value)[:40])
def test_every_spanish_text_is_fairly_easy_or_easier(where, text):
    score = spanish_fernandez_huerta(text)
    assert score >= SPANISH_MIN_FERNANDEZ_HUERTA, (where, score, text)


def test_the_spanish_questions_read_fairly_easy_together(screening):
    form = QuestionnaireForm(screening=screening, language="es")
    text = " ".join(f"{field.label} {field.help_text}" for field in form.fields.values())
    assert spanish_fernandez_huerta(text) >= SPANISH_MIN_FERNANDEZ_HUERTA, spanish_fernandez_huerta(text)


def test_the_whole_spanish_handout_reads_fairly_easy():
    inp = parse_screening_request(payload(
        patient={"sex": "female", "conditions": ["diabetes", "prior_vasovagal"],
                 "medications": [{"name": "warfarin", "drug_class": "anticoagulant"}]},
        plan={"injectates": [{"drug": "lidocaine"}, {"drug": "triamcinolone"}, {"drug": "Botox"}]},
    ))
    texts = [item.text for item in build_preparation(inp.patient, inp.plan, inp.procedure_date, language="es")]
    assert len(texts) == len(load_preparation_instructions().entries)
    assert spanish_fernandez_huerta(" ".join(texts)) >= SPANISH_MIN_FERNANDEZ_HUERTA


def test_the_spanish_readability_measure_can_fail():
    denso = (
        "La administración concomitante de anticoagulantes orales directos incrementa considerablemente "
        "la probabilidad de complicaciones hemorrágicas periprocedimentales clínicamente significativas."
    )
    assert spanish_fernandez_huerta(denso) < SPANISH_MIN_FERNANDEZ_HUERTA


# ------------------------------------------------------------------ dates, rules and thresholds come from one place
def test_a_spanish_date_reads_the_way_patients_write_it():
    assert patient_date(date(2025, 6, 2), "es") == "lunes, 2 de junio de 2025"
    assert patient_date(date(2025, 6, 2)) == "Monday, June 2, 2025"


def test_the_spanish_instructions_take_their_dates_and_days_from_the_policy():
    inp = parse_screening_request(payload(patient={"conditions": ["diabetes"]},
                                          plan={"injectates": [{"drug": "triamcinolone"}]}))
    policy = ScreeningPolicy(recent_event_window_days=14, steroid_glucose_watch_days=5)
    texts = {i.id: i.text for i in build_preparation(inp.patient, inp.plan, inp.procedure_date, policy, language="es")}
    assert texts["report_recent_illness"].startswith("Desde el lunes, 16 de junio de 2025,")
    assert patient_date(PROCEDURE_DATE, "es") in texts["come_healthy"]
    assert "durante 5 días" in texts["steroid_and_diabetes"]


def test_the_spanish_fever_help_and_window_follow_the_clinic_policy(screening):
    policy = ScreeningPolicy(fever_threshold_c=Decimal("37.5"), recent_event_window_days=21)
    form = QuestionnaireForm(screening=screening, language="es", policy=policy)
    assert form.fields["recent_fever"].help_text == "Una temperatura de 99.5 °F (37.5 °C) o más."
    assert form.headings["window_hint"].startswith("Es decir, las últimas 3 semanas antes de su visita.")


# ------------------------------------------------------------------ the patient's pages
@pytest.mark.django_db
def test_a_spanish_speaking_patient_opens_the_link_and_reads_spanish(screening, client):
    _speaks(screening.patient, "es")
    response = client.get(_link(screening))
    html = response.content.decode()
    assert response.status_code == 200 and response["Content-Language"] == "es"
    assert '<html lang="es">' in html
    assert "Antes de su visita" in html and "¿Ha tenido fiebre?" in html and "Enviar mis respuestas" in html
    assert "¿Está embarazada o cree que podría estarlo?" in html
    assert patient_date(screening.planned_procedure_date, "es") in html
    assert "Have you had a fever?" not in html and "Send my answers" not in html
    # the stored values are the same: only the labels change
    assert 'value="yes"' in html and ">Sí<" in html


@pytest.mark.django_db
def test_an_english_speaking_patient_still_reads_english(screening, client):
    _speaks(screening.patient, "en")
    html = client.get(_link(screening), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Before your visit" in html and "Have you had a fever?" in html and "Send my answers" in html
    assert "¿Ha tenido fiebre?" not in html and "Antes de su visita" not in html


def _submit(client, screening, language: str, answers: dict):
    _speaks(screening.patient, language)
    response = client.post(_link(screening), answers)
    screening.refresh_from_db()
    return response.content.decode(), screening


@pytest.mark.django_db
def test_the_spanish_answers_are_stored_and_screened_exactly_like_the_english(screening, client):
    two_days_ago = (timezone.localdate() - timedelta(days=2)).isoformat()
    answers = ALL_WELL | {
        "recent_antibiotics": "yes", "recent_antibiotics_date": two_days_ago, "feels_unwell": "yes",
        "pregnant": "unsure", "steroid_injections_elsewhere_12m": "1", "new_medications": "Eliquis",
        "notes": "Me duele la espalda",
    }
    html, english = _submit(client, screening, "en", answers)
    assert "Thank you" in html
    stored = (english.answers, english.status, english.findings)
    html, spanish = _submit(client, screening, "es", answers)
    assert "Gracias, Pat" in html and "Ya tenemos sus respuestas" in html
    assert (spanish.answers, spanish.status, spanish.findings) == stored
    assert spanish.answers["pregnant"] == "unsure"
    assert spanish.answers["events"] == [{"type": "antibiotics", "date": two_days_ago}]
    assert spanish.answers["today"]["feels_unwell"] is True
    assert spanish.findings  # the rules did run on the Spanish submission


@pytest.mark.django_db
def test_a_spanish_patient_sees_the_forms_problems_in_spanish(screening, client):
    html, screening = _submit(client, screening, "es", ALL_WELL | {"recent_fever": "yes"})
    assert "Por favor, escriba la fecha (una fecha aproximada está bien)." in html
    assert "Please give the date" not in html
    assert screening.answers == {}
    future = (timezone.localdate() + timedelta(days=1)).isoformat()
    html, screening = _submit(client, screening, "es", ALL_WELL | {"recent_fever": "yes", "recent_fever_date": future})
    assert "Una de las fechas que escribió" in html and "A date you gave" not in html


@pytest.mark.django_db
def test_the_spanish_preparation_page_and_pdf(screening, client):
    _speaks(screening.patient, "es")
    link = _link(screening)
    html = client.get(link + "preparation/").content.decode()
    assert "Cómo alistarse para su visita" in html and "Qué debe hacer" in html
    assert "Traiga una identificación con foto" in html and "Getting ready" not in html and "Bring a photo ID" not in html
    pdf = _pdf_text(client.get(link + "preparation.pdf").content)
    assert "Cómo alistarse para su visita" in pdf and "Traiga una identificación con foto" in pdf
    assert screening.patient.full_name in pdf and "Getting ready" not in pdf


@pytest.mark.django_db
def test_the_portal_shows_a_spanish_patient_the_questions_in_spanish(screening, client):
    _speaks(screening.patient, "es")
    client.force_login(screening.patient.portal_user)
    assert "Conteste las preguntas de salud" in client.get("/portal/").content.decode()
    html = client.get(f"/screening/portal/{screening.public_id}/").content.decode()
    assert "¿Ha tenido fiebre?" in html and "Have you had a fever?" not in html
    html = client.post(f"/screening/portal/{screening.public_id}/", ALL_WELL).content.decode()
    assert "Gracias, Pat" in html
    screening.refresh_from_db()
    assert screening.answers_source == "portal" and screening.answers["pregnant"] == "no"


@pytest.mark.django_db
def test_the_staff_pages_stay_english_for_a_spanish_speaking_patient(screening, login_as, nurse, physician):
    _speaks(screening.patient, "es")
    base = f"/screening/patient/{screening.patient.public_id}/{screening.public_id}/"
    staff = login_as(nurse)
    html = staff.get(base + "answers/").content.decode()
    assert "Fever" in html and "¿Ha tenido fiebre?" not in html
    assert "Since " in html
    html = staff.get(base + "preparation/").content.decode()
    assert "Bring a photo ID" in html and "Traiga" not in html
    # the PDF staff print is the patient's handout, so it is in the patient's language
    assert "Traiga una identificación con foto" in _pdf_text(staff.get(base + "preparation.pdf").content)
    with acting_as(physician):
        assert services.preparation_for(screening)[0].text.startswith("Bring")


def test_the_patient_text_falls_back_to_english():
    words = load_patient_text()
    assert words.get("questionnaire.title", "es") == "Antes de su visita"
    assert words.get("questionnaire.title", "fr") == "Before your visit"
