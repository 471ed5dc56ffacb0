"""The procedure-note document: header facts, a shared mix set once, and the treated sites.

The vocabulary and limits of the note (choices, ranges) and its parsed form. The JSON
contract that produces it is `note_schema`; what it implies (amounts given, the inputs of
the dose check and the coder, what is missing before signing) is `draft`. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal

from triggerpoint.core.choices import GUIDANCES, SIDES, TECHNIQUES
from triggerpoint.procedures.dosing import MG_PER_ML_PER_PERCENT

__all__ = ["GUIDANCES", "SIDES", "TECHNIQUES"]  # the kernel vocabulary, as the note uses it

COMPLICATIONS = (
    "vasovagal",
    "bleeding_haematoma",
    "local_anesthetic_toxicity",
    "suspected_pneumothorax",
    "other",
)
DISCHARGE_CONDITIONS = ("stable", "stable_escorted", "transferred")
NRS_RANGE = (0, 10)
INSERTIONS_RANGE = (1, 50)
GAUGE_RANGE = (18, 34)
NEEDLE_LENGTH_MM_RANGE = (5, 150)
OBSERVATION_MINUTES_RANGE = (0, 600)
MAX_SITES = 40
MAX_VOLUME_ML = Decimal(100)
MASS_DOSED_CLASSES = frozenset({"amide_local_anesthetic", "ester_local_anesthetic", "corticosteroid", "magnesium"})
UNIT_DOSED_CLASSES = frozenset({"botulinum_toxin"})
# Universal Protocol (The Joint Commission UP.01.01.01-UP.01.03.01) answers; the model's choices match these.
YES_NO = ("yes", "no")
SITE_MARKED = ("yes", "no", "not_applicable")
SKIN_PREP_AGENTS = ("chlorhexidine_alcohol", "povidone_iodine", "alcohol", "other")
STERILE_TECHNIQUES = ("aseptic_no_touch", "full_sterile")
UNIVERSAL_PROTOCOL_FIELDS = ("timeout_performed", "timeout_time", "site_marked", "skin_prep_agent", "sterile_technique")

HEADER_FIELDS = (
    "procedure_date",
    "guidance",
    "pre_nrs",
    "post_nrs",
    "observation_minutes",
    "complications",
    "complication_notes",
    "discharge_condition",
    "notes",
    "payer",
    "diagnosis_codes",
    *UNIVERSAL_PROTOCOL_FIELDS,
)

# ---------------------------------------------------------------------------------------------
# The document


@dataclass(frozen=True)
class Dose:
    """A drug at a concentration (one of the three), with its lot and expiry."""

    drug: str
    concentration_percent: Decimal | None = None
    concentration_mg_per_ml: Decimal | None = None
    concentration_units_per_ml: Decimal | None = None
    with_epinephrine: bool = False
    lot_number: str = ""
    expiry: date | None = None
    # Billing facts of the vial: its NDC (5-4-2), whether it was a single-dose vial (None: not said)
    # and the amount discarded from it, in the drug's dose unit (mg, or units for toxins; 0 = none).
    ndc: str = ""
    single_dose_vial: bool | None = None
    discarded: Decimal | None = None

    @property
    def mg_per_ml(self) -> Decimal | None:
        if self.concentration_percent is not None:
            return self.concentration_percent * MG_PER_ML_PER_PERCENT
        return self.concentration_mg_per_ml


@dataclass(frozen=True)
class MixComponent(Dose):
    ml_per_site: Decimal | None = None


@dataclass(frozen=True)
class SiteInjectate(Dose):
    volume_ml: Decimal | None = None


@dataclass(frozen=True)
class SiteEntry:
    muscle: str
    side: str
    technique: str = "injection"
    trigger_point: str = ""
    insertions: int = 1
    needle_gauge: int | None = None
    needle_length_mm: int | None = None
    local_twitch: bool | None = None
    immediate_response: str = ""
    uses_shared_mix: bool = True
    mix_volume_ml: Decimal | None = None
    injectates: tuple[SiteInjectate, ...] = ()

    @property
    def receives_mix(self) -> bool:
        """Dry needling injects nothing, so a needled site never receives the mix."""
        return self.uses_shared_mix and self.technique == "injection"


@dataclass(frozen=True)
class NoteDocument:
    procedure_date: date | None = None
    guidance: str = "landmark"
    pre_nrs: int | None = None
    post_nrs: int | None = None
    observation_minutes: int | None = None
    complications: tuple[str, ...] = ()
    complication_notes: str = ""
    discharge_condition: str = ""
    notes: str = ""
    payer: str = ""
    diagnosis_codes: tuple[str, ...] = ()
    timeout_performed: str = ""
    timeout_time: time | None = None
    site_marked: str = ""
    skin_prep_agent: str = ""
    sterile_technique: str = ""
    mix: tuple[MixComponent, ...] = ()
    sites: tuple[SiteEntry, ...] = ()

    @property
    def standard_mix_volume_ml(self) -> Decimal:
        """The volume of mix one site receives unless adjusted: the sum of the components' mL per site."""
        return sum((c.ml_per_site for c in self.mix if c.ml_per_site is not None), Decimal(0))

