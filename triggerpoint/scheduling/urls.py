from django.urls import path

from triggerpoint.scheduling import patient_views, views

app_name = "scheduling"

urlpatterns = [
    path("", views.day_view, name="day"),
    path("week/", views.week_view, name="week"),
    path("book/", views.book, name="book"),
    path("patients/<uuid:patient_id>/appointments/<uuid:public_id>/move/", views.move, name="move"),
    path("patients/<uuid:patient_id>/appointments/<uuid:public_id>/status/", views.step, name="step"),
    path("patients/<uuid:patient_id>/appointments/<uuid:public_id>/cancel/", views.cancel, name="cancel"),
    path("patients/<uuid:patient_id>/appointments/<uuid:public_id>/no-show/", views.no_show, name="no_show"),
    # The patient's tokenised link (no login): confirm the visit or ask for another time.
    path("a/<str:token>/", patient_views.appointment_link, name="patient_link"),
]
