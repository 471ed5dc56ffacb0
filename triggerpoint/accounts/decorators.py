"""View guards: authentication, the second factor, and the policy table."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

from triggerpoint.accounts.policy import audit_refused_route, can


def staff_required(action: str | None = None):
    """A clinic staff member who passed the second factor (and, if given, may `action`)."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not user.is_clinic_staff:
                raise PermissionDenied("This page is for clinic staff.")
            if not user.is_verified():
                return redirect_to_login(request.get_full_path())
            if action is not None and not can(user, action):
                audit_refused_route(user, action, kwargs)
                raise PermissionDenied(f"Your role does not allow {action}.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def patient_required(view):
    """A patient signed in to the portal with an account linked to their record."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if user.clinic_id or user.portal_patient is None:
            raise PermissionDenied("This page is for patients.")
        return view(request, *args, **kwargs)

    return wrapped
