"""Ultrasound still images on the procedure note: upload, validation, access, immutability, display and PDF."""

from __future__ import annotations

import base64
import hashlib
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction
from PIL import Image

from triggerpoint.audit.models import AuditEvent
from triggerpoint.core.context import acting_as
from triggerpoint.core.errors import ImmutableRecord
from triggerpoint.procedures import drafting, images, signing
from triggerpoint.procedures.models import GuidanceImage

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def draft(on_procedure_day, physician, patient):
    """Stills document ultrasound guidance, so this file's drafts are ultrasound-guided."""
    from triggerpoint.procedures.tests.conftest import PROCEDURE_DAY

    with acting_as(physician):
        return drafting.create_draft(physician, patient, procedure_date=PROCEDURE_DAY, guidance="ultrasound")


@pytest.fixture
def note_payload(note_payload):
    return dict(note_payload, guidance="ultrasound")


def _encode(kind: str, size=(8, 6), color=(30, 60, 90)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format=kind)
    return buffer.getvalue()


PNG = _encode("PNG")
JPEG = _encode("JPEG")


def _upload(data: bytes, name="still.png", content_type="image/png"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def _url(procedure, suffix=""):
    return f"/procedures/patients/{procedure.patient.public_id}/{procedure.public_id}/{suffix}"


def _stored_files(root) -> list:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _add(user, procedure, data=PNG, caption="short axis"):
    with acting_as(user):
        return images.add_guidance_image(user, procedure, io.BytesIO(data), caption=caption)


# ---------------------------------------------------------------- upload


def test_a_clinician_uploads_a_png_to_a_draft(draft, login_as, physician, media_root):
    response = login_as(physician).post(_url(draft, "images/"), {"image": _upload(PNG), "caption": "Needle in trapezius"})
    assert response.status_code == 302 and response["Location"].endswith("edit/#guidance-images")
    image = GuidanceImage.objects.get(procedure=draft)
    assert (image.content_type, image.size_bytes, image.width, image.height) == ("image/png", len(PNG), 8, 6)
    assert image.sha256 == hashlib.sha256(PNG).hexdigest()
    assert image.caption == "Needle in trapezius" and image.uploaded_by == physician and image.clinic == draft.clinic
    # per clinic, random name, nothing about the patient or the original file name
    assert re.fullmatch(rf"guidance/{draft.clinic.public_id}/[0-9a-f]{{32}}\.png", image.image.name)
    assert (media_root / image.image.name).read_bytes() == PNG
    event = AuditEvent.objects.get(action="procedures.guidance_image.uploaded")
    assert event.object_id == str(image.public_id) and event.patient_id == draft.patient_id
    assert event.details["sha256"] == image.sha256


def test_a_jpeg_is_accepted_and_typed_by_its_content_not_its_name(draft, nurse):
    image = _add(nurse, draft, JPEG)
    assert image.content_type == "image/jpeg" and image.image.name.endswith(".jpg")


@pytest.mark.parametrize(
    ("data", "name", "status", "words"),
    [
        (b"just some text, not a picture\n" * 20, "renamed.png", 415, "not a PNG or JPEG"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", "drawing.png", 415, "not a PNG or JPEG"),
        (_encode("GIF"), "anim.png", 415, "only PNG or JPEG"),
        (PNG[: len(PNG) // 2], "cut.png", 422, "damaged"),
        (JPEG[: len(JPEG) - 40], "cut.jpg", 422, "damaged"),
        (_encode("PNG", size=(5000, 4000), color=(0, 0, 0)), "huge.png", 422, "pixels"),
        (b"", "empty.png", 400, "empty"),
    ],
    ids=["text", "svg", "gif", "cut-png", "cut-jpeg", "too-many-pixels", "empty"],
)
def test_a_bad_file_is_refused_with_a_clear_message_and_nothing_is_written(
    draft, login_as, physician, media_root, data, name, status, words
):
    response = login_as(physician).post(_url(draft, "images/"), {"image": _upload(data, name), "caption": "x"})
    assert response.status_code == status
    assert words in response.content.decode()
    assert not GuidanceImage.all_objects.exists()
    assert _stored_files(media_root) == []
    assert not AuditEvent.objects.filter(action="procedures.guidance_image.uploaded").exists()


def test_an_oversize_file_is_refused_413(draft, login_as, physician, media_root):
    data = PNG + b"\0" * (images.GUIDANCE_IMAGE_MAX_BYTES + 1 - len(PNG))
    response = login_as(physician).post(_url(draft, "images/"), {"image": _upload(data)})
    assert response.status_code == 413 and "larger than 10 MB" in response.content.decode()
    assert not GuidanceImage.all_objects.exists() and _stored_files(media_root) == []


def test_an_upload_without_a_file_or_with_a_long_caption_is_refused(draft, login_as, physician):
    client = login_as(physician)
    assert client.post(_url(draft, "images/"), {"caption": "no file"}).status_code == 400
    response = client.post(_url(draft, "images/"), {"image": _upload(PNG), "caption": "x" * 201})
    assert response.status_code == 422 and not GuidanceImage.all_objects.exists()


@pytest.mark.parametrize("who", ["front_desk", "physician_b", "portal"])
def test_upload_and_viewing_are_refused_outside_the_care_team(request, draft, physician, patient, client, who, media_root):
    from triggerpoint.conftest import verified_client

    image = _add(physician, draft)
    user = patient.portal_user if who == "portal" else request.getfixturevalue(who)
    verified_client(client, user)
    response = client.post(_url(draft, "images/"), {"image": _upload(PNG)})
    assert response.status_code in {403, 404}
    assert GuidanceImage.objects.count() == 1
    response = client.get(_url(draft, f"images/{image.public_id}/"))
    assert response.status_code in {403, 404}
    assert not AuditEvent.objects.filter(action="procedures.guidance_image.viewed").exists()
    assert client.post(_url(draft, f"images/{image.public_id}/remove/")).status_code in {403, 404}
    assert GuidanceImage.objects.count() == 1


def test_another_clinic_gets_404(draft, physician, physician_b, client):
    from triggerpoint.conftest import verified_client

    image = _add(physician, draft)
    verified_client(client, physician_b)
    assert client.get(_url(draft, f"images/{image.public_id}/")).status_code == 404


def test_an_image_is_only_reachable_under_its_own_note(draft, physician, patient, login_as):
    image = _add(physician, draft)
    with acting_as(physician):
        other = drafting.create_draft(physician, patient, procedure_date=draft.procedure_date)
    assert login_as(physician).get(_url(other, f"images/{image.public_id}/")).status_code == 404


# ---------------------------------------------------------------- serving


def test_the_image_is_served_with_its_stored_type_nosniff_inline_and_audited(draft, physician, nurse, login_as):
    image = _add(physician, draft, JPEG)
    response = login_as(nurse).get(_url(draft, f"images/{image.public_id}/"))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("inline;")
    assert "no-store" in response["Cache-Control"]
    assert response.content == JPEG
    event = AuditEvent.objects.get(action="procedures.guidance_image.viewed")
    assert event.actor == nurse and event.object_id == str(image.public_id) and event.details["channel"] == "ui"


def test_the_media_url_does_not_serve_the_file(draft, physician, login_as):
    image = _add(physician, draft)
    response = login_as(physician).get(f"/media/{image.image.name}")
    assert response.status_code == 404


def test_a_landmark_note_refuses_ultrasound_stills_409_and_writes_nothing(draft, physician, login_as, media_root):
    draft.guidance = "landmark"
    draft.save()
    with pytest.raises(images.ImageRejected) as refused:
        _add(physician, draft)
    assert refused.value.status == 409 and "ultrasound" in str(refused.value)
    response = login_as(physician).post(_url(draft, "images/"), {"image": _upload(PNG)})
    assert response.status_code == 409
    assert not GuidanceImage.all_objects.exists() and _stored_files(media_root) == []


def test_switching_to_landmark_with_stills_attached_blocks_signing(saved_draft, physician):
    _add(physician, saved_draft)
    saved_draft.refresh_from_db()
    saved_draft.guidance = "landmark"
    saved_draft.save()
    with acting_as(physician), pytest.raises(signing.SigningBlocked) as blocked:
        signing.sign_procedure(physician, saved_draft, saved_draft.version)
    assert any("landmark guidance" in problem for problem in blocked.value.problems)


def test_removing_the_stills_lets_the_landmark_note_sign(saved_draft, physician):
    image = _add(physician, saved_draft)
    saved_draft.refresh_from_db()
    saved_draft.guidance = "landmark"
    saved_draft.save()
    with acting_as(physician):
        images.remove_guidance_image(physician, saved_draft, image)
        saved_draft.refresh_from_db()
        signed = signing.sign_procedure(physician, saved_draft, saved_draft.version)
    assert signed.status == "signed"


# ---------------------------------------------------------------- display


def test_the_editor_offers_the_upload_only_for_ultrasound(draft, physician, login_as):
    client = login_as(physician)
    draft.guidance = "landmark"
    draft.save()
    html = client.get(_url(draft, "edit/")).content.decode()
    assert re.search(r'<section class="card" id="guidance-images"[^>]*\shidden', html)
    draft.guidance = "ultrasound"
    draft.save()
    html = client.get(_url(draft, "edit/")).content.decode()
    assert not re.search(r'<section class="card" id="guidance-images"[^>]*\shidden', html)
    assert 'enctype="multipart/form-data"' in html and 'accept="image/png,image/jpeg"' in html


def test_thumbnails_show_on_the_note_page_and_the_editor(draft, physician, login_as):
    image = _add(physician, draft, caption="Short axis, needle tip")
    client = login_as(physician)
    src = _url(draft, f"images/{image.public_id}/")
    for page in ("", "edit/"):
        html = client.get(_url(draft, page)).content.decode()
        assert f'src="{src}"' in html and "Short axis, needle tip" in html
        assert "/media/" not in html


def test_the_pdf_embeds_the_image_as_a_data_uri(draft, physician, login_as, monkeypatch):
    import weasyprint
    from pypdf import PdfReader

    image = _add(physician, draft, _encode("PNG", size=(40, 30)))
    seen = {}
    real_html = weasyprint.HTML

    def capture(*args, **kwargs):
        seen["html"] = kwargs.get("string")
        return real_html(*args, **kwargs)

    monkeypatch.setattr(weasyprint, "HTML", capture)
    response = login_as(physician).get(_url(draft, "pdf/"))
    assert response.status_code == 200
    with image.image.open("rb") as handle:
        data = handle.read()
    assert f"data:image/png;base64,{base64.b64encode(data).decode()}" in seen["html"]
    assert "/images/" not in seen["html"]  # no fetch back through the web server
    assert any(page.images for page in PdfReader(io.BytesIO(response.content)).pages)
    assert AuditEvent.objects.filter(action="procedures.guidance_image.viewed", details__channel="pdf").exists()


# ---------------------------------------------------------------- removal and immutability


def test_removing_a_draft_image_is_a_soft_delete_and_audited(draft, physician, login_as, media_root):
    image = _add(physician, draft)
    response = login_as(physician).post(_url(draft, f"images/{image.public_id}/remove/"))
    assert response.status_code == 302
    assert not GuidanceImage.objects.filter(pk=image.pk).exists()
    assert GuidanceImage.all_objects.get(pk=image.pk).deleted_at is not None
    assert (media_root / image.image.name).exists()  # the file is kept with the soft-deleted row
    assert AuditEvent.objects.filter(action="procedures.guidance_image.removed", object_id=str(image.public_id)).exists()
    assert login_as(physician).get(_url(draft, f"images/{image.public_id}/")).status_code == 404
    assert str(image.public_id) not in login_as(physician).get(_url(draft)).content.decode()


@pytest.fixture
def signed_with_image(saved_draft, physician):
    image = _add(physician, saved_draft)
    with acting_as(physician):
        signed = signing.sign_procedure(physician, saved_draft, saved_draft.version)
    return signed, GuidanceImage.objects.get(pk=image.pk)


def test_the_service_refuses_to_add_or_remove_images_once_signed(signed_with_image, physician, media_root):
    signed, image = signed_with_image
    files_before = _stored_files(media_root)
    with pytest.raises(ImmutableRecord):
        _add(physician, signed)
    with pytest.raises(ImmutableRecord), acting_as(physician):
        images.remove_guidance_image(physician, signed, image)
    assert GuidanceImage.objects.filter(procedure=signed).count() == 1
    assert _stored_files(media_root) == files_before  # the refused upload left no file behind


def test_the_model_refuses_to_change_add_or_remove_images_of_a_signed_note(signed_with_image, physician):
    signed, image = signed_with_image
    image.caption = "changed"
    with pytest.raises(ImmutableRecord):
        image.save()
    with pytest.raises(ImmutableRecord):
        image.soft_delete()
    with pytest.raises(ImmutableRecord):
        GuidanceImage(clinic=signed.clinic, procedure=signed, uploaded_by=physician, content_type="image/png",
                      size_bytes=1, sha256="0" * 64, width=1, height=1, image="guidance/x.png").save()
    assert GuidanceImage.objects.get(pk=image.pk).caption == "short axis"


def test_the_pages_refuse_upload_and_removal_once_signed(signed_with_image, physician, login_as):
    signed, image = signed_with_image
    client = login_as(physician)
    response = client.post(_url(signed, "images/"), {"image": _upload(PNG)})
    assert response.status_code == 302 and response["Location"] == _url(signed)
    response = client.post(_url(signed, f"images/{image.public_id}/remove/"))
    assert response.status_code == 302 and response["Location"] == _url(signed)
    assert GuidanceImage.objects.filter(procedure=signed).count() == 1
    assert client.get(_url(signed, f"images/{image.public_id}/")).status_code == 200


def _raw(sql: str, params=()) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_the_database_refuses_raw_changes_to_images_of_a_signed_note(signed_with_image):
    signed, image = signed_with_image
    with pytest.raises(IntegrityError):
        _raw("UPDATE procedures_guidanceimage SET caption = 'x' WHERE id = %s", [image.pk])
    with pytest.raises(IntegrityError):
        _raw("UPDATE procedures_guidanceimage SET deleted_at = created_at WHERE id = %s", [image.pk])
    with pytest.raises(IntegrityError):
        _raw("DELETE FROM procedures_guidanceimage WHERE id = %s", [image.pk])
    with pytest.raises(IntegrityError):
        _raw(
            "INSERT INTO procedures_guidanceimage (public_id, clinic_id, created_at, updated_at, version, procedure_id,"
            " image, caption, uploaded_by_id, uploaded_at, content_type, size_bytes, sha256, width, height)"
            " SELECT %s, clinic_id, created_at, updated_at, 1, procedure_id, 'guidance/x.png', '', uploaded_by_id,"
            " uploaded_at, 'image/png', 1, '', 1, 1 FROM procedures_guidanceimage WHERE id = %s",
            ["0" * 32, image.pk],
        )
    assert GuidanceImage.objects.get(pk=image.pk).caption == "short axis"


def test_the_database_allows_changes_to_draft_images(draft, physician):
    image = _add(physician, draft)
    _raw("UPDATE procedures_guidanceimage SET caption = 'edited' WHERE id = %s", [image.pk])
    assert GuidanceImage.objects.get(pk=image.pk).caption == "edited"


@pytest.mark.django_db(transaction=True)
def test_flush_empties_a_database_holding_images_of_signed_notes(signed_with_image):
    from django.core.management import call_command

    from triggerpoint.procedures.tests.test_immutability import test_the_triggers_exist_after_all_migrations

    call_command("flush", interactive=False, verbosity=0, inhibit_post_migrate=True)
    assert not GuidanceImage.all_objects.exists()
    test_the_triggers_exist_after_all_migrations()
