"""Leave dates: existing approvals keep their approval time as leave date (due, as before)."""

import django.utils.timezone
from django.conf import settings
from django.db import migrations, models
from django.db.models import F


def leave_at_from_approval(apps, schema_editor):
    DeletionRequest = apps.get_model("deletion", "DeletionRequest")
    DeletionRequest.objects.update(leave_at=F("approved_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("deletion", "0004_rules_people"),
        ("media", "0002_candidate_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="deletionrequest",
            name="leave_at",
            field=models.DateTimeField(default=django.utils.timezone.now),
        ),
        migrations.RunPython(leave_at_from_approval, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="auditlog",
            name="action",
            field=models.CharField(
                choices=[
                    ("approve", "Approved"),
                    ("protect", "Protected"),
                    ("unprotect", "Unprotected"),
                    ("execute", "Deleted"),
                    ("would_delete", "Would delete (dry run)"),
                    ("skip", "Skipped"),
                    ("fail", "Failed"),
                    ("cancel", "Taken out of the queue"),
                ],
                max_length=20,
            ),
        ),
        migrations.AlterField(
            model_name="deletionrequest",
            name="status",
            field=models.CharField(
                choices=[
                    ("approved", "Approved"),
                    ("running", "Running"),
                    ("needs_check", "Needs check"),
                    ("deleted", "Deleted"),
                    ("skipped", "Skipped"),
                    ("failed", "Failed"),
                    ("cancelled", "Taken out"),
                ],
                default="approved",
                max_length=12,
            ),
        ),
        migrations.AddIndex(
            model_name="deletionrequest",
            index=models.Index(fields=["status", "leave_at"], name="request_leave_idx"),
        ),
    ]
