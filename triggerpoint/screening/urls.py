from django.urls import path

from triggerpoint.screening import consent_views, patient_views, views

app_name = "screening"

_one = "patient/<uuid:patient_id>/<uuid:screening_id>/"
_consent = _one + "consent/<uuid:consent_id>/"

urlpatterns = [
    path("", views.index, name="index"),
    path("patient/<uuid:patient_id>/", views.patient_screenings, name="patient_screenings"),
    path("patient/<uuid:patient_id>/new/", views.create, name="create"),
    path(_one, views.detail, name="detail"),
    path(_one + "answers/", views.answers, name="answers"),
    path(_one + "evaluate/", views.evaluate, name="evaluate"),
    path(_one + "review/", views.review, name="review"),
    path(_one + "override/", views.override, name="override"),
    path(_one + "send-link/", views.send_link, name="send_link"),
    path(_one + "preparation/", views.preparation, name="preparation"),
    path(_one + "preparation.pdf", views.preparation_pdf, name="preparation_pdf"),
    path(_one + "consent/new/", consent_views.consent_generate, name="consent_generate"),
    path(_consent, consent_views.consent, name="consent"),
    path(_consent + "print.pdf", consent_views.consent_pdf, name="consent_pdf"),
    # The patient's tokenised link: no login, one screening, expires.
    path("q/<str:token>/", patient_views.questionnaire_link, name="questionnaire_link"),
    path("q/<str:token>/preparation/", patient_views.link_preparation, name="link_preparation"),
    path("q/<str:token>/preparation.pdf", patient_views.link_preparation_pdf, name="link_preparation_pdf"),
    # The patient portal.
    path("portal/<uuid:screening_id>/", patient_views.portal_questionnaire, name="portal_questionnaire"),
    path("portal/<uuid:screening_id>/preparation/", patient_views.portal_preparation, name="portal_preparation"),
    path("portal/<uuid:screening_id>/preparation.pdf", patient_views.portal_preparation_pdf, name="portal_preparation_pdf"),
    path("portal/<uuid:screening_id>/consent/<uuid:consent_id>.pdf", consent_views.portal_consent_pdf, name="portal_consent_pdf"),
]
