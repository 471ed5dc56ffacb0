"""Every refusal under /fhir/R4/ is an OperationOutcome with a 4xx: one exception, one shape.

A view raises `FhirError(status, code, diagnostics)`; `views` turns it into the resource. The
`code` is from the FHIR issue-type value set (http://hl7.org/fhir/valueset-issue-type.html).
"""

from __future__ import annotations

from typing import Any


class FhirError(Exception):
    def __init__(self, status: int, code: str, diagnostics: str, *, headers: dict[str, str] | None = None):
        super().__init__(diagnostics)
        self.status = status
        self.code = code
        self.diagnostics = diagnostics
        self.headers = headers or {}


def operation_outcome(code: str, diagnostics: str, severity: str = "error") -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": severity, "code": code, "diagnostics": diagnostics}],
    }


def invalid(diagnostics: str) -> FhirError:
    return FhirError(400, "invalid", diagnostics)


def not_found(diagnostics: str) -> FhirError:
    return FhirError(404, "not-found", diagnostics)
