from django.urls import path

from triggerpoint.patients import views

app_name = "patients"
urlpatterns = [
    path("", views.patient_search, name="search"),
    path("new/", views.patient_create, name="create"),
    path("merge/", views.patient_merge, name="merge"),
    path("<uuid:public_id>/", views.patient_chart, name="chart"),
    path("<uuid:public_id>/edit/", views.patient_edit, name="edit"),
    path("<uuid:public_id>/timeline/", views.patient_timeline, name="timeline"),
    path("<uuid:public_id>/add/<slug:kind>/", views.patient_add_clinical, name="add_clinical"),
    path("<uuid:public_id>/imported/<uuid:item_id>/classified/", views.imported_item_classified,
         name="imported_item_classified"),
]
