"""The resource types /fhir/R4/ serves, registered with `registry.register` (see `registry` for how to add one).

Records are read only through the owning apps' selectors; the mappers in `mapping/` are pure.
Policy actions mirror the pages and /api/v1/: Patient needs `patient.view` (front desk too),
AllergyIntolerance `patient.view_clinical`, Condition and Encounter `assessment.view`
(clinicians; `procedure.view` is granted to the same roles); what signed notes and outcome
measurements yield (Procedure, BodyStructure, MedicationAdministration, Provenance, Observation)
`procedure.view`.
"""

from triggerpoint.fhir.resources import (  # noqa: F401 - importing a module registers its types
    answers_and_flags,
    audit_and_directory,
    documents,
    patients_and_visits,
    signed_notes,
)
