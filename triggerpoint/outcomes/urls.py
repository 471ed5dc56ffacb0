from django.urls import path

from triggerpoint.outcomes import views

app_name = "outcomes"

urlpatterns = [
    path("patients/<uuid:public_id>/", views.patient_outcomes, name="patient"),
    path("patients/<uuid:public_id>/repeat/", views.repeat_decision, name="repeat"),
    path("patients/<uuid:public_id>/measurements/", views.record_measurement, name="record"),
    path("analytics/", views.dashboard, name="dashboard"),
    path("analytics/export.<str:fmt>", views.export_report, name="export"),
    path("analytics/research.<str:fmt>", views.export_deidentified, name="export_deidentified"),
    path("r/<str:token>/", views.respond, name="respond"),
    path("portal/questionnaires/<uuid:public_id>/", views.portal_request, name="portal_request"),
    path("portal/diary/", views.diary, name="diary"),
]
