from django.urls import path

from triggerpoint.aftercare import views

app_name = "aftercare"

plan = "patient/<uuid:patient_id>/plan/<uuid:plan_id>/"
link = "p/<str:token>/"

urlpatterns = [
    # Education library: no patient data, open to anyone (patients arrive from a link, not signed in).
    path("learn/", views.library, name="library"),
    path("learn/<slug:slug>/", views.article, name="article"),
    # A plan, for its patient (portal) and the clinic's clinicians.
    path(plan, views.plan_page, name="plan"),
    path(plan + "print.pdf", views.plan_pdf, name="plan_pdf"),
    path(plan + "calendar.ics", views.plan_ics, name="plan_ics"),
    path(plan + "check/", views.plan_check, name="plan_check"),
    path(plan + "reminders/stop/", views.plan_stop_reminders, name="plan_stop_reminders"),
    path("patient/<uuid:patient_id>/procedure/<uuid:procedure_id>/plan/", views.create_plan, name="create_plan"),
    # The same plan through the tokenised link sent in the first message (no sign-in; this plan only).
    path(link, views.link_plan, name="link_plan"),
    path(link + "print.pdf", views.link_pdf, name="link_pdf"),
    path(link + "calendar.ics", views.link_ics, name="link_ics"),
    path(link + "check/", views.link_check, name="link_check"),
    path(link + "reminders/stop/", views.link_stop_reminders, name="link_stop_reminders"),
]
