"""Spanish free text gets the same reading as English (issue 14): breathing trouble, worsening
pain, lip and tongue swelling, negation in both directions, regional words, missing accents."""

from __future__ import annotations

from decimal import Decimal

import pytest

from triggerpoint.followup.content import load_lexicon, load_symptoms
from triggerpoint.followup.tests.helpers import checkin
from triggerpoint.followup.text_scan import scan_text
from triggerpoint.followup.triage import parse_triage_request, triage

PLAUSIBLE_F = (Decimal("93.2"), Decimal("109.4"))


def scan(text):
    return scan_text(text, plausible_f=PLAUSIBLE_F)


def disposition(text, reported_at="2025-03-05T09:00:00-05:00"):
    return triage(parse_triage_request(checkin(reported_at=reported_at, free_text=text)), None).disposition


@pytest.mark.parametrize("text", [
    "me cuesta respirar", "Me falta el aire", "siento que me ahogo", "no puedo respirar bien",
    "me quedo sin aire", "no me entra el aire", "me cuesta jalar aire", "tengo ahogo",
    "respiro con dificultad", "me esta costando trabajo respirar", "me cuesta resprar",
])
def test_spanish_breathing_trouble_is_an_emergency(text):
    assert "trouble_breathing" in scan(text).symptoms
    assert disposition(text) == "emergency"


@pytest.mark.parametrize(("english", "spanish"), [
    ("my lips are swollen", "se me hincharon los labios"),
    ("my tongue is swollen", "tengo la lengua hinchada"),
    ("my throat is closing", "se me está cerrando la garganta"),
])
def test_lip_tongue_and_throat_swelling_are_graded_the_same_in_both_languages(english, spanish):
    assert "throat_swelling" in scan(english).symptoms and "throat_swelling" in scan(spanish).symptoms
    assert disposition(english) == disposition(spanish) == "emergency"


@pytest.mark.parametrize("text", ["el dolor empeora cada día", "me duele cada vez más", "el dolor va en aumento",
                                  "el dolor esta peor cada dia"])
def test_worsening_pain_in_spanish_pages_on_day_7(text):
    assert "site_pain_increasing" in scan(text).symptoms
    assert disposition(text, reported_at="2025-03-10T09:00:00-04:00") == "urgent"


@pytest.mark.parametrize(("text", "denied"), [
    ("no tengo fiebre", "fever"),
    ("no me falta el aire", "trouble_breathing"),
    ("no tengo fiebre ni dificultad para respirar", "trouble_breathing"),
    ("no tengo dolor de pecho y tampoco me falta el aire", "trouble_breathing"),
    ("sin pus", "site_discharge"),
    ("nada de hinchazón", "site_swelling"),
])
def test_spanish_negation_denies_the_symptom(text, denied):
    result = scan(text)
    assert denied in result.negated_symptoms and denied not in result.symptoms


@pytest.mark.parametrize(("text", "present"), [
    ("no tengo fiebre pero me falta el aire", "trouble_breathing"),     # "pero" ends the denial
    ("No tengo fiebre. Me duele el pecho", "chest_pain"),               # so does a full stop
    ("no sé si tengo fiebre", "fever"),                                 # "no sé" denies nothing
    ("no puedo ni dormir de la comezón", "itching"),                   # "no puedo ni": intensifier
    ("el dolor no se me quita", "pain_not_relieved"),                   # the symptom contains "no"
])
def test_spanish_negation_scope_is_short_and_symptom_phrases_with_no_are_symptoms(text, present):
    assert present in scan(text).symptoms


@pytest.mark.parametrize(("text", "symptom"), [
    ("tengo calentura", "fever"),                 # Mexico, Central America
    ("me siento afiebrada", "fever"),             # South America
    ("me privé en la cocina", "fainting"),        # Mexico
    ("me dio un patatús", "fainting"),            # Colombia, Caribbean
    ("me ha salido pus del pinchazo", "site_discharge"),  # Spain
    ("tengo picor en los brazos", "itching"),     # Spain
    ("sigue colorado", "site_redness"),           # Mexico, South America
    ("tiene materia", "site_discharge"),          # Mexico, Central America
])
def test_regional_words_are_read(text, symptom):
    assert symptom in scan(text).symptoms


def test_accents_and_their_absence_read_the_same():
    assert scan("siento opresión en el pecho").symptoms == scan("siento opresion en el pecho").symptoms == {
        "chest_pain"}


def test_stems_match_spanish_endings_but_need_four_letters():
    assert "throat_swelling" in scan("se me está hinchando la lengua").symptoms
    assert "throat_swelling" in scan("la lengua se me hinchó").symptoms


@pytest.mark.parametrize("text", ["material del vendaje", "me lo han colocado bien", "está mojado el vendaje"])
def test_real_spanish_words_one_letter_from_a_symptom_are_not_misread(text):
    assert scan(text).symptoms == frozenset()


def test_spanish_reassurance_is_understood():
    result = scan("estoy bien, gracias")
    assert result.understood and result.reassured and not result.symptoms


def test_the_spanish_phrases_are_merged_into_the_catalogue_and_the_grammar():
    catalog = load_symptoms()
    assert "me cuesta respirar" in catalog.get("trouble_breathing").text_phrases
    assert "short of breath" in catalog.get("trouble_breathing").text_phrases
    lexicon = load_lexicon()
    assert {"tampoco", "ni", "not"} <= set(lexicon.negation_cues)
    assert "respir" in lexicon.emergency_alarm_stems and "breath" in lexicon.emergency_alarm_stems
