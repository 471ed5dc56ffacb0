"""The follow-up app's clinical content: warning-sign vocabulary, patient instructions and
the free-text scanner's grammar, loaded from YAML and checked against JSON Schemas.

Which symptoms count as warning signs, what they are called in plain words and what the
patient is told are clinical decisions a clinician must be able to review without reading
Python, so they are data. A malformed edit fails loudly at load time (and in the tests)
instead of silently dropping a warning sign from triage.

Pure module: no Django, no ORM, no HTTP.
"""

from __future__ import annotations

import functools
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from triggerpoint.core import data
from triggerpoint.core.data import DataFileError

DATA_DIR = Path(__file__).resolve().parent / "data"

#: Placeholders an instruction text may use; triage fills them from its thresholds.
INSTRUCTION_PLACEHOLDERS = frozenset({"fever_f", "fever_c", "urgent_days", "fever_days", "site_days", "toxin_weeks"})


class FollowupDataError(DataFileError):
    """A shipped follow-up data file breaks its schema or its own consistency rules."""


def _read_yaml(filename: str) -> Any:
    return data.read_yaml(DATA_DIR / filename)


def validate_document(document: Any, schema_filename: str, label: str) -> None:
    """Raise FollowupDataError listing every schema violation in `document`."""
    problems = data.schema_problems(document, DATA_DIR / schema_filename, label)
    if problems:
        raise FollowupDataError(problems)


def load_document(filename: str, schema_filename: str) -> Any:
    return data.load_validated_yaml(DATA_DIR / filename, DATA_DIR / schema_filename, FollowupDataError)


# ----------------------------------------------------------------------------- symptoms


@dataclass(frozen=True)
class Symptom:
    """One warning sign a patient can report at a check-in."""

    id: str
    group: str
    rule: str
    label_en: str
    label_es: str
    text_phrases: tuple[str, ...]
    sources: tuple[str, ...]
    pneumothorax_sign: bool = False
    pain_sign: bool = False
    self_care_window: str | None = None
    toxin_spread_disposition: str | None = None

    def as_published(self) -> dict[str, Any]:
        """The shape GET /api/v1/followup/symptoms publishes."""
        return {
            "id": self.id,
            "label": {"en": self.label_en, "es": self.label_es},
            "group": self.group,
            "rule": self.rule,
        }


@dataclass(frozen=True)
class SymptomCatalog:
    version: int
    symptoms: tuple[Symptom, ...]

    @functools.cached_property
    def by_id(self) -> dict[str, Symptom]:
        return {symptom.id: symptom for symptom in self.symptoms}

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(symptom.id for symptom in self.symptoms)

    def get(self, symptom_id: str) -> Symptom:
        return self.by_id[symptom_id]

    def published(self) -> list[dict[str, Any]]:
        return [symptom.as_published() for symptom in self.symptoms]


def _build_symptoms(document: dict[str, Any], spanish: dict[str, list[str]] | None = None) -> SymptomCatalog:
    """Symptoms from symptoms.yaml, with each one's Spanish phrases (text_phrases_es.yaml) appended."""
    spanish = spanish or {}
    symptoms = tuple(
        Symptom(
            id=entry["id"],
            group=entry["group"],
            rule=entry["rule"],
            label_en=entry["label"]["en"],
            label_es=entry["label"]["es"],
            text_phrases=tuple(dict.fromkeys([*entry["text_phrases"], *spanish.get(entry["id"], [])])),
            sources=tuple(entry["sources"]),
            pneumothorax_sign=entry.get("pneumothorax_sign", False),
            pain_sign=entry.get("pain_sign", False),
            self_care_window=entry.get("self_care_window"),
            toxin_spread_disposition=entry.get("toxin_spread_disposition"),
        )
        for entry in document["symptoms"]
    )
    seen: set[str] = set()
    problems = [f"text_phrases_es.yaml: phrases for unknown symptom {symptom_id!r}"
                for symptom_id in sorted(set(spanish) - {entry["id"] for entry in document["symptoms"]})]
    for symptom in symptoms:
        if symptom.id in seen:
            problems.append(f"symptoms.yaml: duplicate symptom id {symptom.id!r}")
        seen.add(symptom.id)
    if problems:
        raise FollowupDataError(problems)
    return SymptomCatalog(version=document["version"], symptoms=symptoms)


@functools.cache
def load_symptoms() -> SymptomCatalog:
    """The published warning-sign vocabulary (cached, schema-validated)."""
    spanish = load_document("text_phrases_es.yaml", "text_phrases_es.schema.json")
    return _build_symptoms(load_document("symptoms.yaml", "symptoms.schema.json"), spanish["phrases"])


# ----------------------------------------------------------------------------- instructions


@dataclass(frozen=True)
class InstructionTexts:
    """Patient instructions in one language, still holding their {placeholders}."""

    version: int
    dispositions: dict[str, str]
    extras: dict[str, str]
    self_care_advice: dict[str, str]


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def _build_instructions(document: dict[str, Any], symptoms: SymptomCatalog, language: str) -> InstructionTexts:
    def pick(section: str) -> dict[str, str]:
        return {key: entry["text"].get(language, entry["text"]["en"]) for key, entry in document[section].items()}

    texts = InstructionTexts(
        version=document["version"],
        dispositions=pick("dispositions"),
        extras=pick("extras"),
        self_care_advice=pick("self_care_advice"),
    )
    problems = []
    for section in ("dispositions", "extras", "self_care_advice"):
        for key, text in getattr(texts, section).items():
            unknown = _placeholders(text) - INSTRUCTION_PLACEHOLDERS
            if unknown:
                problems.append(f"instructions.yaml {section}/{key}: unknown placeholder(s) {sorted(unknown)}")
    self_care_ids = {s.id for s in symptoms.symptoms if s.rule == "TRI-SELF-CARE"}
    missing = sorted(self_care_ids - texts.self_care_advice.keys())
    if missing:
        problems.append(f"instructions.yaml self_care_advice: no advice for self-care symptom(s) {missing}")
    stray = sorted(texts.self_care_advice.keys() - self_care_ids - {"no_warning_signs"})
    if stray:
        problems.append(f"instructions.yaml self_care_advice: advice for unknown self-care symptom(s) {stray}")
    if problems:
        raise FollowupDataError(problems)
    return texts


@functools.cache
def load_instructions(language: str = "en") -> InstructionTexts:
    """Instruction texts for `language`, falling back to English per entry (cached, validated)."""
    document = load_document("instructions.yaml", "instructions.schema.json")
    return _build_instructions(document, load_symptoms(), language)


# ----------------------------------------------------------------------------- free-text grammar


@dataclass(frozen=True)
class Lexicon:
    """The grammar around symptom words that text_scan uses (see text_lexicon.yaml)."""

    version: int
    negation_window: int
    negation_cues: tuple[str, ...]
    pseudo_negations: tuple[str, ...]
    scope_terminators: frozenset[str]
    reassurance_phrases: tuple[str, ...]
    temperature_keywords: tuple[str, ...]
    temperature_units: dict[str, str]
    degree_words: frozenset[str]
    not_temperature_after: frozenset[str]
    not_fuzzy: frozenset[str]
    alarm_stems: tuple[str, ...] = ()
    emergency_alarm_stems: tuple[str, ...] = ()


#: Grammar lists that text_lexicon_es.yaml extends (the Spanish file adds, never replaces).
_MERGED_LISTS = ("negation_cues", "pseudo_negations", "scope_terminators", "reassurance_phrases",
                 "temperature_keywords", "degree_words", "not_temperature_after", "not_fuzzy", "alarm_stems",
                 "emergency_alarm_stems")


def merge_lexicons(english: dict[str, Any], spanish: dict[str, Any]) -> dict[str, Any]:
    """One grammar for both languages: a patient may mix them, so every message is read with both."""
    merged = dict(english)
    for key in _MERGED_LISTS:
        merged[key] = list(dict.fromkeys([*english.get(key, []), *spanish.get(key, [])]))
    merged["temperature_units"] = {**english["temperature_units"], **spanish.get("temperature_units", {})}
    return merged


@functools.cache
def load_lexicon() -> Lexicon:
    document = merge_lexicons(
        load_document("text_lexicon.yaml", "text_lexicon.schema.json"),
        load_document("text_lexicon_es.yaml", "text_lexicon_es.schema.json"),
    )
    return Lexicon(
        version=document["version"],
        negation_window=document["negation_window"],
        negation_cues=tuple(document["negation_cues"]),
        pseudo_negations=tuple(document["pseudo_negations"]),
        scope_terminators=frozenset(document["scope_terminators"]),
        reassurance_phrases=tuple(document["reassurance_phrases"]),
        temperature_keywords=tuple(document["temperature_keywords"]),
        temperature_units=dict(document["temperature_units"]),
        degree_words=frozenset(document["degree_words"]),
        not_temperature_after=frozenset(document["not_temperature_after"]),
        not_fuzzy=frozenset(document["not_fuzzy"]),
        alarm_stems=tuple(document["alarm_stems"]),
        emergency_alarm_stems=tuple(document["emergency_alarm_stems"]),
    )
