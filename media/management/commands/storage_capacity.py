"""`manage.py storage_capacity [GB] [--if-unset]`: show or set the disk capacity."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from media.services import storage_capacity_get, storage_capacity_set


class Command(BaseCommand):
    help = "Show the storage capacity, or set it (in GB)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("total_gb", nargs="?", help="Capacity in GB (1 GB = 1024³ bytes).")
        parser.add_argument("--if-unset", action="store_true", help="Only when none is set yet.")

    def handle(self, *args, total_gb: str | None, if_unset: bool, **options) -> None:
        current = storage_capacity_get()
        if total_gb is not None and not (if_unset and current.total_gb):
            try:
                current = storage_capacity_set(total_gb=total_gb, source="manual")
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from None
        if current.total_gb is None:
            self.stdout.write("Storage capacity: not set.")
        else:
            self.stdout.write(f"Storage capacity: {current.total_gb:g} GB ({current.source}).")
