"""`manage.py webhook_secret [--rotate]`: the secret Tautulli's webhook agent must send."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from syncing.services.webhooks import webhook_secret_get, webhook_secret_rotate


class Command(BaseCommand):
    help = "Print (or rotate) the Tautulli webhook secret."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--rotate", action="store_true", help="Replace it with a new one.")

    def handle(self, *args, rotate: bool, **options) -> None:
        self.stdout.write(webhook_secret_rotate() if rotate else webhook_secret_get())
