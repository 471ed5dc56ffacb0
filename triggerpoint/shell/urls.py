from django.urls import path

from triggerpoint.shell import views

app_name = "core"
urlpatterns = [
    path("", views.home, name="home"),
    path("worklist/", views.worklist, name="worklist"),
    path("portal/", views.portal, name="portal"),
    path("healthz", views.healthz, name="healthz"),
    path("bench/trivial", views.trivial, name="trivial"),
    path("bench/signed-in", views.signed_in_baseline, name="signed_in_baseline"),
]
