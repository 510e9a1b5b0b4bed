"""What SmartPlex tells the household: one message per event and run, never one per item.

Bodies are short Markdown lists (titles, sizes, dates, reasons) that fit in a Discord
message; `notifications.services.notify` records them and sends them after commit, so a
failing target never breaks the approval or execution that announces.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from django_q.tasks import async_task

from deletion.models import AuditLog, DeletionRequest, DeletionRun
from media.formatting import human_size
from notifications.models import Notification
from notifications.services import notify

MAX_LINES = 60  # per section; the rest is counted (and notify() cuts at Discord's size)


def leaving_changed() -> None:
    """The set of leaving-soon groups changed: refresh the "Leaving soon" collections in
    Plex (a task after commit, so a slow Plex never holds up a page, a sync or a run)."""
    transaction.on_commit(lambda: async_task("deletion.tasks.leaving_collections_task"))


def _day(when) -> str:
    return timezone.localtime(when).strftime("%a %d %b %Y")


def _lines(rows: Iterable[str], limit: int = MAX_LINES) -> list[str]:
    rows = list(rows)
    extra = [f"- … and {len(rows) - limit} more"] if len(rows) > limit else []
    return rows[:limit] + extra


def leaving_announce(*, requests: list[DeletionRequest]) -> None:
    """Groups just approved: what leaves, how big, when (once, when they enter the queue)."""
    if not requests:
        return
    total = sum(r.size_bytes for r in requests)
    rows = sorted(requests, key=lambda r: (r.leave_at, r.title))
    body = _lines(
        f"- **{r.title}** ({r.level}, {r.human_size}) — leaves {_day(r.leave_at)}" for r in rows
    )
    notify(
        event=Notification.Event.LEAVING_SOON,
        title=f"Leaving soon: {len(rows)} title{'s' * (len(rows) != 1)} ({human_size(total)})",
        body="\n".join(["Watch them now or ask for them to be kept:", *body]),
        key=f"leaving:{min(r.pk for r in rows)}:{len(rows)}",
    )


def execution_announce(*, run: DeletionRun) -> None:
    """One summary of an execution run: deleted, freed, skipped and failed with reasons."""
    entries = list(
        AuditLog.objects.filter(run=run)
        .order_by("title")
        .values_list("action", "title", "size_bytes", "message")
    )
    done = AuditLog.Action.WOULD_DELETE if run.dry_run else AuditLog.Action.EXECUTE
    parts = []
    for action, heading in (
        (done, "Would delete (dry run)" if run.dry_run else "Deleted"),
        (AuditLog.Action.SKIP, "Skipped"),
        (AuditLog.Action.FAIL, "Failed"),
    ):
        rows = [e for e in entries if e[0] == action]
        if rows:
            parts.append(f"**{heading} ({len(rows)})**")
            parts += _lines(_entry_line(e, with_reason=action != done) for e in rows)
    notify(
        event=Notification.Event.EXECUTED,
        title=_run_title(run),
        body="\n".join(parts) or "Nothing was processed.",
        key=f"execution:{run.pk}",
    )
    leaving_changed()


def _entry_line(entry: tuple, *, with_reason: bool) -> str:
    _, title, size, message = entry
    line = f"- {title} ({human_size(size)})"
    return f"{line}: {message}" if with_reason and message else line


def _run_title(run: DeletionRun) -> str:
    run.refresh_from_db()
    if run.dry_run:
        head = f"Dry run: {run.would_delete} would be deleted"
    else:
        head = f"Deleted {run.deleted}, freed {human_size(run.bytes_freed)}"
    return f"{head}; {run.skipped} skipped, {run.failed} failed"


def sync_failed_announce(*, source: str, target: str, error: str, run_id: int) -> None:
    """A sync failed: which source, which server, why (one message per run)."""
    notify(
        event=Notification.Event.SYNC_FAILED,
        title=f"Sync failed: {source} · {target}",
        body=f"**{source}** sync of **{target}** failed:\n{error or 'no reason given'}",
        key=f"sync-failed:{run_id}",
    )


def candidates_announce(*, count: int, new: int, size: int, top: list, run_id: int) -> None:
    """New deletion candidates after a sync: how many, how much space, the biggest."""
    body = [f"{count} candidate group{'s' * (count != 1)} in all, **{human_size(size)}** "]
    body[0] += "reclaimable."
    if top:
        body += ["Biggest:", *(f"- {c.title} ({c.level}, {c.human_size})" for c in top)]
    notify(
        event=Notification.Event.NEW_CANDIDATES,
        title=f"{new} new deletion candidate{'s' * (new != 1)}",
        body="\n".join(body),
        key=f"candidates:{run_id}",
    )
