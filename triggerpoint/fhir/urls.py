"""The FHIR R4 base, mounted at /fhir/R4/ (`FhirConfig.url_prefix`). Anything else under it is a 404 OperationOutcome."""

from django.urls import re_path

from triggerpoint.accounts import smart_views
from triggerpoint.fhir import binary, bulk_views, questionnaires, views
from triggerpoint.fhir.importing import views as importing

app_name = "fhir"

urlpatterns = [
    re_path(r"^$", importing.transaction_endpoint, name="transaction"),  # POST a transaction Bundle (import)
    re_path(r"^import/?$", importing.upload_page, name="import_upload"),  # the staff page for the same import
    re_path(r"^metadata/?$", views.metadata, name="metadata"),
    # SMART clients look for discovery under the FHIR base (SMART App Launch 2.x); the same document as at the root.
    re_path(r"^\.well-known/smart-configuration/?$", smart_views.smart_configuration, name="smart_configuration"),
    # Bulk Data Access 2.0 (bulk_views): kick-off, status, files.
    re_path(r"^\$export/?$", bulk_views.export_system, name="export"),
    re_path(r"^Patient/\$export/?$", bulk_views.export_patients, name="export_patients"),
    re_path(r"^Group/(?P<group_id>[^/]+)/\$export/?$", bulk_views.export_group, name="export_group"),
    re_path(r"^\$export-status/(?P<job_id>[^/]+)/?$", bulk_views.export_status, name="export_status"),
    re_path(r"^\$export-file/(?P<job_id>[^/]+)/(?P<name>[^/]+)$", bulk_views.export_file, name="export_file"),
    re_path(r"^Patient/(?P<resource_id>[^/]+)/\$everything/?$", views.everything, name="everything"),
    # Questionnaire: catalogue definitions, not registry records (see `questionnaires`).
    re_path(r"^Questionnaire/?$", questionnaires.search, name="questionnaire_search"),
    re_path(r"^Questionnaire/(?P<resource_id>[^/]+)/?$", questionnaires.read, name="questionnaire_read"),
    # The PDFs DocumentReference and Consent point at (read only; fhir/binary.py).
    re_path(r"^Binary/?$", binary.search, name="binary_search"),
    re_path(r"^Binary/(?P<resource_id>[^/]+)/?$", binary.read, name="binary"),
    re_path(r"^(?P<resource_type>[A-Z][A-Za-z]{0,63})/?$", views.search, name="search"),
    re_path(r"^(?P<resource_type>[A-Z][A-Za-z]{0,63})/(?P<resource_id>[^/]+)/?$", views.read, name="read"),
    re_path(r"^(?P<path>.*)$", views.unknown, name="unknown"),
]
