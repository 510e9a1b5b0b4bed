"""django-q2 tasks: take ids, load rows, call the service (fired after commit by the views)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from deletion.collections import leaving_collections_update
from deletion.execution import deletion_execute
from deletion.lifecycle import requests_due_within_caps
from deletion.models import DeletionRequest


def deletion_execute_task(
    *,
    user_id: int | None = None,
    confirm_over_cap: bool = False,
    request_ids: list[int] | None = None,
) -> str:
    """The queue page's button: every due group, or the chosen ones (even before their
    leave date: the page asked for a confirmation first)."""
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    requests: QuerySet[DeletionRequest] | None = None
    if request_ids is not None:
        requests = DeletionRequest.objects.filter(pk__in=request_ids)
    return deletion_execute(
        user=user,
        confirm_over_cap=confirm_over_cap,
        requests=requests,
        due_only=request_ids is None,
    ).summary


def deletion_execute_due_task(trigger: str = "schedule") -> str:
    """The daily schedule: due groups within the caps, dry run honoured (nobody to ask)."""
    return deletion_execute(requests=requests_due_within_caps()).summary


def leaving_collections_task() -> str:
    """Bring every server's "Leaving soon" collections in line with the queue."""
    return "; ".join(leaving_collections_update()) or "no collection to keep"
