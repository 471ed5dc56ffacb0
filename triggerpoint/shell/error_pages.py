"""The 403 and 404 pages: the staff shell for staff, the patient shell in the patient's language otherwise.

Django's default handlers render one template for everyone. A patient who follows an old link or
opens a page that is not theirs is not staff: they get the plain patient page, in the language
their chart records (a signed-in portal patient), or else the one their browser asks for
(`LocaleMiddleware`; an anonymous visitor is most often a patient following a link). Neither
page says whether the record exists in another clinic or for another patient.
"""

from __future__ import annotations

from django.shortcuts import render
from django.utils import translation


def _is_staff(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.clinic_id)


def _patient_language(user) -> str | None:
    patient = getattr(user, "portal_patient", None) if user is not None and user.is_authenticated else None
    return getattr(patient, "preferred_language", None)


def _render(request, status: int):
    user = getattr(request, "user", None)
    if _is_staff(user):
        return render(request, f"{status}.html", status=status)
    language = _patient_language(user) or translation.get_language()
    with translation.override(language):
        response = render(request, f"patient_{status}.html", status=status)
        response["Content-Language"] = language
    return response


def page_not_found(request, exception=None):
    return _render(request, 404)


def permission_denied(request, exception=None):
    return _render(request, 403)
