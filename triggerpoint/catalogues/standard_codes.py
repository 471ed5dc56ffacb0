"""Standard codes for what the catalogues name: SNOMED CT, RxNorm, LOINC and UCUM.

One table, ``catalogues/data/standard_codes.yaml`` (checked against
``data/schemas/standard_codes.schema.json``), read once per process. Nothing is looked
up at run time: the codes were copied from sources named in each row's ``source``.

A row is ``verified`` only when its code was found stated in a named source (a published
value set, an HL7 example, a public repository quoting the terminology server). A row we
could not confirm says ``verified: false`` and what was found; if nothing trustworthy was
found its ``code`` is null and :func:`lookup` answers None (there is nothing to send), while
:func:`entry` still shows the row and its reason. Codes are never invented.

Kinds and their keys:

* ``muscle`` - atlas muscle ids (``atlas/data/muscles.yaml``), SNOMED CT body structures;
* ``laterality`` - the sides vocabulary (``core.choices.SIDES``: left, right) plus the
  atlas's zone sides ``both`` and ``midline``; SNOMED CT qualifier values;
* ``drug`` - drug ids of the drug catalogue (``catalogues.drugs``), RxNorm;
* ``route`` - :data:`ROUTES`, SNOMED CT routes of administration;
* ``unit`` - the unit names the clinic doses in (:data:`UNITS`), UCUM;
* ``instrument`` - instrument ids (``catalogues.instruments``): the LOINC panel for the
  questionnaire as a whole;
* ``instrument_score`` - instrument ids: the LOINC code of the instrument's score (what an
  Observation of the result carries);
* ``instrument_item`` - ``"<instrument id>/<item id>"`` (item ids repeat across
  instruments), LOINC.

Each row also says how the code matches (:attr:`CodeEntry.match`): ``exact``, ``broader`` (the
code names a larger structure, e.g. the whole trapezius for "upper trapezius", or the parent
ingredient of a salt) or ``related`` (the nearest code, a judgement). A sender should put the
clinic's own name in the text beside a code that is not ``exact``.

CPT, HCPCS and ICD-10-CM stay where they are (``procedures/data``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from triggerpoint.catalogues.code_formats import LOINC, RXNORM, SNOMED, UCUM, well_formed
from triggerpoint.core import data
from triggerpoint.core.data import DataFileError

_DATA_DIR = Path(__file__).resolve().parent / "data"

KINDS = ("muscle", "laterality", "drug", "route", "unit", "instrument", "instrument_score", "instrument_item")

# The one code system each kind is coded in.
SYSTEM_OF_KIND = {
    "muscle": SNOMED, "laterality": SNOMED, "route": SNOMED, "drug": RXNORM, "unit": UCUM,
    "instrument": LOINC, "instrument_score": LOINC, "instrument_item": LOINC,
}

# Routes a trigger-point injection uses: the needle goes into the muscle; the skin wheal of
# local anaesthetic is subcutaneous; "infiltration" is how local-anaesthetic labels describe it.
ROUTES = ("intramuscular", "subcutaneous", "infiltration")

# The unit names the clinic's records and tables use: volumes in mL (ProcedureInjectate.volume_ml),
# doses in mg or product units (hcpcs.yaml dose_unit), weight in kg and maxima in mg/kg.
UNITS = ("mL", "mg", "units", "kg", "mg/kg")


@dataclass(frozen=True)
class StandardCode:
    system: str
    code: str
    display: str
    verified: bool
    source: str


@dataclass(frozen=True)
class CodeEntry:
    """One row of the table, including rows with no usable code (``code`` is None)."""

    kind: str
    key: str
    system: str
    code: str | None
    display: str
    verified: bool
    source: str
    match: str = "exact"

    def as_standard_code(self) -> StandardCode | None:
        if self.code is None:
            return None
        return StandardCode(self.system, self.code, self.display, self.verified, self.source)


def build_table(document: dict) -> dict[tuple[str, str], CodeEntry]:
    """Rows by (kind, key) from a schema-valid document, refusing duplicates, a code in the wrong
    system for its kind, and a code whose check digit or shape is wrong (a typo)."""
    table: dict[tuple[str, str], CodeEntry] = {}
    problems: list[str] = []
    for row in document["codes"]:
        item = CodeEntry(
            kind=row["kind"],
            key=row["key"],
            system=row["system"],
            code=row.get("code"),
            display=row.get("display", ""),
            verified=row["verified"],
            source=row["source"],
            match=row.get("match", "exact"),
        )
        if (item.kind, item.key) in table:
            problems.append(f"duplicate {item.kind} {item.key!r}")
        if item.system != SYSTEM_OF_KIND[item.kind]:
            problems.append(f"{item.kind} {item.key!r}: a {item.kind} is coded in {SYSTEM_OF_KIND[item.kind]}")
        elif item.code is not None and not well_formed(item.system, item.code):
            problems.append(f"{item.kind} {item.key!r}: {item.code!r} is not a well-formed {item.system} code")
        table[(item.kind, item.key)] = item
    if problems:
        raise DataFileError("standard_codes.yaml: " + "; ".join(problems))
    return table


@cache
def load_table() -> dict[tuple[str, str], CodeEntry]:
    """The shipped table, validated against its schema and cached for the process."""
    document = data.load_validated_yaml(
        _DATA_DIR / "standard_codes.yaml", _DATA_DIR / "schemas" / "standard_codes.schema.json"
    )
    return build_table(document)


def entry(kind: str, key: str) -> CodeEntry | None:
    """The table's row for this kind and key (with its reason when unverified); None if no row."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    return load_table().get((kind, key))


def lookup(kind: str, key: str) -> StandardCode | None:
    """The standard code for a catalogue item, or None when the table has no code for it.

    Check ``verified`` before sending a code to another system as a fact; an unverified code
    is one we saw somewhere but could not confirm.
    """
    row = entry(kind, key)
    return row.as_standard_code() if row else None


def entries(kind: str | None = None) -> tuple[CodeEntry, ...]:
    """Every row (of one kind), in file order."""
    return tuple(row for row in load_table().values() if kind is None or row.kind == kind)


def coverage() -> dict[str, tuple[int, int, int]]:
    """Per kind: rows verified, rows with an unverified code, rows with no code (docs/STANDARD_CODES.md)."""
    counts = {kind: [0, 0, 0] for kind in KINDS}
    for row in entries():
        counts[row.kind][0 if row.verified else 1 if row.code else 2] += 1
    return {kind: (verified, unverified, codeless) for kind, (verified, unverified, codeless) in counts.items()}
