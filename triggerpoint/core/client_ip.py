"""The one answer to "which address is this client?", for audit events and login throttling.

Directly on the internet the client is REMOTE_ADDR. Behind a load balancer
REMOTE_ADDR is the balancer, and the client is in a header the balancer
writes (usually X-Forwarded-For). That header is client-controlled except for
the entries the trusted proxies append, so it is read only when configured:

* ``TRUSTED_PROXY_HEADER`` — the header's name, e.g. ``X-Forwarded-For``
  (empty: ignore every forwarding header and use REMOTE_ADDR);
* ``TRUSTED_PROXY_COUNT`` — how many proxies of yours append to it (default 1).
  The client is the entry that many places from the right; anything left of
  it was written by the client and is ignored.

A request that lacks the header, has fewer entries than proxies, or carries
something that is not an IP address falls back to REMOTE_ADDR, never to a
value the client chose.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings


def client_ip(request) -> str | None:
    remote = request.META.get("REMOTE_ADDR") or None
    header = getattr(settings, "TRUSTED_PROXY_HEADER", "")
    if not header:
        return remote
    raw = request.META.get("HTTP_" + header.upper().replace("-", "_"), "")
    entries = [part.strip() for part in raw.split(",") if part.strip()]
    count = max(int(getattr(settings, "TRUSTED_PROXY_COUNT", 1)), 1)
    if len(entries) < count:
        return remote
    candidate = entries[-count]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
