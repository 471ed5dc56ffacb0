"""Import from the EHR: a FHIR R4 transaction Bundle → one patient's chart (issue 19, part 2).

`POST /fhir/R4/` (the base) with a `transaction` Bundle, or the staff upload page
(`/fhir/R4/import/`), both through `service.import_bundle`:

* `parse` — the Bundle and every entry checked with the `fhir.resources` R4B models and our own rules;
  every problem is one OperationOutcome issue naming the entry (`Bundle.entry[2].resource.code`),
  and nothing is written (400);
* `vocabulary` — received codes → our vocabularies (the blood-thinner table for drug classes, the
  screening allergy words and the drug catalogue for allergy substances, UCUM weight units);
* `service` — match the chart (identifier, then the registration duplicate rules: a likely duplicate
  without a matching identifier is a 409 naming the candidate charts, never a silent merge), then
  apply every entry through the public services of `patients`, in one transaction; a re-sent Bundle
  changes nothing;
* `views` — the endpoint (a `transaction-response` Bundle) and the upload page.
"""
