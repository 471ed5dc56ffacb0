from django.urls import path

from triggerpoint.followup import views

app_name = "followup"
urlpatterns = [
    # patient: tokenised links (no login)
    path("c/<str:token>/", views.checkin_link, name="checkin_link"),
    path("c/<str:token>/report/", views.checkin_link_report, name="checkin_link_report"),
    path("r/<str:token>/", views.report_link, name="report_link"),
    # patient: portal
    path("my/checkins/<uuid:checkin_id>/", views.portal_checkin, name="portal_checkin"),
    path("my/report/", views.portal_report_start, name="portal_report_start"),
    path("my/report/<uuid:procedure_id>/", views.portal_report, name="portal_report"),
    # staff
    path("p/<uuid:patient_id>/alerts/<uuid:alert_id>/", views.alert_detail, name="alert"),
    path("p/<uuid:patient_id>/alerts/<uuid:alert_id>/acknowledge/", views.alert_acknowledge, name="alert_acknowledge"),
    path("p/<uuid:patient_id>/alerts/<uuid:alert_id>/resolve/", views.alert_resolve, name="alert_resolve"),
    path("p/<uuid:patient_id>/checkins/<uuid:checkin_id>/", views.checkin_detail, name="checkin"),
    path("p/<uuid:patient_id>/checkins/<uuid:checkin_id>/review/", views.checkin_review, name="checkin_review"),
    path("p/<uuid:patient_id>/call-notes/", views.call_note, name="call_note"),
    path("oncall/", views.oncall, name="oncall"),
]
