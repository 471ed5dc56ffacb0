"""Spanish muscle names and stretches for Spanish-preferring patients: complete, faithful, easy to read.

Hazard HAZ-WRONG-LANGUAGE-INSTRUCTIONS: a patient who reads Spanish must not get English stretch
instructions or muscle names in their aftercare plan.
"""

from __future__ import annotations

import re

import pytest
import yaml

from triggerpoint.atlas import catalog
from triggerpoint.atlas.catalog import (
    MUSCLE_NAMES_ES_FILE,
    STRETCHES_ES_FILE,
    AtlasDataError,
    build_spanish_text,
    load_atlas,
    load_spanish_text,
    muscle_name,
    stretch_for_patient,
)
from triggerpoint.core.readability import SPANISH_MIN_FERNANDEZ_HUERTA, spanish_fernandez_huerta

ATLAS = load_atlas()
STRETCHES = {stretch.id: stretch for muscle in ATLAS.muscles.values() for stretch in muscle.stretches}


def _documents():
    return (yaml.safe_load(MUSCLE_NAMES_ES_FILE.read_text(encoding="utf-8")),
            yaml.safe_load(STRETCHES_ES_FILE.read_text(encoding="utf-8")))


def test_every_atlas_muscle_has_a_spanish_name_of_its_own():
    assert len(ATLAS.muscles) >= 80
    for muscle_id, muscle in ATLAS.muscles.items():
        spanish = muscle_name(muscle_id, "es")
        assert spanish.strip() and spanish != muscle.name or muscle_id in {"iliopsoas"}, muscle_id


def test_the_names_file_says_which_convention_it_follows():
    names, _ = _documents()
    assert "Terminologia Anatomica" in names["source"]


def test_some_names_are_the_ones_a_spanish_clinician_uses():
    assert muscle_name("upper_trapezius", "es") == "Trapecio superior"
    assert muscle_name("levator_scapulae", "es") == "Elevador de la escápula"
    assert muscle_name("gluteus_medius", "es") == "Glúteo medio"
    assert muscle_name("upper_trapezius", "en") == "Upper trapezius"


def test_an_unknown_muscle_or_language_is_refused():
    with pytest.raises(KeyError):
        muscle_name("telepathy_muscle", "es")
    with pytest.raises(ValueError, match="language"):
        muscle_name("upper_trapezius", "fr")


def test_a_missing_spanish_name_fails_at_load_with_the_muscle_named():
    names, stretches = _documents()
    del names["names"]["piriformis"]
    with pytest.raises(AtlasDataError, match="no Spanish name for muscle piriformis"):
        build_spanish_text(ATLAS, names, stretches)


def test_a_missing_or_stray_spanish_stretch_fails_at_load():
    names, stretches = _documents()
    del stretches["stretches"]["piriformis_figure_four"]
    stretches["stretches"]["no_such_stretch"] = {"name": "Nada", "instructions": "x" * 50}
    with pytest.raises(AtlasDataError) as caught:
        build_spanish_text(ATLAS, names, stretches)
    assert any("piriformis_figure_four" in p for p in caught.value.problems)
    assert any("no_such_stretch is not an atlas stretch" in p for p in caught.value.problems)


def test_the_schema_refuses_an_empty_instruction():
    names, stretches = _documents()
    stretches["stretches"]["piriformis_figure_four"]["instructions"] = ""
    with pytest.raises(AtlasDataError, match="piriformis_figure_four"):
        build_spanish_text(ATLAS, names, stretches)


def test_every_atlas_stretch_has_spanish_text():
    spanish = load_spanish_text().stretches
    assert set(spanish) == set(STRETCHES) and len(STRETCHES) >= 80


@pytest.mark.parametrize("stretch_id", sorted(STRETCHES))
def test_a_spanish_stretch_says_the_same_numbers_as_its_english(stretch_id):
    english, spanish = STRETCHES[stretch_id], stretch_for_patient(STRETCHES[stretch_id], "es")
    assert spanish.instructions != english.instructions and spanish.name != english.name
    # Holds and repeats (20 seconds, 3 times, 20–30 seconds): a number said in one is said in the other.
    assert set(re.findall(r"\d+", spanish.instructions)) == set(re.findall(r"\d+", english.instructions))


@pytest.mark.parametrize("stretch_id", sorted(STRETCHES))
def test_a_spanish_stretch_is_fairly_easy_to_read_or_easier(stretch_id):
    spanish = stretch_for_patient(STRETCHES[stretch_id], "es")
    assert spanish_fernandez_huerta(f"{spanish.name}. {spanish.instructions}") >= SPANISH_MIN_FERNANDEZ_HUERTA


def test_english_stretches_come_back_unchanged():
    stretch = STRETCHES["piriformis_figure_four"]
    assert stretch_for_patient(stretch, "en") is stretch


def test_the_spanish_text_is_loaded_once_per_process():
    text = catalog.load_spanish_text()
    assert isinstance(text, catalog.SpanishPatientText) and text.muscle_names  # "is" alone would also hold for None
    assert catalog.load_spanish_text() is text
