"""Rows of the role × action matrix for /fhir/R4/ (the same policy as the pages and /api/v1/).

Searches without a patient in the path answer another clinic's physician with their own clinic's
(empty) results, as every list does; record paths name the matrix's patient, so they are refused.
"""

from __future__ import annotations

ALL = {"physician", "nurse", "front_desk", "analyst", "clinic_admin", "portal_patient", "other_clinic", "anonymous"}
DESK_AND_PORTAL = {"physician", "nurse", "front_desk", "portal_patient"}
CLINICAL = {"physician", "nurse"}
STAFF = {"physician", "nurse", "front_desk", "analyst", "clinic_admin"}
DESK = {"physician", "nurse", "front_desk"}


def rows(patient):
    pid = patient.public_id
    return [
        ("fhir:metadata", "get", "/fhir/R4/metadata", None, ALL, {200}),
        ("fhir:search", "get", "/fhir/R4/Patient", None, DESK_AND_PORTAL, {200}),
        ("fhir:search", "get", "/fhir/R4/AllergyIntolerance", None, CLINICAL, {200}),
        ("fhir:search", "get", "/fhir/R4/Condition", None, CLINICAL, {200}),
        ("fhir:search", "get", "/fhir/R4/Encounter", None, CLINICAL, {200}),
        # the audit trail: the clinic admin only; the clinic's directory: its staff (and the portal its clinic)
        ("fhir:search", "get", "/fhir/R4/AuditEvent", None, {"clinic_admin"}, {200}),
        ("fhir:search", "get", f"/fhir/R4/AuditEvent?patient={pid}", None, {"clinic_admin"}, {200}),
        ("fhir:search", "get", "/fhir/R4/Practitioner", None, STAFF, {200}),
        ("fhir:search", "get", "/fhir/R4/Organization", None, STAFF | {"portal_patient"}, {200}),
        ("fhir:read", "get", f"/fhir/R4/Patient/{pid}", None, DESK_AND_PORTAL, {200}),
        ("fhir:everything", "get", f"/fhir/R4/Patient/{pid}/$everything", None, DESK_AND_PORTAL, {200}),
        ("fhir:unknown", "get", "/fhir/R4/no/such/thing", None, set(), {404}),
        # Binary: no search (400 for whoever is signed in); a PDF of nothing here is refused to all
        # (test_documents_plans_consents reads real ones and refuses other clinics and roles).
        ("fhir:binary_search", "get", "/fhir/R4/Binary", None, ALL - {"anonymous"}, {400}),
        ("fhir:binary", "get", f"/fhir/R4/Binary/consent-{pid}", None, set(), {404}),
        # The import (fhir/importing): a form body is not a Bundle, so whoever may import gets the 400 that
        # says so; the others are refused before the body is read.
        ("fhir:transaction", "post", "/fhir/R4/", {"not": "a bundle"}, DESK, {400}),
        ("fhir:import_upload", "get", "/fhir/R4/import/", None, DESK, {200}),
        ("fhir:import_upload", "post", "/fhir/R4/import/", {"bundle_json": "{}"}, DESK, {422}),
        # Questionnaire: the forms QuestionnaireResponse points at (catalogue content), for whoever reads those
        ("fhir:questionnaire_search", "get", "/fhir/R4/Questionnaire", None, CLINICAL, {200}),
        ("fhir:questionnaire_read", "get", "/fhir/R4/Questionnaire/screening-1", None, CLINICAL, {200}),
    ]
