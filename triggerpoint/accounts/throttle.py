"""Login throttling limits for django-axes: per account and client, and per client across accounts.

Guessing one account's password from one address is stopped after
``LOGIN_FAILURES_PER_ACCOUNT`` failures (the username+address pair is locked).
Password spraying — a few common passwords tried against many usernames from
one address — never trips a per-account limit, so the address itself is locked
after ``LOGIN_FAILURES_PER_CLIENT`` failures across all usernames. That limit is
higher because one clinic's staff often share one public address (NAT): a few
typos from several colleagues must not lock the whole clinic out.

django-axes compares one limit against the largest failure count among
``AXES_LOCKOUT_PARAMETERS`` (``[["username", "ip_address"], "ip_address"]``);
the address-only count is always the largest. This callable (axes'
``AXES_FAILURE_LIMIT``) gives the per-account limit once that pair has reached
it, and the per-client limit otherwise, which yields both thresholds.
Client addresses come from ``core.client_ip`` (axes' ``AXES_CLIENT_IP_CALLABLE``).
"""

from __future__ import annotations

from axes.helpers import get_client_ip_address, get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum


def failure_limit(request, credentials) -> int:
    per_account = settings.LOGIN_FAILURES_PER_ACCOUNT
    per_client = settings.LOGIN_FAILURES_PER_CLIENT
    ip = getattr(request, "axes_ip_address", None) or get_client_ip_address(request)
    username = get_client_username(request, credentials)
    pair = AccessAttempt.objects.filter(username=username, ip_address=ip).aggregate(
        n=Sum("failures_since_start"))["n"] or 0
    return per_account if pair >= per_account else per_client
