from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login

from triggerpoint.accounts import services
from triggerpoint.accounts.decorators import staff_required
from triggerpoint.accounts.forms import LoginForm
from triggerpoint.accounts.models import ApiToken
from triggerpoint.accounts.policy import audit_refusal
from triggerpoint.audit import services as audit
from triggerpoint.core.api_errors import error_response


@require_http_methods(["GET", "POST"])
def login_view(request):
    form = LoginForm(request, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.get_user()
        auth_login(request, user)
        if form.otp_device is not None:
            otp_login(request, form.otp_device)
        audit.record("accounts.session.signed_in", actor=user, clinic=user.clinic)
        return redirect(request.GET.get("next") if _safe_next(request) else "core:home")
    return render(request, "accounts/login.html", {"form": form})


def _safe_next(request) -> bool:
    nxt = request.GET.get("next")
    return bool(nxt) and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}, require_https=False)


@require_POST
def logout_view(request):
    if request.user.is_authenticated:
        audit.record("accounts.session.signed_out", actor=request.user, clinic=request.user.clinic)
    auth_logout(request)
    return redirect("accounts:login")


def lockout_response(request, credentials, *args, **kwargs):
    """django-axes lockout page: say what happened and when to try again (JSON for API clients)."""
    if request.path.startswith("/api/"):
        return error_response(429, "Too many failed sign-in attempts. Wait a few minutes and try again.", request)
    body = render_to_string("accounts/locked.html", request=request)
    return HttpResponse(body, status=429)


@staff_required("token.manage")
def token_list(request):
    tokens = ApiToken.objects.filter(user__clinic=request.user.clinic).select_related("user")
    return render(request, "accounts/tokens.html", {"tokens": tokens})


@staff_required("token.manage")
@require_http_methods(["GET", "POST"])
def token_revoke(request, token_id: int):
    """GET asks for confirmation (what stops working); only the POST revokes."""
    token = ApiToken.objects.select_related("user").filter(pk=token_id).first()
    if token is None or token.user.clinic_id != request.user.clinic_id:
        # Another clinic's token is answered like a missing one (audited as out of scope).
        audit_refusal(request.user, ApiToken, token_id, "token.manage", token.user if token else None)
        raise Http404("No such token.")
    if request.method == "GET":
        return render(request, "accounts/token_revoke.html", {"token": token})
    if services.revoke_token(request.user, token):
        messages.success(request, _("Token %(prefix)s… revoked.") % {"prefix": token.prefix})
    return redirect("accounts:user_detail", user_id=token.user_id)
