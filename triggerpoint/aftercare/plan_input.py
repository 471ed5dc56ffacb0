"""What an aftercare plan is computed from (`PlanInput`), and the catalogues it reads as structural types.

`schemas` reads the `aftercare/plan` JSON contract (ARCHITECTURE §8) into a `PlanInput`; the
catalogues are protocols, so tests and callers can pass their own. Pure: no Django, ORM or HTTP.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from triggerpoint.atlas.catalog import load_atlas
from triggerpoint.catalogues.drugs import load_drugs


class _Stretch(Protocol):
    id: str
    name: str
    instructions: str


class _Muscle(Protocol):
    id: str
    name: str
    pneumothorax_risk: bool
    stretches: tuple[_Stretch, ...]


class AtlasCatalog(Protocol):
    muscles: Mapping[str, Any]

    def muscle(self, muscle_id: str) -> _Muscle: ...

    def has_muscle(self, muscle_id: str) -> bool: ...


class _Drug(Protocol):
    id: str
    name: str
    drug_class: str


class DrugCatalog(Protocol):
    @property
    def ids(self) -> tuple[str, ...]: ...

    def get(self, drug_id: str) -> _Drug: ...

    def resolve(self, name_or_synonym: str) -> _Drug | None: ...


def _default_atlas() -> AtlasCatalog:
    return load_atlas()


def _default_drugs() -> DrugCatalog:
    return load_drugs()


@dataclass(frozen=True)
class Site:
    """One treated muscle on one side (bilateral treatment is two sites)."""

    muscle: str
    side: str


@dataclass(frozen=True)
class PlanInput:
    procedure_date: date
    sites: tuple[Site, ...]
    injectates: tuple[str, ...]  # drug ids, each once, in the order given
    conditions: frozenset[str] = frozenset()
    physical_therapy_planned: bool = False
    clinic_name: str | None = None
    clinic_phone: str | None = None
    language: str = "en"
