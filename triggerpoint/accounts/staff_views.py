"""The clinic admin's Users page, and the enrolment page a new or reset staff member opens from their email.

The pages only read and call `accounts.services`; the rules live there. Another clinic's
account id answers 404 (and the refusal is audited), as every record route does; a role
without `user.manage` gets 403. Destructive steps (deactivate, reset, revoke a token) show
a confirmation page first (GET) and act only on its POST.
"""

from __future__ import annotations

import re

from django.contrib import messages
from django.contrib.auth import authenticate
from django.contrib.auth import login as auth_login
from django.db.models import Exists, OuterRef
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from triggerpoint.accounts import mfa, services, smart, smart_clients
from triggerpoint.accounts.decorators import staff_required
from triggerpoint.accounts.forms import EnrolForm, RolesForm, SmartClientForm, StaffUserForm, TokenForm
from triggerpoint.accounts.models import ApiToken, EnrolmentLink, SmartClient, User
from triggerpoint.accounts.policy import audit_refusal
from triggerpoint.audit import services as audit


def _staff_of_my_clinic(request, user_id: int) -> User:
    """A staff account of the admin's clinic; 404 (audited) for anything else, so ids never leak."""
    user = User.objects.filter(pk=user_id).select_related("clinic").first()
    if user is None or user.clinic_id is None or user.clinic_id != request.user.clinic_id:
        audit_refusal(request.user, User, user_id, "user.manage", user if user and user.clinic_id else None)
        raise Http404("No such user.")
    return user


def _clinic_users(admin: User):
    devices = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
    links = EnrolmentLink.objects.open().filter(user=OuterRef("pk"))
    return (User.objects.filter(clinic_id=admin.clinic_id)
            .annotate(has_second_factor=Exists(devices), enrolment_pending=Exists(links))
            .prefetch_related("groups").order_by("-is_active", "last_name", "first_name", "username"))


@staff_required("user.manage")
def user_list(request):
    return render(request, "accounts/users.html", {"users": _clinic_users(request.user)})


@staff_required("user.manage")
@require_http_methods(["GET", "POST"])
def user_create(request):
    form = StaffUserForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                user = services.create_staff_user(request.user, username=data["username"], email=data["email"],
                                                  roles=data["roles"], first_name=data["first_name"],
                                                  last_name=data["last_name"])
            except services.Refused as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("%(name)s was added. An enrolment link was emailed to %(email)s.")
                                 % {"name": user.get_full_name() or user.username, "email": user.email})
                return redirect("accounts:user_detail", user_id=user.pk)
        return render(request, "accounts/user_form.html", {"form": form}, status=400)
    return render(request, "accounts/user_form.html", {"form": form})


def _detail(request, user: User, *, roles_form=None, token_form=None, error: str = "", status: int = 200):
    tokens = ApiToken.objects.filter(user=user)
    context = {
        "account": user,
        "is_self": user.pk == request.user.pk,
        "has_second_factor": mfa.has_confirmed_device(user),
        "open_link": EnrolmentLink.objects.open().filter(user=user).first(),
        "roles_form": roles_form or RolesForm(initial={"roles": sorted(user.roles)}),
        "token_form": token_form or TokenForm(),
        "tokens": tokens,
        "error": error,
    }
    return render(request, "accounts/user_detail.html", context, status=status)


@staff_required("user.manage")
def user_detail(request, user_id: int):
    return _detail(request, _staff_of_my_clinic(request, user_id))


@staff_required("user.manage")
@require_POST
def user_roles(request, user_id: int):
    user = _staff_of_my_clinic(request, user_id)
    form = RolesForm(request.POST)
    if not form.is_valid():
        return _detail(request, user, roles_form=form, status=400)
    try:
        changed = services.change_roles(request.user, user, form.cleaned_data["roles"])
    except services.Refused as exc:
        return _detail(request, user, roles_form=form, error=str(exc), status=400)
    if changed:
        messages.success(request, _("Roles of %(name)s saved.") % {"name": user.username})
    return redirect("accounts:user_detail", user_id=user.pk)


def _confirm(request, user: User, *, title: str, consequence: str, button: str):
    return render(request, "accounts/confirm.html",
                  {"account": user, "title": title, "consequence": consequence, "button": button})


@staff_required("user.manage")
@require_http_methods(["GET", "POST"])
def user_deactivate(request, user_id: int):
    user = _staff_of_my_clinic(request, user_id)
    if request.method == "GET":
        return _confirm(request, user, title=_("Deactivate %(name)s?") % {"name": user.username},
                        consequence=_("They are signed out at once and cannot sign in. Their API tokens are revoked "
                                      "and any enrolment link stops working. You can reactivate the account later."),
                        button=_("Deactivate"))
    try:
        if services.deactivate(request.user, user):
            messages.success(request, _("%(name)s was deactivated.") % {"name": user.username})
    except services.Refused as exc:
        return _detail(request, user, error=str(exc), status=400)
    return redirect("accounts:user_detail", user_id=user.pk)


@staff_required("user.manage")
@require_POST
def user_reactivate(request, user_id: int):
    user = _staff_of_my_clinic(request, user_id)
    if services.reactivate(request.user, user):
        messages.success(request, _("%(name)s can sign in again.") % {"name": user.username})
    return redirect("accounts:user_detail", user_id=user.pk)


@staff_required("user.manage")
@require_http_methods(["GET", "POST"])
def user_reset_second_factor(request, user_id: int):
    user = _staff_of_my_clinic(request, user_id)
    if request.method == "GET":
        return _confirm(request, user, title=_("Reset the second factor of %(name)s?") % {"name": user.username},
                        consequence=_("Their authenticator app stops working and they are signed out. A one-time "
                                      "link is emailed to %(email)s: with it and their password they set up the app "
                                      "again.") % {"email": user.email or _("(no email address)")},
                        button=_("Reset and email a link"))
    try:
        services.reset_second_factor(request.user, user)
    except services.Refused as exc:
        return _detail(request, user, error=str(exc), status=400)
    messages.success(request, _("A new enrolment link was emailed to %(email)s.") % {"email": user.email})
    return redirect("accounts:user_detail", user_id=user.pk)


@never_cache
@staff_required("token.manage")
@require_POST
def user_token_create(request, user_id: int):
    """Issue a token; the secret is in this one response only (never stored, never cached)."""
    user = _staff_of_my_clinic(request, user_id)
    form = TokenForm(request.POST)
    if not form.is_valid():
        return _detail(request, user, token_form=form, status=400)
    try:
        token, raw = services.create_token(request.user, user, name=form.cleaned_data["name"],
                                           expires_days=form.cleaned_data["expires_days"])
    except services.Refused as exc:
        return _detail(request, user, token_form=form, error=str(exc), status=400)
    return render(request, "accounts/token_created.html", {"account": user, "token": token, "raw": raw}, status=201)


# ------------------------------------------------------------------ SMART Backend Services clients
def _smart_client_of_my_clinic(request, client_pk: int) -> SmartClient:
    """A SMART client of the admin's clinic; 404 (audited) for anything else, so ids never leak."""
    client = SmartClient.objects.filter(pk=client_pk).first()
    if client is None or client.clinic_id != request.user.clinic_id:
        audit_refusal(request.user, SmartClient, client_pk, "smart_client.manage", client)
        raise Http404("No such client.")
    return client


@staff_required("smart_client.manage")
def smart_client_list(request):
    clients = SmartClient.objects.filter(clinic_id=request.user.clinic_id).select_related("created_by")
    return render(request, "accounts/smart_clients.html",
                  {"clients": clients, "token_endpoint": smart.token_endpoint_url()})


@staff_required("smart_client.manage")
@require_http_methods(["GET", "POST"])
def smart_client_create(request):
    form = SmartClientForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                client = smart_clients.register_client(request.user, name=data["name"], keys=data["keys"],
                                                       scopes=data["scopes"])
            except services.Refused as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("%(name)s is registered. Give the client its client_id: %(id)s.")
                                 % {"name": client.name, "id": client.client_id})
                return redirect("accounts:smart_client_detail", client_pk=client.pk)
        return render(request, "accounts/smart_client_form.html", {"form": form}, status=400)
    return render(request, "accounts/smart_client_form.html", {"form": form})


@staff_required("smart_client.manage")
def smart_client_detail(request, client_pk: int):
    client = _smart_client_of_my_clinic(request, client_pk)
    return render(request, "accounts/smart_client_detail.html",
                  {"client": client, "token_endpoint": smart.token_endpoint_url()})


@staff_required("smart_client.manage")
@require_http_methods(["GET", "POST"])
def smart_client_deactivate(request, client_pk: int):
    client = _smart_client_of_my_clinic(request, client_pk)
    if request.method == "GET":
        return render(request, "accounts/smart_client_deactivate.html", {"client": client})
    if smart_clients.deactivate_client(request.user, client):
        messages.success(request, _("%(name)s was deactivated: it gets no new tokens and its current ones stopped "
                                    "working.") % {"name": client.name})
    return redirect("accounts:smart_client_detail", client_pk=client.pk)


# ------------------------------------------------------------------ enrolment (public, token-gated)
@never_cache
@require_http_methods(["GET", "POST"])
def enrol(request, token: str):
    try:
        link = services.open_enrolment(token)
    except services.EnrolmentInvalid:
        return render(request, "accounts/enrol_invalid.html", status=404)
    user = link.user
    device = mfa.pending_totp(user)
    form = EnrolForm(request.POST or None, user=user)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            password_ok = form.new_account or authenticate(
                request, username=user.username, password=form.cleaned_data["password"]) is not None
            if not password_ok:
                form.add_error("password", _("That password is not right."))
            else:
                try:
                    device = services.complete_enrolment(link, code=form.cleaned_data["code"],
                                                         new_password=form.cleaned_data.get("new_password1") or None)
                except services.EnrolmentInvalid:
                    return render(request, "accounts/enrol_invalid.html", status=404)
                except services.Refused as exc:
                    form.add_error("code", str(exc))
                else:
                    user.refresh_from_db()
                    auth_login(request, user, backend="triggerpoint.accounts.backends.ClinicAwareBackend")
                    otp_login(request, device)
                    audit.record("accounts.session.signed_in", actor=user, clinic=user.clinic,
                                 details={"via": "enrolment"})
                    messages.success(request, _("Your authenticator app is set up. From now on, sign in with your "
                                                "password and its code."))
                    return redirect("core:home")
    return render(request, "accounts/enrol.html", {
        "form": form, "account": user, "link": link,
        "secret_groups": " ".join(re.findall(".{1,4}", mfa.base32_secret(device))),  # easier to type by hand
        "qr": mfa.qr_data_uri(device),
    }, status=status)
