"""The root URLconf: the shell's pages, the API, then each app's pages at its `url_prefix` (core.plugins)."""

from django.urls import include, path

from triggerpoint.api import api
from triggerpoint.core import plugins

urlpatterns = [
    path("", include("triggerpoint.shell.urls")),
    path("audit/", include("triggerpoint.shell.audit_urls")),
    path("api/v1/", api.urls),
]
urlpatterns += [path(prefix, include(module)) for prefix, _config, module in plugins.prefixed("urls", "url_prefix")]
