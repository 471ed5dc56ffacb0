"""Rows of the role × action matrix for the procedures pages and API.

`rows(patient)` creates the records the routes act on: a draft and a complete
draft for the sign route (dated in the past so it can be signed), and a signed
note for amend. Paths nest the note under the patient, so another clinic's
physician is refused (404) like any record route.
"""

from __future__ import annotations

import io
from datetime import timedelta

from django.utils import timezone

CLINICAL = {"physician", "nurse"}
PHYSICIAN = {"physician"}
DESK_AND_CLINICAL = {"physician", "nurse", "front_desk"}

NOTE = {
    "guidance": "landmark",
    "pre_nrs": 6,
    "post_nrs": 2,
    "observation_minutes": 15,
    "discharge_condition": "stable",
    "timeout_performed": "yes", "timeout_time": "14:05", "site_marked": "yes", "skin_prep_agent": "chlorhexidine_alcohol", "sterile_technique": "aseptic_no_touch",
    "mix": [{"drug": "lidocaine", "concentration_percent": 1, "ml_per_site": 1}],
    "sites": [{"muscle": "upper_trapezius", "side": "left", "technique": "injection"}],
}


def _author(clinic):
    from django.contrib.auth.models import Group

    from triggerpoint.accounts.models import User

    user, created = User.objects.get_or_create(username="rows.procedures.physician", defaults={"clinic": clinic})
    if created:
        user.groups.add(Group.objects.get_or_create(name="physician")[0])
    return user


def _note(patient, author, *, complete: bool, sign: bool = False, guidance: str = "landmark"):
    from triggerpoint.core.context import acting_as
    from triggerpoint.procedures import drafting, signing
    from triggerpoint.procedures.tests.signal_receivers import only_receivers

    on = timezone.localdate() - timedelta(days=1)
    with acting_as(author):
        procedure = drafting.create_draft(author, patient, procedure_date=on, guidance=guidance)
        if complete:
            procedure = drafting.autosave_draft(author, procedure, procedure.version, dict(NOTE, procedure_date=on.isoformat()))
        if sign:
            with only_receivers():
                procedure = signing.sign_procedure(author, procedure, procedure.version)
    return procedure


def tiny_png(size=(4, 3), color=(20, 20, 20)) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


class _PngUpload(str):
    """A file for the test client's multipart encoder that is also a str, so the matrix can `json.dumps` its body."""

    content_type = "image/png"

    def __new__(cls, name="matrix.png"):
        upload = super().__new__(cls, name)
        upload.name = name
        return upload

    def read(self, *_args):
        return tiny_png()


def _image(procedure, author):
    from triggerpoint.core.context import acting_as
    from triggerpoint.procedures import images

    with acting_as(author):
        return images.add_guidance_image(author, procedure, io.BytesIO(tiny_png()), caption="matrix still")


def rows(patient):
    from triggerpoint.patients.models import Patient

    patient.weight_measured_on = timezone.localdate() - timedelta(days=5)
    Patient.objects.filter(pk=patient.pk).update(weight_measured_on=patient.weight_measured_on)
    author = _author(patient.clinic)
    # One record per changing route, so routes run in sequence for one role do not interfere.
    draft = _note(patient, author, complete=False)
    draft_for_api = _note(patient, author, complete=False)
    to_sign = _note(patient, author, complete=True)
    to_sign_by_api = _note(patient, author, complete=True)
    signed = _note(patient, author, complete=True, sign=True)
    to_discard = _note(patient, author, complete=False)
    to_discard_by_api = _note(patient, author, complete=False)
    for_upload = _note(patient, author, complete=False, guidance="ultrasound")
    with_image = _note(patient, author, complete=False, guidance="ultrasound")
    seen_image = _image(with_image, author)
    removed_image = _image(with_image, author)

    pid = patient.public_id
    base = f"/procedures/patients/{pid}"
    api = f"/api/v1/procedures/patients/{pid}/notes"
    document = {"document": '{"sites": [{"muscle": "upper_trapezius", "side": "left"}], "mix": []}'}
    return [
        # pages
        ("procedures:new", "get", f"{base}/new/", None, CLINICAL, {200}),
        ("procedures:note", "get", f"{base}/{signed.public_id}/", None, CLINICAL, {200}),
        ("procedures:edit", "get", f"{base}/{draft.public_id}/edit/", None, CLINICAL, {200}),
        ("procedures:live", "post", f"{base}/{draft.public_id}/live/", document, CLINICAL, {200}),
        ("procedures:suggest", "post", f"{base}/{draft.public_id}/suggest/",
         {"drawing": '[{"zone": "neck-back-l", "intensity": 6}]'}, CLINICAL, {200}),
        # the autosave page endpoint takes form-encoded `document` too (the matrix posts form data)
        ("procedures:autosave", "post", f"{base}/{draft.public_id}/autosave/",
         {"document": '{"version": 1, "notes": "from the matrix"}'}, CLINICAL, {200}),
        ("procedures:sign", "post", f"{base}/{to_sign.public_id}/sign/",
         {"version": str(to_sign.version), "repeat_override_reason": "matrix: same-day notes of one patient"},
         PHYSICIAN, {302}),
        ("procedures:amend", "post", f"{base}/{signed.public_id}/amend/", {"reason": "matrix", "text": "matrix"},
         PHYSICIAN, {302}),
        ("procedures:discard", "post", f"{base}/{to_discard.public_id}/discard/", {"version": "1"}, CLINICAL, {302}),
        ("procedures:pdf", "get", f"{base}/{signed.public_id}/pdf/", None, CLINICAL, {200}),
        ("procedures:image_upload", "post", f"{base}/{for_upload.public_id}/images/",
         {"image": _PngUpload(), "caption": "from the matrix"}, CLINICAL, {302}),
        ("procedures:image", "get", f"{base}/{with_image.public_id}/images/{seen_image.public_id}/", None,
         CLINICAL, {200}),
        ("procedures:image_remove", "post",
         f"{base}/{with_image.public_id}/images/{removed_image.public_id}/remove/", {}, CLINICAL, {302}),
        # API: calculators (no patient data)
        ("api:procedures_dose_check", "post", "/api/v1/procedures/dose-check",
         {"weight_kg": 70, "injectates": [{"drug": "lidocaine", "concentration_percent": 1, "volume_ml": 5}]},
         CLINICAL, {200}),
        ("api:procedures_codes", "post", "/api/v1/procedures/codes",
         {"sites": [{"muscle": "upper_trapezius", "side": "left", "technique": "injection"}], "guidance": "landmark"},
         DESK_AND_CLINICAL, {200}),
        # API: notes
        ("api:procedures_list_notes", "get", api, None, CLINICAL, {200}),
        ("api:procedures_read_note", "get", f"{api}/{signed.public_id}", None, CLINICAL, {200}),
        ("api:procedures_create_note", "post", api, {}, CLINICAL, {201}),
        ("api:procedures_save_note", "put", f"{api}/{draft_for_api.public_id}", dict(NOTE, version=1), CLINICAL, {200}),
        ("api:procedures_sign_note", "post", f"{api}/{to_sign_by_api.public_id}/sign",
         # The matrix's notes share one patient and day, so the payer's same-region interval is overridden.
         {"version": to_sign_by_api.version, "repeat_override_reason": "matrix: same-day notes of one patient"},
         PHYSICIAN, {200}),
        ("api:procedures_amend_note", "post", f"{api}/{signed.public_id}/amendments", {"reason": "r", "text": "t"},
         PHYSICIAN, {201}),
        ("api:procedures_discard_note", "delete", f"{api}/{to_discard_by_api.public_id}?version=1", None, CLINICAL, {204}),
    ]
