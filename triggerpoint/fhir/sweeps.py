"""The worker's periodic sweep for the FHIR interface (a `sweeps` plug-in): expired export files, stale jobs."""

from __future__ import annotations

from triggerpoint.fhir import bulk_export


def sweep() -> dict[str, int]:
    return bulk_export.sweep()
