"""The trigger-point atlas: body-map zones and the muscles that refer pain into them.

The atlas is clinical content, so it lives as data (``data/muscles.yaml`` and the
shared ``data/bodymap-zones.json``), validated against JSON Schemas when loaded.
A malformed edit therefore fails at start-up instead of quietly steering a
suggestion or an aftercare handout.

Referral patterns are written *side-relative* in the YAML: ``temple`` means the
temple on the muscle's own side, ``contra:temple`` the opposite side,
``both:temple`` both sides, and midline zones (``sacrum``, ``sternum``,
``head-top``…) are written as-is. This module resolves them into the real zone
ids of the body map for a left or a right muscle, and refuses any pattern that
names a zone the body map does not have.

Pure module: no Django, no ORM, no HTTP.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

from triggerpoint.core.choices import SIDES

DATA_DIR = Path(__file__).resolve().parent / "data"
ZONES_FILE = DATA_DIR / "bodymap-zones.json"
ZONES_SCHEMA_FILE = DATA_DIR / "bodymap-zones.schema.json"
MUSCLES_FILE = DATA_DIR / "muscles.yaml"
MUSCLES_SCHEMA_FILE = DATA_DIR / "muscles.schema.json"


# Display names of the atlas regions, in head-to-foot order (the schema's enum order).
REGION_LABELS: dict[str, str] = {
    "head_jaw": "Head and jaw",
    "neck": "Neck",
    "shoulder_girdle": "Shoulder girdle",
    "upper_mid_back": "Upper and mid back",
    "chest_wall": "Chest wall",
    "arm": "Upper arm",
    "forearm_hand": "Forearm and hand",
    "low_back_abdomen": "Low back and abdomen",
    "hip_buttock": "Hip and buttock",
    "thigh": "Thigh",
    "leg_foot": "Leg and foot",
}
# Display names of the billing anatomical regions (procedures/coding counts sites per region).
BODY_REGION_LABELS: dict[str, str] = {
    "cephalic": "Cephalic",
    "facial": "Facial",
    "cervical": "Cervical",
    "thoracic": "Thoracic",
    "scapular": "Scapular",
    "shoulder": "Shoulder",
    "upper_limb": "Upper limb",
    "chest_wall": "Chest wall",
    "abdominal": "Abdominal",
    "lumbar": "Lumbar",
    "pelvic_gluteal": "Pelvic and gluteal",
    "lower_limb": "Lower limb",
}
PNEUMOTHORAX_NOTE = "pneumothorax"
_SIDE_SUFFIX = {"left": "-l", "right": "-r"}
_OPPOSITE = {"left": "right", "right": "left"}
CONTRALATERAL_PREFIX = "contra:"
BILATERAL_PREFIX = "both:"


class AtlasDataError(ValueError):
    """A shipped atlas file breaks its schema or refers to something that does not exist."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


@dataclass(frozen=True)
class Zone:
    """One region of the body map (the SVG uses the same ids)."""

    id: str
    label: str
    region: str
    views: tuple[str, ...]
    side: str  # left | right | midline


@dataclass(frozen=True)
class Stretch:
    """A self-stretch a patient can do at home; aftercare quotes `instructions`."""

    id: str
    name: str
    instructions: str


@dataclass(frozen=True)
class TriggerPoint:
    """Where to feel for the trigger point, in plain words, and the side-relative zone(s) over it."""

    location: str
    palpation: str
    zones: tuple[str, ...] = ()


@dataclass(frozen=True)
class SafetyNote:
    """A warning shown with every muscle carrying the matching flag (e.g. pneumothorax_risk)."""

    id: str
    title: str
    applies_to: str
    text: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class ReferralPattern:
    """Side-relative referral tokens as written in the data (see module docstring)."""

    essential: tuple[str, ...]
    spillover: tuple[str, ...]
    notes: str = ""


@dataclass(frozen=True)
class Muscle:
    id: str
    name: str
    region: str
    body_region: str
    innervation: str
    pneumothorax_risk: bool
    ultrasound_advised: bool
    needle_depth: str
    stretches: tuple[Stretch, ...]
    sources: tuple[str, ...]
    referral: ReferralPattern
    trigger_points: tuple[TriggerPoint, ...]
    activities: tuple[str, ...]
    hazards: tuple[str, ...]
    # Deep, non-compressible site: a bleed here cannot be stopped by pressure (screening SCR-DEEP-SITE-BLEEDING).
    non_compressible: bool = False


@dataclass(frozen=True)
class SidedPattern:
    """A muscle on one side with its referral resolved into real zone ids."""

    muscle_id: str
    side: str
    essential: frozenset[str]
    spillover: frozenset[str]
    all_zones: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        # Precomputed: the scorer tests every pattern for overlap on every request.
        object.__setattr__(self, "all_zones", self.essential | self.spillover)


class Atlas:
    """Zones, muscles and their resolved referral patterns; immutable once built."""

    def __init__(
        self,
        zones: Mapping[str, Zone],
        muscles: Mapping[str, Muscle],
        safety_notes: Mapping[str, SafetyNote] | None = None,
    ):
        self.zones: dict[str, Zone] = dict(zones)
        self.muscles: dict[str, Muscle] = dict(muscles)
        self.safety_notes: dict[str, SafetyNote] = dict(safety_notes or {})
        self.zone_ids: frozenset[str] = frozenset(self.zones)
        self.midline_zone_ids: frozenset[str] = frozenset(
            z.id for z in self.zones.values() if z.side == "midline"
        )
        problems: list[str] = []
        patterns: dict[tuple[str, str], SidedPattern] = {}
        trigger_point_zones: dict[tuple[str, str], frozenset[str]] = {}
        for muscle in self.muscles.values():
            for side in SIDES:
                essential = self._resolve(muscle.referral.essential, side, muscle.id, problems)
                spillover = self._resolve(muscle.referral.spillover, side, muscle.id, problems)
                patterns[(muscle.id, side)] = SidedPattern(muscle.id, side, essential, spillover - essential)
                trigger_point_zones[(muscle.id, side)] = self._resolve(
                    (token for point in muscle.trigger_points for token in point.zones), side, muscle.id, problems,
                    what="trigger point zone",
                )
        flagged = sorted(m.id for m in self.muscles.values() if m.pneumothorax_risk)
        if flagged and PNEUMOTHORAX_NOTE not in self.safety_notes:
            problems.append(
                f"safety_notes.{PNEUMOTHORAX_NOTE} is required: {', '.join(flagged)} carry pneumothorax_risk"
            )
        if problems:
            raise AtlasDataError(sorted(set(problems)))
        self._patterns = patterns
        self._trigger_point_zones = trigger_point_zones
        # Ordered by muscle id then side: the suggestion scorer walks this tuple, and a
        # fixed order is what makes its tie-break deterministic.
        self.patterns: tuple[SidedPattern, ...] = tuple(patterns[key] for key in sorted(patterns))

    def safety_notes_for(self, muscle_id: str) -> tuple[SafetyNote, ...]:
        """The warnings a page must show with this muscle (the pneumothorax note for a flagged muscle)."""
        muscle = self.muscle(muscle_id)
        return (self.safety_notes[PNEUMOTHORAX_NOTE],) if muscle.pneumothorax_risk else ()

    def muscle(self, muscle_id: str) -> Muscle:
        """The muscle with this id; KeyError for an unknown id."""
        return self.muscles[muscle_id]

    def has_muscle(self, muscle_id: str) -> bool:
        return muscle_id in self.muscles

    def referred_zones(self, muscle_id: str, side: str) -> tuple[frozenset[str], frozenset[str]]:
        """(essential, spillover) zone ids for the muscle on `side` ('left' | 'right')."""
        if side not in _SIDE_SUFFIX:
            raise ValueError(f"side must be one of {', '.join(SIDES)}, not {side!r}")
        pattern = self._patterns[(self.muscle(muscle_id).id, side)]
        return pattern.essential, pattern.spillover

    def trigger_point_zones(self, muscle_id: str, side: str) -> frozenset[str]:
        """Zone ids over the muscle's trigger points on `side`, where a map marks them."""
        if side not in _SIDE_SUFFIX:
            raise ValueError(f"side must be one of {', '.join(SIDES)}, not {side!r}")
        return self._trigger_point_zones[(self.muscle(muscle_id).id, side)]

    def token_label(self, token: str) -> str:
        """A side-relative referral token in plain words, without a side: ``Temple``, ``Temple (other side)``.

        Used where a muscle is described for either side (the atlas index); a muscle page
        resolves the tokens for one side and shows the zones' own labels instead.
        """
        if token.startswith(BILATERAL_PREFIX):
            return f"{self._unsided_label(token.removeprefix(BILATERAL_PREFIX))} (both sides)"
        if token.startswith(CONTRALATERAL_PREFIX):
            return f"{self._unsided_label(token.removeprefix(CONTRALATERAL_PREFIX))} (other side)"
        return self._unsided_label(token)

    def _unsided_label(self, base: str) -> str:
        if base in self.zones:
            return self.zones[base].label
        label = self.zones[f"{base}{_SIDE_SUFFIX['left']}"].label
        return label.removesuffix(", left")

    def sharing_essential_zones(self, muscle_id: str, side: str) -> tuple[Muscle, ...]:
        """Other muscles (same side) whose essential zones overlap this muscle's: the differential to palpate."""
        essential = self.pattern(muscle_id, side).essential
        return tuple(
            self.muscles[pattern.muscle_id]
            for pattern in self.patterns
            if pattern.side == side and pattern.muscle_id != muscle_id and pattern.essential & essential
        )

    def _resolve(
        self, tokens: Iterable[str], side: str, muscle_id: str, problems: list[str], what: str = "referral zone"
    ) -> frozenset[str]:
        resolved: set[str] = set()
        for token in tokens:
            token_zone_ids = resolve_zone_token(token, side, self.midline_zone_ids)
            unknown = [zone_id for zone_id in token_zone_ids if zone_id not in self.zone_ids]
            if unknown:
                problems.append(
                    f"muscle {muscle_id}: {what} {token!r} resolves to unknown zone(s) {', '.join(unknown)}"
                )
            resolved.update(token_zone_ids)
        return frozenset(resolved)

    def pattern(self, muscle_id: str, side: str) -> SidedPattern:
        """The resolved pattern for one muscle-side; KeyError when either is unknown."""
        return self._patterns[(muscle_id, side)]

    def search(self, query: str) -> tuple[Muscle, ...]:
        """Muscles whose name, region, or painful zone (label or id) contains every word of `query`.

        Matches on the name rank first, then region, then referral zones; ties by id.
        An empty query returns nothing rather than the whole atlas.
        """
        words = [word for word in query.casefold().replace("_", " ").split() if word]
        if not words:
            return ()
        ranked: list[tuple[int, str]] = []
        for muscle in self.muscles.values():
            rank = self._search_rank(muscle, words)
            if rank is not None:
                ranked.append((rank, muscle.id))
        return tuple(self.muscles[muscle_id] for _, muscle_id in sorted(ranked))

    def _search_rank(self, muscle: Muscle, words: list[str]) -> int | None:
        name_text = f"{muscle.name} {muscle.id.replace('_', ' ')}".casefold()
        region_text = (
            f"{muscle.region.replace('_', ' ')} {REGION_LABELS.get(muscle.region, '')} "
            f"{muscle.body_region.replace('_', ' ')}"
        ).casefold()
        zone_text = " ".join(
            f"{zone_id} {self.zones[zone_id].label}"
            for side in SIDES
            for zone_id in sorted(
                self._patterns[(muscle.id, side)].essential | self._patterns[(muscle.id, side)].spillover
            )
        ).casefold()
        for rank, text in enumerate((name_text, region_text)):
            if all(word in text for word in words):
                return rank
        if all(word in f"{name_text} {region_text} {zone_text}" for word in words):
            return 2
        return None


def resolve_zone_token(token: str, side: str, midline_zone_ids: frozenset[str]) -> tuple[str, ...]:
    """Turn one side-relative referral token into body-map zone ids for a muscle on `side`.

    ``temple`` → ``temple-l`` for a left muscle; ``contra:temple`` → ``temple-r``;
    ``both:temple`` → both; a midline id such as ``sacrum`` is returned as-is when it has
    no sided variant (existence is checked by the caller against the vocabulary).
    """
    if token.startswith(BILATERAL_PREFIX):
        base = token.removeprefix(BILATERAL_PREFIX)
        return (f"{base}-l", f"{base}-r")
    if token.startswith(CONTRALATERAL_PREFIX):
        base = token.removeprefix(CONTRALATERAL_PREFIX)
        return (f"{base}{_SIDE_SUFFIX[_OPPOSITE[side]]}",)
    if token in midline_zone_ids:
        return (token,)
    return (f"{token}{_SIDE_SUFFIX[side]}",)


def _validate(document: Any, schema_file: Path, label: str) -> None:
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    validator = Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(document), key=lambda error: [str(p) for p in error.absolute_path])
    if errors:
        raise AtlasDataError(
            [
                f"{label} {'/'.join(str(p) for p in error.absolute_path) or '<root>'}: {error.message}"
                for error in errors
            ]
        )


def _read_zones(document: Mapping[str, Any]) -> dict[str, Zone]:
    _validate(document, ZONES_SCHEMA_FILE, "bodymap-zones.json")
    zones: dict[str, Zone] = {}
    duplicates = []
    for row in document["zones"]:
        if row["id"] in zones:
            duplicates.append(f"bodymap-zones.json: duplicate zone id {row['id']}")
        zones[row["id"]] = Zone(row["id"], row["label"], row["region"], tuple(row["views"]), row["side"])
    if duplicates:
        raise AtlasDataError(duplicates)
    return zones


def _read_muscles(document: Mapping[str, Any]) -> dict[str, Muscle]:
    _validate(document, MUSCLES_SCHEMA_FILE, "muscles.yaml")
    muscles: dict[str, Muscle] = {}
    problems = []
    stretch_ids: set[str] = set()
    for row in document["muscles"]:
        if row["id"] in muscles:
            problems.append(f"muscles.yaml: duplicate muscle id {row['id']}")
        for stretch in row["stretches"]:
            if stretch["id"] in stretch_ids:
                problems.append(f"muscles.yaml: duplicate stretch id {stretch['id']}")
            stretch_ids.add(stretch["id"])
        injection = row["injection"]
        muscles[row["id"]] = Muscle(
            id=row["id"],
            name=row["name"],
            region=row["region"],
            body_region=row["body_region"],
            innervation=row["innervation"],
            pneumothorax_risk=injection["pneumothorax_risk"],
            ultrasound_advised=injection["ultrasound_advised"],
            non_compressible=injection["non_compressible"],
            needle_depth=injection["needle_depth"],
            stretches=tuple(Stretch(s["id"], s["name"], s["instructions"].strip()) for s in row["stretches"]),
            sources=tuple(row["sources"]),
            referral=ReferralPattern(
                essential=tuple(row["referral"]["essential"]),
                spillover=tuple(row["referral"]["spillover"]),
                notes=row["referral"].get("notes", ""),
            ),
            trigger_points=tuple(
                TriggerPoint(tp["location"], tp["palpation"], tuple(tp["zones"])) for tp in row["trigger_points"]
            ),
            activities=tuple(row["activities"]),
            hazards=tuple(injection["hazards"]),
        )
    if problems:
        raise AtlasDataError(problems)
    return muscles


def _read_safety_notes(document: Mapping[str, Any]) -> dict[str, SafetyNote]:
    return {
        note_id: SafetyNote(note_id, row["title"], row["applies_to"], " ".join(row["text"].split()), tuple(row["sources"]))
        for note_id, row in document.get("safety_notes", {}).items()
    }


def build_atlas(zones_document: Mapping[str, Any], muscles_document: Mapping[str, Any]) -> Atlas:
    """Validate both documents and build an Atlas; raises AtlasDataError listing every problem."""
    muscles = _read_muscles(muscles_document)  # schema-checks the whole document first
    return Atlas(_read_zones(zones_document), muscles, _read_safety_notes(muscles_document))


def read_zones_document() -> dict[str, Any]:
    return json.loads(ZONES_FILE.read_text(encoding="utf-8"))


# libyaml's safe loader parses the atlas about six times faster than the pure-Python one;
# the atlas is loaded when the app starts, so that time is paid by every process.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_muscles_document() -> dict[str, Any]:
    return yaml.load(MUSCLES_FILE.read_text(encoding="utf-8"), Loader=_YAML_LOADER)  # noqa: S506 - a safe loader


@functools.lru_cache(maxsize=1)
def load_atlas() -> Atlas:
    """The shipped atlas, validated once per process and then shared (it is immutable).

    The atlas app loads it when Django starts (``AtlasConfig.ready``), so a broken data
    file stops the process at start-up and no request pays for the first load.
    """
    return build_atlas(read_zones_document(), read_muscles_document())


# --- what a patient reads, in the patient's language -------------------------------------------
# Staff pages show the English names of muscles.yaml. A Spanish-preferring patient reads the
# muscle names of muscle_names_es.yaml and the stretches of stretches_es.yaml (separate files so
# the clinical atlas and its translations are edited independently). Both must cover the whole
# atlas: a gap fails at start-up (AtlasConfig.ready), never as English text in a Spanish plan.
MUSCLE_NAMES_ES_FILE = DATA_DIR / "muscle_names_es.yaml"
STRETCHES_ES_FILE = DATA_DIR / "stretches_es.yaml"
PATIENT_TEXT_ES_SCHEMA_FILE = DATA_DIR / "patient_text_es.schema.json"
PATIENT_LANGUAGES: tuple[str, str] = ("en", "es")


@dataclass(frozen=True)
class SpanishPatientText:
    muscle_names: Mapping[str, str]
    stretches: Mapping[str, Stretch]


def build_spanish_text(
    atlas: Atlas, names_document: Mapping[str, Any], stretches_document: Mapping[str, Any]
) -> SpanishPatientText:
    """Validate the Spanish documents against the schema and against `atlas` (complete, no strays)."""
    _validate(names_document, PATIENT_TEXT_ES_SCHEMA_FILE, MUSCLE_NAMES_ES_FILE.name)
    _validate(stretches_document, PATIENT_TEXT_ES_SCHEMA_FILE, STRETCHES_ES_FILE.name)
    names = dict(names_document.get("names") or {})
    raw_stretches = dict(stretches_document.get("stretches") or {})
    stretch_ids = {stretch.id for muscle in atlas.muscles.values() for stretch in muscle.stretches}
    problems = [f"{MUSCLE_NAMES_ES_FILE.name}: no Spanish name for muscle {m}" for m in atlas.muscles if m not in names]
    problems += [f"{MUSCLE_NAMES_ES_FILE.name}: {m} is not an atlas muscle" for m in names if m not in atlas.muscles]
    problems += [f"{STRETCHES_ES_FILE.name}: no Spanish text for stretch {s}" for s in sorted(stretch_ids - set(raw_stretches))]
    problems += [f"{STRETCHES_ES_FILE.name}: {s} is not an atlas stretch" for s in sorted(set(raw_stretches) - stretch_ids)]
    if problems:
        raise AtlasDataError(problems)
    stretches = {
        stretch_id: Stretch(id=stretch_id, name=text["name"].strip(), instructions=" ".join(text["instructions"].split()))
        for stretch_id, text in raw_stretches.items()
    }
    return SpanishPatientText(muscle_names=names, stretches=stretches)


@functools.lru_cache(maxsize=1)
def load_spanish_text() -> SpanishPatientText:
    def read(path: Path) -> dict[str, Any]:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)  # noqa: S506 - a safe loader

    return build_spanish_text(load_atlas(), read(MUSCLE_NAMES_ES_FILE), read(STRETCHES_ES_FILE))


def _check_language(language: str) -> None:
    if language not in PATIENT_LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(PATIENT_LANGUAGES)}, not {language!r}")


def muscle_name(muscle_id: str, language: str = "en") -> str:
    """The name of an atlas muscle as a patient reading `language` is shown it.

    The one place patient pages, PDFs, calendars, messages and consent take a muscle's name from.
    Raises KeyError for a muscle the atlas does not have, ValueError for an unsupported language.
    """
    _check_language(language)
    if language == "es":
        return load_spanish_text().muscle_names[muscle_id]
    return load_atlas().muscle(muscle_id).name


def stretch_for_patient(stretch: Stretch, language: str = "en") -> Stretch:
    """`stretch` (from the atlas) with its name and instructions in `language`."""
    _check_language(language)
    if language == "es":
        return load_spanish_text().stretches[stretch.id]
    return stretch
