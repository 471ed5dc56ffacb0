from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "triggerpoint.accounts"
    label = "accounts"
    url_prefix = "accounts/"  # pages (core.plugins)
    api_prefix = "auth"  # /api/v1/auth/ (core.plugins)
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported in ready(): they import models, which Django loads only after every app's module;
        # checks register on import.
        from triggerpoint.accounts import checks, identity, security_audit  # noqa: F401

        identity.connect_signals()
        security_audit.connect_signals()
