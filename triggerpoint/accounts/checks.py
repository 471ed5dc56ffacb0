"""Deployment checks for what the identity snapshot and sessions rely on."""

from __future__ import annotations

from django.conf import settings
from django.core import checks

PER_PROCESS_BACKENDS = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
}


@checks.register(checks.Tags.security, deploy=True)
def shared_cache(app_configs, **kwargs):
    """A per-process cache would keep a revoked role or a signed-out session alive in the other workers."""
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if backend in PER_PROCESS_BACKENDS:
        return [checks.Error(
            f"The default cache ({backend}) is not shared between worker processes.",
            hint="Use the database cache from triggerpoint.settings, or another shared cache such as Redis.",
            id="triggerpoint.E001",
        )]
    return []
