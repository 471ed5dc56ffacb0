"""Which payers a patient's insurance can name, supplied by the procedures app (one layer up).

The payer table (`procedures/data/payers.yaml`) belongs to the coders: its ids drive the coding
warnings on a note. The chart records the patient's payer with one of those ids, so the note can
take it instead of the clinician choosing per note. Patients sits below procedures, so it names what
it needs here and `ProceduresConfig.ready` provides it (as for `screening.history`). Never provided,
a payer cannot be checked and is refused, never silently accepted.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import ImproperlyConfigured, ValidationError

_choices: Callable[[], list[tuple[str, str]]] | None = None


def provide(choices: Callable[[], list[tuple[str, str]]]) -> None:
    global _choices
    _choices = choices


def choices() -> list[tuple[str, str]]:
    """(payer id, name) pairs, sorted by name."""
    if _choices is None:
        raise ImproperlyConfigured("patients.payers was never provided (is triggerpoint.procedures installed?)")
    return sorted(_choices(), key=lambda pair: pair[1])


def validate_payer(value: str) -> None:
    """A model-field validator: blank, or an id in the payer table."""
    if value and value not in dict(choices()):
        raise ValidationError(f"{value!r} is not a payer in the clinic's payer table.")
