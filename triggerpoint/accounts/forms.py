from __future__ import annotations

from django import forms
from django.contrib.auth import user_login_failed
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.password_validation import validate_password
from django.utils.translation import gettext_lazy as _

from triggerpoint.accounts import mfa
from triggerpoint.accounts.models import Role


class LoginForm(AuthenticationForm):
    """Password plus, for staff, the 6-digit code from their authenticator app.

    A wrong code counts as a failed login, so django-axes throttles guessing
    codes the same way it throttles guessing passwords.
    """

    otp_token = forms.CharField(
        label="Authenticator code",
        required=False,
        max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
        help_text="Staff: the 6-digit code from your authenticator app.",
    )

    error_messages = {
        **AuthenticationForm.error_messages,
        "otp_required": "Enter the 6-digit code from your authenticator app.",
        "otp_invalid": "That authenticator code is not valid. Codes change every 30 seconds.",
        "otp_not_enrolled": "No authenticator app is set up for this account yet. Use the enrolment link "
                            "emailed to you, or ask your clinic admin to send a new one.",
    }

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.otp_device = None

    def clean(self):
        cleaned = super().clean()
        user = self.get_user()
        if user is not None and mfa.requires_second_factor(user):
            token = cleaned.get("otp_token", "")
            if not mfa.has_confirmed_device(user):
                self._fail(user, "otp_not_enrolled")
            if not token:
                self._fail(user, "otp_required")
            device = mfa.verify(user, token)
            if device is None:
                self._fail(user, "otp_invalid")
            self.otp_device = device
        return cleaned

    def _fail(self, user, code: str):
        user_login_failed.send(
            sender=__name__, credentials={"username": user.get_username()}, request=self.request
        )
        raise forms.ValidationError(self.error_messages[code], code=code)


ROLE_CHOICES = [(role.value, role.label) for role in Role]


class RolesForm(forms.Form):
    roles = forms.MultipleChoiceField(label=_("Roles"), choices=ROLE_CHOICES, widget=forms.CheckboxSelectMultiple,
                                      error_messages={"required": _("Choose at least one role.")})


class StaffUserForm(RolesForm):
    """A new staff account: who, where the enrolment link goes, and what they may do."""

    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)
    username = forms.CharField(label=_("Username"), max_length=150,
                               help_text=_("Letters, digits and . @ + - _ (e.g. jane.doe)."))
    email = forms.EmailField(label=_("Email"), help_text=_("The one-time enrolment link is sent here."))

    field_order = ["first_name", "last_name", "username", "email", "roles"]


class TokenForm(forms.Form):
    name = forms.CharField(label=_("Token name"), max_length=100,
                           help_text=_("The system that will use it, e.g. scheduling-sync."))
    expires_days = forms.IntegerField(label=_("Expires after (days)"), min_value=1, max_value=365, initial=90)


class SmartClientForm(forms.Form):
    """A SMART Backend Services client: who it is, its public keys, the most it may read."""

    name = forms.CharField(label=_("Client name"), max_length=100,
                           help_text=_("The system that will connect, e.g. County Hospital EHR."))
    keys = forms.CharField(label=_("Public keys"), max_length=50_000,
                           widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false", "class": "mono"}),
                           help_text=_("The client's JWKS (JSON with a \"keys\" list), one JWK, or a PEM public key. "
                                       "RSA (RS384) or EC P-384 (ES384). Never paste a private key."))
    scopes = forms.CharField(label=_("Allowed scopes"), max_length=2000, initial="system/*.read",
                             help_text=_("Space-separated, read only: system/*.read, system/Patient.read, "
                                         "system/Observation.rs …"))


class EnrolForm(forms.Form):
    """First sign-in from an enrolment link: a password (new, or the current one after a reset) and the app's code."""

    password = forms.CharField(label=_("Password"), strip=False, required=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    new_password1 = forms.CharField(label=_("Choose a password"), strip=False, required=False,
                                    widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                                    help_text=_("At least 12 characters; not a common password."))
    new_password2 = forms.CharField(label=_("Type it again"), strip=False, required=False,
                                    widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    code = forms.CharField(label=_("Code from the app"), max_length=8,
                           widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.new_account = not user.has_usable_password()
        if self.new_account:
            del self.fields["password"]
        else:
            del self.fields["new_password1"], self.fields["new_password2"]

    def clean(self):
        cleaned = super().clean()
        if self.new_account:
            first, second = cleaned.get("new_password1"), cleaned.get("new_password2")
            if not first:
                self.add_error("new_password1", _("Choose a password."))
            elif first != second:
                self.add_error("new_password2", _("The two passwords differ."))
            else:
                try:
                    validate_password(first, self.user)
                except forms.ValidationError as exc:
                    self.add_error("new_password1", exc)
        elif not cleaned.get("password"):
            self.add_error("password", _("Enter your password."))
        return cleaned
