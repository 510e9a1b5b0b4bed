"""A ready-made "Deletion approver" group: find candidates and plans, approve and protect
groups, and follow the queue and the history (docs/operations.md lists every permission).

Executing stays with whoever is given `deletion.execute_deletion` on top. Permissions
are created here first: on a fresh database Django would only create them after the
last migration, and the group would be left empty.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Deletion approver"
PERMISSIONS = [
    ("deletion", "view_candidates"),
    ("deletion", "approve_deletion"),
    ("deletion", "protect_media"),
    ("deletion", "view_deletionrequest"),
    ("deletion", "view_auditlog"),
    ("deletion", "view_exclusion"),
    ("deletion", "view_deletionrule"),
    ("media", "view_mediaitem"),
]


def create_group(apps, schema_editor):
    for app_label in ("media", "deletion"):
        app_config = apps.get_app_config(app_label)
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP)
    for app_label, codename in PERMISSIONS:
        perm = Permission.objects.filter(
            content_type__app_label=app_label, codename=codename
        ).first()
        if perm is not None:
            group.permissions.add(perm)


def remove_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("media", "0002_candidate_indexes"),
        ("deletion", "0005_leave_at"),
    ]

    operations = [migrations.RunPython(create_group, remove_group)]
