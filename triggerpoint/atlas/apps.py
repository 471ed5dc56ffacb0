from django.apps import AppConfig


class AtlasConfig(AppConfig):
    name = "triggerpoint.atlas"
    label = "atlas"
    url_prefix = "atlas/"  # pages (core.plugins)
    api_prefix = "atlas"  # /api/v1/atlas/ (core.plugins)
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Trigger point atlas"

    def ready(self) -> None:
        # Load (and schema-check) the atlas once per process at start-up: a broken data file
        # stops the server with every problem listed, and no request pays for the first load.
        from triggerpoint.atlas.catalog import load_atlas, load_spanish_text

        load_atlas()
        load_spanish_text()
