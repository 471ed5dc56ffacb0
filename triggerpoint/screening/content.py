"""The screening app's clinical content: blood thinners, allergy words, consent risks, preparation text,
and the patient-facing words of the questionnaire and preparation pages.

All of it is data under ``screening/data/``, validated against the JSON Schemas in
``data/schemas/`` when first loaded (and in a test), so a bad edit fails at start-up
rather than changing what a clinician or a patient reads. Each entry names its
sources by key; a key that the file does not define is refused too.

Pure module: no Django, no ORM, no HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from triggerpoint.core import data
from triggerpoint.core.data import DataFileError

DATA_DIR = Path(__file__).resolve().parent / "data"
SCHEMA_DIR = DATA_DIR / "schemas"
# English is the original and the fallback for a text not yet translated (the patient's language:
# patients.language.page_language).
DEFAULT_LANGUAGE = "en"


class ScreeningDataError(DataFileError):
    """A shipped screening data file breaks its schema or refers to a source it does not define."""


def normalize_term(text: str) -> str:
    """Lower-case, British "anaesthetic" spelled the US way, hyphens and runs of spaces made single spaces."""
    text = text.casefold().replace("anaesthe", "anesthe").replace("-", " ").replace("_", " ")
    return " ".join(text.split())


def load_document(file_name: str) -> dict[str, Any]:
    """``data/<file_name>`` validated against ``data/schemas/<stem>.schema.json`` and its own source keys."""
    document = data.read_yaml(DATA_DIR / file_name)
    problems = data.schema_problems(document, SCHEMA_DIR / f"{Path(file_name).stem}.schema.json")
    if not problems:
        problems = _undefined_source_keys(document)
    if problems:
        raise ScreeningDataError(f"{file_name}: " + "; ".join(problems))
    return document


def _undefined_source_keys(document: dict[str, Any]) -> list[str]:
    defined = set(document["sources"])
    problems = []
    for list_name, entries in document.items():
        if not isinstance(entries, list):
            continue
        for index, entry in enumerate(entries):
            for key in entry.get("sources", ()):
                if key not in defined:
                    problems.append(f"{list_name}/{index}: source {key!r} is not defined under 'sources'")
    return problems


def _cite(document: dict[str, Any], keys: list[str]) -> tuple[str, ...]:
    return tuple(document["sources"][key] for key in keys)


# --- blood thinners -------------------------------------------------------------------------------


@dataclass(frozen=True)
class BloodThinner:
    """A named anticoagulant or antiplatelet and what the physician is shown about it."""

    id: str
    name: str
    drug_class: str
    synonyms: tuple[str, ...]
    information: str
    high_risk_hold_reference: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class BloodThinnerTable:
    version: int
    drugs: tuple[BloodThinner, ...]
    _by_name: dict[str, BloodThinner]

    def find(self, medication_name: str) -> BloodThinner | None:
        """The entry whose name, id or synonym matches (case- and spacing-insensitive); None if none."""
        return self._by_name.get(normalize_term(medication_name))


@cache
def load_blood_thinners() -> BloodThinnerTable:
    document = load_document("anticoagulants.yaml")
    drugs = tuple(
        BloodThinner(
            id=entry["id"],
            name=entry["name"],
            drug_class=entry["drug_class"],
            synonyms=tuple(entry["synonyms"]),
            information=" ".join(entry["information"].split()),
            high_risk_hold_reference=entry["high_risk_hold_reference"],
            sources=_cite(document, entry["sources"]),
        )
        for entry in document["drugs"]
    )
    by_name: dict[str, BloodThinner] = {}
    problems = []
    for drug in drugs:
        for label in (drug.id, drug.name, *drug.synonyms):
            owner = by_name.setdefault(normalize_term(label), drug)
            if owner is not drug:
                problems.append(f"name {label!r} of {drug.id!r} already names {owner.id!r}")
    if problems:
        raise ScreeningDataError("anticoagulants.yaml: " + "; ".join(problems))
    return BloodThinnerTable(version=document["version"], drugs=drugs, _by_name=by_name)


# --- allergy words --------------------------------------------------------------------------------


@dataclass(frozen=True)
class AllergyVocabulary:
    """Words that name whole injectate classes, and local anesthetics the clinic does not stock."""

    version: int
    class_terms: dict[str, frozenset[str]]  # normalised term -> injectate classes
    other_local_anesthetics: dict[str, str]  # normalised name -> class
    unknown_caine_suffix: str
    sources: tuple[str, ...]


@cache
def load_allergy_vocabulary() -> AllergyVocabulary:
    document = load_document("allergy_terms.yaml")
    class_terms: dict[str, frozenset[str]] = {}
    problems = []
    for group in document["class_terms"]:
        for term in group["terms"]:
            key = normalize_term(str(term))
            if key in class_terms:
                problems.append(f"class term {term!r} is listed twice")
            class_terms[key] = frozenset(group["classes"])
    if problems:
        raise ScreeningDataError("allergy_terms.yaml: " + "; ".join(problems))
    return AllergyVocabulary(
        version=document["version"],
        class_terms=class_terms,
        other_local_anesthetics={
            normalize_term(entry["name"]): entry["drug_class"] for entry in document["other_local_anesthetics"]
        },
        unknown_caine_suffix=document["unknown_caine_suffix"],
        sources=tuple(document["sources"].values()),
    )


# --- consent risks and preparation instructions ---------------------------------------------------


@dataclass(frozen=True)
class ConditionalText:
    """A consent risk or a preparation instruction, given when any of `applies_when` holds.

    `text` is the English; `translations` holds every language given (English included) for
    texts written per language, such as the preparation instructions.
    """

    id: str
    applies_when: tuple[str, ...]
    title: str
    text: str
    sources: tuple[str, ...]
    translations: dict[str, str] = field(default_factory=dict, compare=False)

    def text_in(self, language: str) -> str:
        """The text in `language`, or the English when that language is missing."""
        return self.translations.get(language) or self.text


@dataclass(frozen=True)
class ConditionalTexts:
    version: int
    entries: tuple[ConditionalText, ...]


def _single_spaced(text: str) -> str:
    return " ".join(text.split())


def _conditional_text(document: dict[str, Any], entry: dict[str, Any], text_field: str) -> ConditionalText:
    raw = entry[text_field]
    translations = {lang: _single_spaced(text) for lang, text in raw.items()} if isinstance(raw, dict) else {}
    return ConditionalText(
        id=entry["id"],
        applies_when=tuple(entry["applies_when"]),
        title=entry.get("title", ""),
        text=translations[DEFAULT_LANGUAGE] if translations else _single_spaced(raw),
        sources=_cite(document, entry["sources"]),
        translations=translations,
    )


def _conditional_texts(file_name: str, list_name: str, text_field: str) -> ConditionalTexts:
    document = load_document(file_name)
    return ConditionalTexts(
        version=document["version"],
        entries=tuple(_conditional_text(document, entry, text_field) for entry in document[list_name]),
    )


@cache
def load_consent_risks() -> ConditionalTexts:
    return _conditional_texts("consent_risks.yaml", "risks", "plain_text")


@cache
def load_preparation_instructions() -> ConditionalTexts:
    return _conditional_texts("preparation.yaml", "instructions", "text")


# --- the patient's words on the questionnaire and preparation pages ---------------------------------


@dataclass(frozen=True)
class PatientText:
    """Every patient-facing text of ``data/patient_text.yaml``, keyed "group.name", per language."""

    version: int
    texts: dict[str, dict[str, str]]

    def get(self, key: str, language: str = DEFAULT_LANGUAGE) -> str:
        """The text in `language`, or its English when that language is missing; KeyError for an unknown key."""
        translations = self.texts[key]
        return translations.get(language) or translations[DEFAULT_LANGUAGE]

    def group(self, name: str, language: str = DEFAULT_LANGUAGE) -> dict[str, str]:
        """The texts of one group (e.g. "questionnaire") in `language`, by their name within the group."""
        prefix = f"{name}."
        return {key[len(prefix):]: self.get(key, language) for key in self.texts if key.startswith(prefix)}


@cache
def load_patient_text() -> PatientText:
    file_name = "patient_text.yaml"
    document = data.read_yaml(DATA_DIR / file_name)
    problems = data.schema_problems(document, SCHEMA_DIR / "patient_text.schema.json")
    if problems:
        raise ScreeningDataError(f"{file_name}: " + "; ".join(problems))
    texts = {
        f"{group}.{name}": {lang: _single_spaced(text) for lang, text in translations.items()}
        for group, entries in document["texts"].items()
        for name, translations in entries.items()
    }
    return PatientText(version=document["version"], texts=texts)


# --- the consent form in Spanish ---------------------------------------------------------------------


@dataclass(frozen=True)
class SpanishConsentWords:
    """``data/consent_es.yaml``: the Spanish consent form's words (the English lives in code and templates)."""

    procedures: dict[str, str]
    guidance: dict[str, str]
    sides: dict[str, str]
    drugs: dict[str, str]
    labels: dict[str, str]
    risks: dict[str, dict[str, str]]


@cache
def load_consent_es() -> SpanishConsentWords:
    document = data.load_validated_yaml(
        DATA_DIR / "consent_es.yaml", SCHEMA_DIR / "consent_es.schema.json", ScreeningDataError
    )
    return SpanishConsentWords(
        procedures=document["procedures"],
        guidance=document["guidance"],
        sides=document["sides"],
        drugs=document["drugs"],
        labels={key: " ".join(text.split()) for key, text in document["labels"].items()},
        risks={
            risk_id: {"title": text["title"], "plain_text": " ".join(text["plain_text"].split())}
            for risk_id, text in document["risks"].items()
        },
    )
