"""The root URLconf: the shell's pages, the API, then each app's pages at its `url_prefix` (core.plugins)."""

from django.urls import include, path

from triggerpoint.accounts import smart_views
from triggerpoint.api import api
from triggerpoint.core import plugins

urlpatterns = [
    path("", include("triggerpoint.shell.urls")),
    path("audit/", include("triggerpoint.shell.audit_urls")),
    path("api/v1/", api.urls),
    path(".well-known/smart-configuration", smart_views.smart_configuration, name="smart_configuration"),
]
urlpatterns += [path(prefix, include(module)) for prefix, _config, module in plugins.prefixed("urls", "url_prefix")]

# Staff see the shell's 403/404; patients and anonymous visitors the patient page in their language.
handler403 = "triggerpoint.shell.error_pages.permission_denied"
handler404 = "triggerpoint.shell.error_pages.page_not_found"
