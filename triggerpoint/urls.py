import importlib

from django.urls import include, path

from triggerpoint.api import api

urlpatterns = [
    path("", include("triggerpoint.core.urls")),
    path("accounts/", include("triggerpoint.accounts.urls")),
    path("patients/", include("triggerpoint.patients.urls")),
    path("audit/", include("triggerpoint.audit.urls")),
    path("api/v1/", api.urls),
]

# Clinical modules mount their pages under their own prefix when present.
for prefix, app in (
    ("atlas/", "atlas"),
    ("assessments/", "assessment"),
    ("screening/", "screening"),
    ("procedures/", "procedures"),
    ("aftercare/", "aftercare"),
    ("followup/", "followup"),
    ("outcomes/", "outcomes"),
):
    try:
        importlib.import_module(f"triggerpoint.{app}.urls")
    except ModuleNotFoundError as exc:
        if exc.name != f"triggerpoint.{app}.urls":
            raise
        continue
    urlpatterns.append(path(prefix, include(f"triggerpoint.{app}.urls")))
