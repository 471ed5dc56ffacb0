from __future__ import annotations

from django import forms
from django.contrib.auth import user_login_failed
from django.contrib.auth.forms import AuthenticationForm

from triggerpoint.accounts import mfa


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
    }

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.otp_device = None

    def clean(self):
        cleaned = super().clean()
        user = self.get_user()
        if user is not None and mfa.requires_second_factor(user):
            token = cleaned.get("otp_token", "")
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
