"""Request-scoped context: a request id on every response and the acting user for audit."""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import replace

from django.conf import settings
from django.utils import timezone

from triggerpoint.core import context
from triggerpoint.core.client_ip import client_ip

_REQUEST_ID_OK = re.compile(r"^[A-Za-z0-9._-]{8,64}$")




class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _REQUEST_ID_OK.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = context.set_context(context.RequestContext(request_id=request_id, ip=client_ip(request)))
        try:
            response = self.get_response(request)  # audit.middleware writes the noted refusals inside
        finally:
            context.reset_context(token)
        response["X-Request-ID"] = request_id
        return response


class ActorContextMiddleware:
    """After authentication, record the user in the request context."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            ctx = context.current()
            token = context.set_context(replace(ctx, actor=user))
            try:
                return self.get_response(request)
            finally:
                context.reset_context(token)
        return self.get_response(request)


class IdleSessionTimeoutMiddleware:
    """Sessions end after SESSION_COOKIE_AGE seconds without activity.

    Saving the session on every request (SESSION_SAVE_EVERY_REQUEST) would
    cost a database write per page view; instead the expiry is pushed
    forward at most once per SESSION_TOUCH_INTERVAL seconds, so the idle
    limit is exact to within that interval.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.interval = getattr(settings, "SESSION_TOUCH_INTERVAL", 60)

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is not None and session.session_key and not session.is_empty():
            now = int(time.time())
            if now - session.get("_touched", 0) >= self.interval:
                session["_touched"] = now  # marks the session modified: saved with a fresh expiry
        return response


class ClinicTimeZoneMiddleware:
    """Show times in the clinic's own time zone (storage stays UTC)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        clinic = None
        if user is not None and user.is_authenticated:
            clinic = user.clinic if user.clinic_id else getattr(user.portal_patient, "clinic", None)
        # `override` puts back what was active before (nothing, in a server), also after the API's token
        # authentication activated its user's clinic inside the request.
        with timezone.override(clinic.zone if clinic is not None else None):
            return self.get_response(request)
