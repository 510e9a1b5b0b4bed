from django.apps import AppConfig


class DeletionConfig(AppConfig):
    name = "deletion"
    verbose_name = "Deletion"

    def ready(self) -> None:
        from deletion import receivers, signals  # noqa: F401  (after runs; post_migrate)
