"""Reading a patient's free-text check-in message for warning signs.

A patient may tick nothing and write "cant breth, chest tight" — so the message is scanned
for the same symptoms the check-in form offers, and any temperature written in it. The
result feeds triage, which lets text *raise* a disposition and never lower it.

What the scanner decides, and why it leans the way it does:

* **Symptom words** come from ``data/symptoms.yaml`` (synonyms, abbreviations such as
  "SOB", and common misspellings). On top of that list, a word of five letters or more
  also matches one typo away (two for words of eight letters or more; same first letter),
  so "brethe" or "feever" still count. Real words that sit one letter from a symptom word
  are listed in ``not_fuzzy`` so "discharged from the clinic" is not discharge at the site.
  A phrase word ending in ``~`` is a stem: "hinch~" matches "hinchado", "hinchando",
  "hincharon" — Spanish verbs and adjectives change their endings far more than English.
* **Negation** ("no fever", "not short of breath", "denies chest pain") switches a symptom
  off only inside a short scope: from the cue to the end of the clause, ending at
  punctuation, at words such as "but"/"and"/"because", or after ``negation_window`` words.
  Short scopes mean a doubtful case reads as *present* — over-triage is the safe error.
  Phrases such as "not sure", "no better" or "doesn't help" contain a negation word but
  deny nothing and are ignored as cues.
* **Temperatures**: a number with a unit ("39C", "101.5 °F", "38,5 grados"), with a degree
  word ("102 degrees"), or shortly after a temperature word ("fever 102", "temp of 38.9").
  With no unit, the unit is the one in which the number is a plausible body temperature;
  the plausible °F and °C ranges do not overlap, so this never has to guess between two
  readings. A number that is no plausible temperature in any unit is *not* guessed: it is
  reported as unreadable and the message counts as not understood.
* **Alarm words**: a word that starts like one of ``emergency_alarm_stems`` ("breath",
  "chest", "throat", "faint", "respir", "aire", "pecho", "garganta", "desmay"...) or
  ``alarm_stems`` ("swell", "hinch", "inflam", "tragar"...) and is not part of any phrase
  the scanner understood — a symptom, present or denied — is reported in
  ``unread_alarm_words`` (with ``unread_emergency_words`` for the first kind). A reassurance
  later in the same clause, with no scope terminator between, covers it ("my chest is
  fine", "la respiración bien"); a negation does *not* ("no puedo jalar aire" is a
  symptom). Triage escalates such a message — emergency words to emergency, the others to
  urgent: text about breathing, the chest, the throat, swelling or fainting that nobody
  could read must not wait a business day (issue 14).
* **Spanish** is read with the same machinery: its phrases (text_phrases_es.yaml) and
  grammar (text_lexicon_es.yaml) are merged with the English ones, so every message is
  read in both languages.
* **Understood**: a non-empty message is understood when something in it was recognised
  (a symptom, present or denied; a plausible temperature; "feeling fine") and no
  temperature in it was unreadable. Triage sends a message that was not understood to a
  person.

Pure module: no Django, no ORM, no HTTP.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from triggerpoint.followup.content import Lexicon, SymptomCatalog, load_lexicon, load_symptoms
from triggerpoint.followup.temperature import CELSIUS, FAHRENHEIT, Temperature, is_plausible

WILDCARD = "*"
WILDCARD_MAX_WORDS = 2
KEYWORD_TO_NUMBER_MAX_WORDS = 4
MIN_FUZZY_LENGTH = 5
STEM_MARK = "~"
MIN_STEM_LENGTH = 4
LONG_WORD_LENGTH = 8

_APOSTROPHES = str.maketrans({"'": None, "\u2019": None, "\u2018": None, "`": None, "\u00ba": "\u00b0"})
_TOKEN = re.compile(r"\d+(?:[.,]\d+)?|[a-z]+|°|/|[.;:!?,\n]")
_BOUNDARY = frozenset(".;:!?,\n")


@dataclass(frozen=True)
class SymptomMention:
    """One place a symptom was named in the message."""

    symptom: str
    matched: str
    negated: bool


@dataclass(frozen=True)
class TemperatureMention:
    """A number read as a temperature; `temperature` is None when it was not plausible."""

    matched: str
    temperature: Temperature | None
    unit_inferred: bool


@dataclass(frozen=True)
class TextScan:
    """What the scanner found in one message."""

    text: str
    mentions: tuple[SymptomMention, ...] = ()
    temperature_mentions: tuple[TemperatureMention, ...] = ()
    reassured: bool = False
    symptoms: frozenset[str] = field(default_factory=frozenset)
    negated_symptoms: frozenset[str] = field(default_factory=frozenset)
    unread_alarm_words: tuple[str, ...] = ()
    unread_emergency_words: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.text.strip()

    @property
    def temperature(self) -> Temperature | None:
        """The highest plausible temperature in the message (the one that matters for fever)."""
        readings = [m.temperature for m in self.temperature_mentions if m.temperature is not None]
        return max(readings, key=lambda reading: reading.fahrenheit, default=None)

    @property
    def unreadable_temperatures(self) -> tuple[str, ...]:
        return tuple(m.matched for m in self.temperature_mentions if m.temperature is None)

    @property
    def understood(self) -> bool:
        if self.empty:
            return True
        recognised = bool(self.mentions) or self.temperature is not None or self.reassured
        return recognised and not self.unreadable_temperatures


# ----------------------------------------------------------------------------- tokens


def normalise(text: str) -> str:
    """Lower case, accents and apostrophes removed: "Can’t breathe" -> "cant breathe"."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_APOSTROPHES))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch) or ch == "\u00b0")
    return stripped.lower()


def tokenize(text: str) -> list[str]:
    return _TOKEN.findall(normalise(text))


def clauses(tokens: Sequence[str]) -> list[list[str]]:
    """Split at punctuation; symptom phrases never span a clause boundary."""
    result: list[list[str]] = [[]]
    for token in tokens:
        if token in _BOUNDARY:
            if result[-1]:
                result.append([])
        else:
            result[-1].append(token)
    return [clause for clause in result if clause]


def typo_distance(a: str, b: str) -> int:
    """Optimal-string-alignment distance: edits, with a swap of neighbours as one edit.

    Hand-written (a dozen lines) rather than importing NLTK, which is only present here as
    a transitive dependency of textstat and takes most of a second to import.
    """
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[len(b)]


class _Matcher:
    """Phrase matching over one clause, with the typo tolerance described in the module doc."""

    def __init__(self, lexicon: Lexicon):
        self.lexicon = lexicon
        self.never_fuzzy = lexicon.not_fuzzy | {word for cue in lexicon.negation_cues for word in cue.split()}

    def word_matches(self, pattern: str, word: str) -> bool:
        if pattern == word:
            return True
        if pattern.endswith(STEM_MARK):
            stem = pattern[:-1]
            return len(stem) >= MIN_STEM_LENGTH and word.startswith(stem) and word not in self.never_fuzzy
        if len(pattern) < MIN_FUZZY_LENGTH or word in self.never_fuzzy or not word.isalpha():
            return False
        if word[0] != pattern[0]:
            return False
        allowed = 2 if len(pattern) >= LONG_WORD_LENGTH else 1
        return abs(len(word) - len(pattern)) <= allowed and typo_distance(pattern, word) <= allowed

    def match_at(self, pattern: Sequence[str], clause: Sequence[str], start: int) -> int | None:
        """End index (exclusive) when `pattern` matches `clause` from `start`, else None."""
        if not pattern:
            return start
        head, rest = pattern[0], pattern[1:]
        if head == WILDCARD:
            for skip in range(WILDCARD_MAX_WORDS + 1):
                if start + skip > len(clause):
                    break
                end = self.match_at(rest, clause, start + skip)
                if end is not None:
                    return end
            return None
        if start < len(clause) and self.word_matches(head, clause[start]):
            return self.match_at(rest, clause, start + 1)
        return None

    def find(self, pattern: Sequence[str], clause: Sequence[str]) -> list[tuple[int, int]]:
        spans = []
        for start in range(len(clause)):
            end = self.match_at(pattern, clause, start)
            if end is not None:
                spans.append((start, end))
        return spans


def _exact_spans(phrase: Sequence[str], clause: Sequence[str]) -> list[tuple[int, int]]:
    width = len(phrase)
    return [(i, i + width) for i in range(len(clause) - width + 1) if list(clause[i : i + width]) == list(phrase)]


def _inside(position: tuple[int, int], spans: Sequence[tuple[int, int]]) -> bool:
    start, end = position
    return any(s <= start and end <= e for s, e in spans)


def _negated(
    span: tuple[int, int],
    clause: Sequence[str],
    cue_spans: Sequence[tuple[int, int]],
    lexicon: Lexicon,
) -> bool:
    """True when a live negation cue governs the phrase starting at span[0]."""
    start = span[0]
    for _cue_start, cue_end in cue_spans:
        if cue_end > start:
            continue
        between = clause[cue_end:start]
        if len(between) > lexicon.negation_window:
            continue
        if any(word in lexicon.scope_terminators for word in between):
            continue
        return True
    return False


# ----------------------------------------------------------------------------- temperatures


def _to_number(token: str) -> Decimal | None:
    if not token[0].isdigit():
        return None
    try:
        return Decimal(token.replace(",", "."))
    except InvalidOperation:  # pragma: no cover - the token pattern only yields digits
        return None


def _read_temperatures(
    clause: Sequence[str],
    lexicon: Lexicon,
    matcher: _Matcher,
    plausible_f: tuple[Decimal, Decimal],
) -> list[TemperatureMention]:
    keyword_positions = [
        index
        for index, word in enumerate(clause)
        if any(matcher.word_matches(keyword, word) for keyword in lexicon.temperature_keywords)
    ]
    mentions = []
    for index, token in enumerate(clause):
        value = _to_number(token)
        if value is None:
            continue
        neighbours = clause[index - 1 : index] + clause[index + 1 : index + 2]
        if "/" in neighbours:  # "8/10", "3/14": a score or a date
            continue
        after = list(clause[index + 1 : index + 4])
        if after and after[0] in lexicon.not_temperature_after:
            continue
        cursor, has_degree = 0, False
        while cursor < len(after) and (after[cursor] == "°" or after[cursor] in lexicon.degree_words):
            has_degree, cursor = True, cursor + 1
        unit = lexicon.temperature_units.get(after[cursor]) if cursor < len(after) else None
        near_keyword = any(0 < index - k <= KEYWORD_TO_NUMBER_MAX_WORDS for k in keyword_positions)
        if unit is None and not has_degree and not (near_keyword and value >= 10):
            continue
        matched = " ".join(clause[index : index + 1 + cursor + (1 if unit else 0)])
        if unit is not None:
            reading = Temperature(value, unit)
            mentions.append(
                TemperatureMention(matched, reading if is_plausible(reading, plausible_f) else None, False)
            )
            continue
        plausible_units = [u for u in (FAHRENHEIT, CELSIUS) if is_plausible(Temperature(value, u), plausible_f)]
        reading = Temperature(value, plausible_units[0]) if len(plausible_units) == 1 else None
        mentions.append(TemperatureMention(matched, reading, True))
    return mentions


# ----------------------------------------------------------------------------- scan


def scan_text(
    text: str,
    *,
    plausible_f: tuple[Decimal, Decimal],
    symptoms: SymptomCatalog | None = None,
    lexicon: Lexicon | None = None,
) -> TextScan:
    """Scan `text` for symptoms (present or denied), temperatures and reassurance.

    `plausible_f` is the triage thresholds' plausible body-temperature range in °F; it is
    passed in (not defaulted) so the scanner and the structured check agree on it.
    """
    symptoms = symptoms or load_symptoms()
    lexicon = lexicon or load_lexicon()
    if not text or not text.strip():
        return TextScan(text=text or "")
    matcher = _Matcher(lexicon)
    cue_phrases = [cue.split() for cue in lexicon.negation_cues]
    pseudo_phrases = [phrase.split() for phrase in lexicon.pseudo_negations]

    mentions: list[SymptomMention] = []
    temperatures: list[TemperatureMention] = []
    reassured = False
    alarm_words: list[str] = []
    emergency_words: list[str] = []
    for clause in clauses(tokenize(text)):
        found: list[tuple[str, tuple[int, int]]] = []
        for symptom in symptoms.symptoms:
            for phrase in symptom.text_phrases:
                found.extend((symptom.id, span) for span in matcher.find(phrase.split(), clause))
        reassurance_spans = [
            span for phrase in lexicon.reassurance_phrases for span in matcher.find(phrase.split(), clause)
        ]
        shielded = [span for _, span in found]
        shielded += [span for phrase in pseudo_phrases for span in _exact_spans(phrase, clause)]
        cue_spans = [
            span
            for cue in cue_phrases
            for span in _exact_spans(cue, clause)
            if not _inside(span, shielded)
        ]
        for symptom_id, span in found:
            mentions.append(
                SymptomMention(
                    symptom=symptom_id,
                    matched=" ".join(clause[span[0] : span[1]]),
                    negated=_negated(span, clause, cue_spans, lexicon),
                )
            )
        live_reassurance = [span for span in reassurance_spans if not _negated(span, clause, cue_spans, lexicon)]
        if live_reassurance:
            reassured = True
        unread = _unread_alarm_words(clause, [span for _, span in found], live_reassurance, lexicon)
        alarm_words.extend(unread)
        emergency_words.extend(w for w in unread if _starts_with_any(w, lexicon.emergency_alarm_stems))
        temperatures.extend(_read_temperatures(clause, lexicon, matcher, plausible_f))

    present = frozenset(m.symptom for m in mentions if not m.negated)
    return TextScan(
        text=text,
        mentions=tuple(mentions),
        temperature_mentions=tuple(temperatures),
        reassured=reassured,
        symptoms=present,
        negated_symptoms=frozenset(m.symptom for m in mentions if m.negated) - present,
        unread_alarm_words=tuple(dict.fromkeys(alarm_words)),
        unread_emergency_words=tuple(dict.fromkeys(emergency_words)),
    )


def _starts_with_any(word: str, stems: Sequence[str]) -> bool:
    return any(word.startswith(stem) for stem in stems)


def _unread_alarm_words(
    clause: Sequence[str],
    symptom_spans: Sequence[tuple[int, int]],
    reassurance_spans: Sequence[tuple[int, int]],
    lexicon: Lexicon,
) -> list[str]:
    """Alarm words in this clause that no understood phrase covers (see the module doc)."""
    covered = {index for start, end in symptom_spans for index in range(start, end)}
    covered |= {index for start, end in reassurance_spans for index in range(start, end)}
    stems = (*lexicon.emergency_alarm_stems, *lexicon.alarm_stems)
    unread = []
    for index, word in enumerate(clause):
        if index in covered or not word.isalpha() or not _starts_with_any(word, stems):
            continue
        reassured_after = any(
            index < start and start - index <= lexicon.negation_window
            and not any(w in lexicon.scope_terminators for w in clause[index + 1 : start])
            for start, _end in reassurance_spans
        )
        if not reassured_after:
            unread.append(word)
    return unread
