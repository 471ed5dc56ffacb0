"""Writes the refusals noted during a request (core.context) to the audit log once the response is ready."""

from __future__ import annotations

from triggerpoint.audit.services import record_refusals
from triggerpoint.core import context


class RefusalAuditMiddleware:
    """Sits right inside core's RequestContextMiddleware, so the request's context is still set."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if context.current().refusals:
            record_refusals(context.current().refusals)
        return response
