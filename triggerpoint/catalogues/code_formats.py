"""Well-formedness of standard codes: check digits and shapes that catch a mistyped code.

A passing check says only that the code could exist; it cannot say the code means what a row
claims. SNOMED CT identifiers end in a Verhoeff check digit after a two-digit partition
("00" for a concept, "10" for a concept in an extension); LOINC codes end in a mod-10 (Luhn)
check digit after a hyphen; RxNorm concept ids (RXCUI) are plain numbers. UCUM codes are
printable ASCII without spaces.
"""

from __future__ import annotations

import re

SNOMED = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"

# Verhoeff tables: multiplication in the dihedral group D5, the position permutation.
_D = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9), (1, 2, 3, 4, 0, 6, 7, 8, 9, 5), (2, 3, 4, 0, 1, 7, 8, 9, 5, 6),
    (3, 4, 0, 1, 2, 8, 9, 5, 6, 7), (4, 0, 1, 2, 3, 9, 5, 6, 7, 8), (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2), (7, 6, 5, 9, 8, 2, 1, 0, 4, 3), (8, 7, 6, 5, 9, 3, 2, 1, 0, 4),
    (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)
_P = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9), (1, 5, 7, 6, 2, 8, 3, 0, 9, 4), (5, 8, 0, 3, 7, 9, 6, 1, 4, 2),
    (8, 9, 1, 6, 0, 4, 3, 5, 2, 7), (9, 4, 5, 3, 1, 2, 6, 8, 7, 0), (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
    (2, 7, 9, 3, 8, 0, 6, 4, 1, 5), (7, 0, 4, 6, 9, 1, 3, 2, 5, 8),
)


def verhoeff_valid(number: str) -> bool:
    check = 0
    for position, digit in enumerate(reversed(number)):
        check = _D[check][_P[position % 8][int(digit)]]
    return check == 0


def sctid_valid(code: str) -> bool:
    """A SNOMED CT concept id: 6-18 digits, no leading zero, concept partition, Verhoeff check digit."""
    return bool(re.fullmatch(r"[1-9]\d{5,17}", code)) and code[-3:-1] in {"00", "10"} and verhoeff_valid(code)


def loinc_valid(code: str) -> bool:
    """A LOINC code: digits, a hyphen, and the mod-10 check digit of those digits."""
    match = re.fullmatch(r"(\d{1,7})-(\d)", code)
    if not match:
        return False
    total = 0
    for position, char in enumerate(reversed(match.group(1))):
        digit = int(char) * (2 if position % 2 == 0 else 1)
        total += digit // 10 + digit % 10
    return (10 - total % 10) % 10 == int(match.group(2))


def rxcui_valid(code: str) -> bool:
    return re.fullmatch(r"[1-9]\d{0,9}", code) is not None


def ucum_valid(code: str) -> bool:
    return re.fullmatch(r"[!-~]+", code) is not None


VALIDATORS = {SNOMED: sctid_valid, LOINC: loinc_valid, RXNORM: rxcui_valid, UCUM: ucum_valid}


def well_formed(system: str, code: str) -> bool:
    """Whether ``code`` has the shape and check digit its ``system`` requires."""
    return VALIDATORS[system](code)
