"""Names and phone numbers as the front desk types them: accents, case, order and punctuation ignored.

One place for the folding that duplicate detection (`registration`), the search box (`search`) and the
stored search key (`Patient.search_name`) share, so "García" typed as "garcia" is the same everywhere.
"""

from __future__ import annotations

import re
import unicodedata


def fold(text: str) -> str:
    """Lower case, accents removed (é → e, ñ → n, ß → ss), everything but letters and digits a space."""
    decomposed = unicodedata.normalize("NFKD", (text or "").casefold())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[^0-9a-z]+", " ", bare).split())


def name_key(*parts: str) -> str:
    """The words of a name, folded and sorted: order-insensitive ("Garcia, Jose" == "Jose Garcia")."""
    return " ".join(sorted(fold(" ".join(parts)).split()))


def phone_digits(phone: str) -> str:
    digits = re.sub(r"\D", "", phone or "")
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    return digits
