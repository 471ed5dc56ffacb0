from django.urls import path

from triggerpoint.billing import views

app_name = "billing"

urlpatterns = [
    path("", views.worklist, name="worklist"),
    path("mark/", views.mark_billed, name="mark_billed"),
    path("<uuid:public_id>/reopen/", views.reopen, name="reopen"),
    path("export.csv", views.export, name="export"),
]
