from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "triggerpoint.accounts"
    label = "accounts"
    url_prefix = "accounts/"  # pages (core.plugins)
    api_prefix = "auth"  # /api/v1/auth/ (core.plugins)
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from triggerpoint.accounts import checks, identity  # noqa: F401 - checks register on import

        identity.connect_signals()

        from triggerpoint.accounts import security_audit

        security_audit.connect_signals()
