"""Make sure an admin can log in: from SMARTPLEX_ADMIN_USER/PASSWORD, or generated once."""

from __future__ import annotations

import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create the admin user from env, or a generated one when no superuser exists."

    def handle(self, *args, **options) -> None:
        User = get_user_model()
        username = os.environ.get("SMARTPLEX_ADMIN_USER", "admin")
        password = os.environ.get("SMARTPLEX_ADMIN_PASSWORD", "")
        if password:
            user, created = User.objects.get_or_create(
                username=username, defaults={"is_staff": True, "is_superuser": True}
            )
            user.is_staff = user.is_superuser = True
            user.set_password(password)
            user.save()
            verb = "Created" if created else "Updated"
            self.stdout.write(
                f"{verb} admin user '{username}' (password from SMARTPLEX_ADMIN_PASSWORD)."
            )
            return
        if User.objects.filter(is_superuser=True).exists():
            self.stdout.write("An admin user exists; log in with it.")
            return
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser(username=username, email="", password=password)
        self.stdout.write(
            self.style.SUCCESS(
                f"Created admin user '{username}' with password: {password}\n"
                "  (shown once; change it with `manage.py changepassword`)."
            )
        )
