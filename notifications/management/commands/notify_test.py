"""`manage.py notify_test`: send a test message to every configured notification URL."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from notifications.services import notify_test


class Command(BaseCommand):
    help = "Send a test message to every notification URL (settings page and NOTIFY_URLS)."

    def handle(self, *args, **options) -> None:
        deliveries = notify_test()
        if not deliveries:
            raise CommandError("No notification URL is configured (settings page or NOTIFY_URLS).")
        for d in deliveries:
            if d.ok:
                self.stdout.write(self.style.SUCCESS(f"{d.target.label}: sent"))
            else:
                self.stdout.write(self.style.ERROR(f"{d.target.label}: {d.error}"))
        failed = [d for d in deliveries if not d.ok]
        if failed:
            raise CommandError(f"{len(failed)} of {len(deliveries)} targets failed.")
