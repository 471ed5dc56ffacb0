"""The app as `chart_bench.py` serves it: imported once in the gunicorn master (`--preload`).

Every worker then forks from a process that has already imported Django, the apps and the
URLconf, so neither worker boot nor the first request's imports land in the CPU the bench
charges to the measured requests. Database connections are closed before the fork: a
connection must never be shared between processes.
"""

from django.db import connections
from django.urls import get_resolver

from triggerpoint.wsgi import application

get_resolver().url_patterns  # noqa: B018 - imports every app's URLconf and views
connections.close_all()

__all__ = ["application"]
