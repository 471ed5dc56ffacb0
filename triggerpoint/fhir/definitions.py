"""What /fhir/R4/ serves beside the registry: the Questionnaire definitions (views in `questionnaires`).

Kept apart from the views so `capability` can list it without importing `views` (which imports `capability`).
"""

from __future__ import annotations

from typing import Any

from triggerpoint.fhir.registry import SearchParam

NAME = "Questionnaire"
ANSWERS = "QuestionnaireResponse"
SEARCH_PARAMS = (
    SearchParam("_id", "token", "http://hl7.org/fhir/SearchParameter/Resource-id", "The resource's logical id."),
    SearchParam("url", "uri", "http://hl7.org/fhir/SearchParameter/conformance-url",
                "The canonical URL, as a QuestionnaireResponse's `questionnaire` gives it (`url` or `url|version`)."),
)

def capability_entry() -> dict[str, Any]:
    """The CapabilityStatement's entry for Questionnaire (read, search by `_id` and `url`)."""
    return {
        "type": NAME,
        "interaction": [{"code": "read"}, {"code": "search-type"}],
        "versioning": "no-version",
        "readHistory": False,
        "searchParam": [{"name": p.name, "definition": p.definition, "type": p.type, "documentation": p.documentation}
                        for p in SEARCH_PARAMS],
    }
