from django.urls import path

from triggerpoint.assessment import views

app_name = "assessment"

VISIT = "patients/<uuid:patient_id>/<uuid:visit_id>/"

urlpatterns = [
    path("patients/<uuid:patient_id>/", views.patient_visits, name="patient_visits"),
    path("patients/<uuid:patient_id>/new/", views.create, name="create"),
    path(VISIT, views.visit_page, name="visit"),
    path(VISIT + "save/", views.save, name="save"),
    path(VISIT + "autosave/", views.autosave, name="autosave"),
    path(VISIT + "suggestions/", views.suggestions, name="suggestions"),
    path(VISIT + "exam/", views.exam_add, name="exam_add"),
    path(VISIT + "exam/<uuid:finding_id>/remove/", views.exam_remove, name="exam_remove"),
    path(VISIT + "diagnoses/search/", views.diagnosis_search, name="diagnosis_search"),
    path(VISIT + "diagnoses/", views.diagnosis_add, name="diagnosis_add"),
    path(VISIT + "diagnoses/<uuid:diagnosis_id>/primary/", views.diagnosis_primary, name="diagnosis_primary"),
    path(VISIT + "diagnoses/<uuid:diagnosis_id>/remove/", views.diagnosis_remove, name="diagnosis_remove"),
    path(VISIT + "fibromyalgia/", views.fibromyalgia_check, name="fibromyalgia_check"),
    path(VISIT + "sign-check/", views.sign_check, name="sign_check"),
    path(VISIT + "summary/", views.summary, name="summary"),
    path(VISIT + "summary.pdf", views.summary_pdf, name="summary_pdf"),
    path(VISIT + "for-patient/", views.patient_summary, name="patient_summary"),
    path(VISIT + "for-patient.pdf", views.patient_summary_pdf, name="patient_summary_pdf"),
    path(VISIT + "amend/", views.amend, name="amend"),
]
