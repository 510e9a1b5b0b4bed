from django.apps import AppConfig


class DeletionConfig(AppConfig):
    name = "deletion"
    verbose_name = "Deletion"

    def ready(self) -> None:
        from deletion import signals  # noqa: F401  (post_migrate hook)
