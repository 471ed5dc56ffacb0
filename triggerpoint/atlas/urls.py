from django.urls import path

from triggerpoint.atlas import views

app_name = "atlas"
urlpatterns = [
    path("", views.index, name="index"),
    path("muscles/<slug:muscle_id>/", views.muscle_detail, name="muscle"),
    path("drawing/", views.drawing_sandbox, name="drawing"),
]
