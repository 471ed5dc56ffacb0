from django.urls import path

from triggerpoint.procedures import views

app_name = "procedures"

# Notes are nested under their patient: a note id alone never reaches a record of another patient.
NOTE = "patients/<uuid:patient_id>/<uuid:procedure_id>/"

urlpatterns = [
    path("patients/<uuid:patient_id>/new/", views.new_note, name="new"),
    path(NOTE, views.note, name="note"),
    path(NOTE + "edit/", views.edit_note, name="edit"),
    path(NOTE + "autosave/", views.autosave, name="autosave"),
    path(NOTE + "live/", views.live, name="live"),
    path(NOTE + "suggest/", views.suggest, name="suggest"),
    path(NOTE + "sign/", views.sign, name="sign"),
    path(NOTE + "amend/", views.amend, name="amend"),
    path(NOTE + "discard/", views.discard, name="discard"),
    path(NOTE + "pdf/", views.pdf, name="pdf"),
    path(NOTE + "images/", views.image_upload, name="image_upload"),
    path(NOTE + "images/<uuid:image_id>/", views.image, name="image"),
    path(NOTE + "images/<uuid:image_id>/remove/", views.image_remove, name="image_remove"),
]
