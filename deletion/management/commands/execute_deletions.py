"""`manage.py execute_deletions`: execute the approved groups that are due, now.

The same service as the queue page's button and the daily schedule: due groups only,
as many as the per-run caps allow, dry run honoured. Exits non-zero when a group failed.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from deletion.execution import deletion_execute
from deletion.lifecycle import requests_due_within_caps


class Command(BaseCommand):
    help = "Execute the approved deletions that are due (within the caps; dry run honoured)."

    def handle(self, *args, **options) -> None:
        result = deletion_execute(requests=requests_due_within_caps())
        if result.run is None:
            self.stdout.write("Nothing is due.")
            return
        self.stdout.write(f"Execution #{result.run.pk}: {result.summary}")
        if result.run.failed:
            raise CommandError(f"{result.run.failed} group(s) failed; see the history page.")
