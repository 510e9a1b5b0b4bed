"""django-q2 tasks: take ids, load rows, call the service (fired after commit by the views)."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from deletion.execution import deletion_execute


def deletion_execute_task(*, user_id: int | None = None, confirm_over_cap: bool = False) -> str:
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    return deletion_execute(user=user, confirm_over_cap=confirm_over_cap).summary
