"""Guidance images (ultrasound stills) of a procedure note: part of the draft, frozen with the signed note.

Uploads are verified by content (PNG or JPEG, size and pixel limits) before anything is
written; every read of the bytes is audited.
"""

from __future__ import annotations

import base64
import hashlib
import io
import struct
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.db import transaction
from PIL import Image, UnidentifiedImageError

from triggerpoint.accounts.policy import require
from triggerpoint.audit import services as audit
from triggerpoint.core.rules import RuleInputError
from triggerpoint.procedures.drafting import locked_for_update, refuse_if_signed
from triggerpoint.procedures.models import Guidance, GuidanceImage, Procedure

GUIDANCE_IMAGE_MAX_BYTES = 10 * 1024 * 1024
# 4096 x 4096: far above any ultrasound still, small enough to decode safely.
GUIDANCE_IMAGE_MAX_PIXELS = 4096 * 4096
GUIDANCE_IMAGE_CAPTION_MAX = 200
GUIDANCE_IMAGE_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg"}


class ImageRejected(RuleInputError):
    """The upload is not an acceptable image; `status` is the HTTP status to answer with."""

    def __init__(self, problems: list[str] | str, status: int = 422):
        super().__init__(problems)
        self.status = status


@dataclass(frozen=True)
class CheckedImage:
    data: bytes
    content_type: str
    width: int
    height: int
    sha256: str


def check_image(upload) -> CheckedImage:
    """Read and verify an uploaded still: PNG or JPEG (by content, never by name), size and pixel limits.

    Raises `ImageRejected` (nothing is written) with 400 for no file, 413 for too large,
    415 for anything that is not a PNG or JPEG, 422 for a damaged or oversized image.
    """
    if upload is None:
        raise ImageRejected("choose a PNG or JPEG image to upload", status=400)
    limit_mb = GUIDANCE_IMAGE_MAX_BYTES // (1024 * 1024)
    declared = getattr(upload, "size", None)
    if declared is not None and declared > GUIDANCE_IMAGE_MAX_BYTES:
        raise ImageRejected(f"the image is larger than {limit_mb} MB", status=413)
    data = upload.read(GUIDANCE_IMAGE_MAX_BYTES + 1)
    if len(data) > GUIDANCE_IMAGE_MAX_BYTES:
        raise ImageRejected(f"the image is larger than {limit_mb} MB", status=413)
    if not data:
        raise ImageRejected("the file is empty", status=400)
    unreadable = (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error, Image.DecompressionBombError)
    try:
        with Image.open(io.BytesIO(data)) as probe:
            kind = probe.format
            width, height = probe.size
    except (UnidentifiedImageError, *unreadable) as error:
        if data.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")):
            raise ImageRejected("the image is damaged and could not be read", status=422) from error
        raise ImageRejected("the file is not a PNG or JPEG image", status=415) from error
    if kind not in GUIDANCE_IMAGE_TYPES:
        raise ImageRejected(f"only PNG or JPEG images are accepted (this file is {kind or 'unknown'})", status=415)
    if width < 1 or height < 1 or width * height > GUIDANCE_IMAGE_MAX_PIXELS:
        raise ImageRejected(
            f"the image is {width} x {height} pixels; at most {GUIDANCE_IMAGE_MAX_PIXELS:,} pixels are accepted",
            status=422,
        )
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()  # structure and checksums
        with Image.open(io.BytesIO(data)) as image:
            image.load()  # and it decodes to the end (verify does not read JPEG data)
    except unreadable as error:
        raise ImageRejected(f"the {kind} image is damaged and could not be read", status=422) from error
    return CheckedImage(
        data=data,
        content_type=GUIDANCE_IMAGE_TYPES[kind],
        width=width,
        height=height,
        sha256=hashlib.sha256(data).hexdigest(),
    )


def add_guidance_image(user, procedure: Procedure, upload, *, caption: str = "") -> GuidanceImage:
    """Attach a verified ultrasound still to a draft note (refused once signed; nothing written on a bad file)."""
    require(user, "procedure.edit", procedure)
    caption = (caption or "").strip()
    if len(caption) > GUIDANCE_IMAGE_CAPTION_MAX:
        raise ImageRejected(f"the caption is longer than {GUIDANCE_IMAGE_CAPTION_MAX} characters", status=422)
    checked = check_image(upload)
    stored_name = None
    image = None
    try:
        with transaction.atomic():
            current = locked_for_update(procedure)
            refuse_if_signed(current)
            if current.guidance != Guidance.ULTRASOUND:
                raise ImageRejected(
                    "ultrasound still images belong to an ultrasound-guided note: set guidance to ultrasound first",
                    status=409,
                )
            image = GuidanceImage(
                clinic=current.clinic,
                procedure=current,
                caption=caption,
                uploaded_by=user,
                content_type=checked.content_type,
                size_bytes=len(checked.data),
                sha256=checked.sha256,
                width=checked.width,
                height=checked.height,
            )
            # FileField.save writes the file (random per-clinic path) and then the row.
            image.image.save("upload", ContentFile(checked.data), save=False)
            stored_name = image.image.name
            image.save()
            audit.record(
                "procedures.guidance_image.uploaded",
                obj=image,
                patient=current.patient,
                details={
                    "procedure": str(current.public_id),
                    "content_type": checked.content_type,
                    "size_bytes": len(checked.data),
                    "sha256": checked.sha256,
                    "width": checked.width,
                    "height": checked.height,
                },
            )
    except BaseException:
        if stored_name:
            image.image.storage.delete(stored_name)  # the row was not written: leave no orphan file
        raise
    return image


@transaction.atomic
def remove_guidance_image(user, procedure: Procedure, image: GuidanceImage) -> None:
    """Take an image off a draft note: a soft delete (row and file kept, hidden from the note)."""
    require(user, "procedure.edit", procedure)
    current = locked_for_update(procedure)
    refuse_if_signed(current)
    if image.procedure_id != current.pk:
        raise RuleInputError("the image belongs to another note")
    image.soft_delete()
    audit.record(
        "procedures.guidance_image.removed",
        obj=image,
        patient=current.patient,
        details={"procedure": str(current.public_id), "sha256": image.sha256},
    )


def read_guidance_image(user, procedure: Procedure, image: GuidanceImage, *, channel: str = "ui") -> bytes:
    """The stored bytes of one image, with the read audited."""
    require(user, "procedure.view", procedure)
    return read_guidance_image_granted(procedure, image, channel=channel)


def read_guidance_image_granted(procedure: Procedure, image: GuidanceImage, *, channel: str) -> bytes:
    """The stored bytes of one image for a caller already granted the note (the FHIR interface asks the
    policy or a SMART grant first; `read_guidance_image` asks it here), with the read audited."""
    if image.procedure_id != procedure.pk:
        raise RuleInputError("the image belongs to another note")
    with image.image.open("rb") as handle:
        data = handle.read()
    audit.record(
        "procedures.guidance_image.viewed",
        obj=image,
        patient=procedure.patient,
        details={"procedure": str(procedure.public_id), "channel": channel},
    )
    return data


def guidance_image_data_uri(user, procedure: Procedure, image: GuidanceImage, *, channel: str = "pdf") -> str:
    """The image inlined as a data: URI (for the PDF), audited as a read."""
    data = read_guidance_image(user, procedure, image, channel=channel)
    return f"data:{image.content_type};base64,{base64.b64encode(data).decode('ascii')}"
