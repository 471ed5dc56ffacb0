"""Mappers: pure functions from a clinic record (attributes already loaded) to a FHIR R4 resource (a dict)."""
