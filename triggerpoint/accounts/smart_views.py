"""SMART Backend Services endpoints: the token endpoint and the discovery document.

Both are public by design: the token endpoint authenticates the client by its signed assertion
(`accounts.smart`), and the discovery document holds no data. The token endpoint takes no
session and no CSRF token (a machine posts to it); it answers RFC 6749 JSON only, with
``Cache-Control: no-store`` as §5.1 requires, and never an HTML error page.
"""

from __future__ import annotations

from django.http import JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from triggerpoint.accounts import smart

FORM_TYPE = "application/x-www-form-urlencoded"


def _json(body: dict, status: int = 200) -> JsonResponse:
    response = JsonResponse(body, status=status)
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response


@csrf_exempt
def token(request):
    """POST /accounts/smart/token (form-encoded): client_credentials with a private_key_jwt assertion."""
    try:
        if request.method != "POST":
            raise smart.TokenError("invalid_request", "Use POST, form-encoded.", 405)
        if request.content_type != FORM_TYPE:
            raise smart.TokenError("invalid_request", f"The body must be {FORM_TYPE}.")
        if any(len(values) > 1 for _name, values in request.POST.lists()):
            raise smart.TokenError("invalid_request", "A parameter was given more than once.")
        form = {name: value for name, value in request.POST.items()}
        here = request.build_absolute_uri(reverse("accounts:smart_token"))
        body = smart.issue_token(form, audiences={smart.token_endpoint_url(), here})
    except smart.TokenError as exc:
        response = _json(exc.body(), exc.status)
        if exc.status == 405:
            response["Allow"] = "POST"
        return response
    return _json(body)


@require_GET
def smart_configuration(request):
    """GET /.well-known/smart-configuration: how to obtain a token and which scopes exist."""
    response = JsonResponse(smart.smart_configuration(request.build_absolute_uri(reverse("accounts:smart_token"))))
    response["Access-Control-Allow-Origin"] = "*"  # public metadata, readable by browser-based tools
    return response
