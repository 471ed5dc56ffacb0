"""Reading level of patient-facing text (shared by the screening, assessment and consent tests)."""

from __future__ import annotations

from triggerpoint.core.readability import english_grade as reading_grade

__all__ = ["MAX_GRADE", "reading_grade"]

MAX_GRADE = 8  # plain-language target for patient-facing text
