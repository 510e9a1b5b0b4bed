from django.apps import AppConfig


class SyncingConfig(AppConfig):
    name = "syncing"
    verbose_name = "Syncing"

    def ready(self) -> None:
        from syncing import signals  # noqa: F401  (post_migrate hooks)
