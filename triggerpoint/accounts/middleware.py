"""django-otp's middleware, reading the session's device from the identity snapshot."""

from __future__ import annotations

from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.middleware import OTPMiddleware

from triggerpoint.accounts import identity


class SnapshotOTPMiddleware(OTPMiddleware):
    """Same contract as OTPMiddleware (binding and confirmation still checked), one query fewer."""

    def _verify_user_sync(self, request, user):
        self._init_user_fields(user)
        if user.is_authenticated:
            persistent_id = request.session.get(DEVICE_ID_SESSION_KEY)
            device = identity.device_for(user, self._normalize_persistent_id(persistent_id)) if persistent_id else None
            user.otp_device = self._finalize_device(request, user, device)
        return user
