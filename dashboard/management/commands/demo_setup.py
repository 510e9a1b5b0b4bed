"""`manage.py demo_setup`: the demo's nearly full disk, its threshold and storage history."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from dashboard.demo import demo_disk_setup
from deletion.storage import storage_summary_get


class Command(BaseCommand):
    help = "Demo only: capacity near full, the threshold on, months of storage snapshots."

    def handle(self, *args, **options) -> None:
        state = demo_disk_setup()
        storage = storage_summary_get()
        self.stdout.write(
            f"Demo disk: {storage.used_percent}% of {storage.capacity_human} used; "
            f"threshold {'crossed' if state.over else 'not crossed'}."
        )
