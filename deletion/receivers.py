"""After every sync run (syncing.signals.run_finished; syncing never imports deletion):

- a failed run is announced (which source, why);
- a successful one takes out of the queue the groups watched or added to since their
  approval, refreshes the "Leaving soon" collections (a task), and announces new
  candidates when a full sync found more than the last announcement counted.

Receivers are called through send_robust: nothing here can fail a sync.

A rule saved, deleted or given other ignored accounts keeps media_items' stored numbers of
the ignored accounts in step (deletion.people.ignored_numbers_sync).
"""

from __future__ import annotations

from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from deletion.announce import candidates_announce, leaving_changed, sync_failed_announce
from deletion.filters import CandidateFilterForm
from deletion.lifecycle import requests_take_out_changed, requests_waiting
from deletion.models import DeletionRule, LeavingCollection
from deletion.people import ignored_numbers_sync
from deletion.selectors import candidate_page_get
from media.services import config_get, config_set
from syncing.kinds import run_kind
from syncing.models import SyncRun
from syncing.signals import run_finished

CANDIDATES_SEEN_KEY = "notify_candidates_seen"
TOP = 5


@receiver(run_finished)
def after_run(sender, run: SyncRun, **kwargs) -> None:
    if run.status != SyncRun.Status.SUCCESS:
        sync_failed_announce(
            source=run.get_kind_display(), target=str(run.target), error=run.error, run_id=run.pk
        )
        return
    if not run_kind(run.kind).library:
        return  # e.g. sync_arr: nothing a candidate, a request or a collection reads
    ignored_numbers_sync()  # one query when in step (else a first sync after an upgrade)
    taken_out = requests_take_out_changed()  # refreshes the collections when any left
    if not taken_out and (requests_waiting().exists() or LeavingCollection.objects.exists()):
        leaving_changed()  # a sync also re-creates a collection someone deleted in Plex
    if run_kind(run.kind).targets:  # full syncs, not a webhook's one-item run
        new_candidates_check(run_id=run.pk)


def new_candidates_check(*, run_id: int) -> int:
    """Announce when there are more candidates than last announced; returns how many new."""
    f = CandidateFilterForm({}).to_candidate_filter()
    page = candidate_page_get(f=f, per_page=TOP)
    seen = int((config_get(CANDIDATES_SEEN_KEY) or {}).get("count", 0))
    config_set(CANDIDATES_SEEN_KEY, {"count": page.total_count})
    new = page.total_count - seen
    if new > 0:
        candidates_announce(
            count=page.total_count, new=new, size=page.total_bytes, top=page.rows, run_id=run_id
        )
    return max(new, 0)


@receiver(post_save, sender=DeletionRule)
@receiver(post_delete, sender=DeletionRule)
@receiver(m2m_changed, sender=DeletionRule.ignore_users.through)
def rule_people_changed(sender, **kwargs) -> None:
    """A rule saved, deleted or given other ignored accounts: the stored numbers of ignored
    accounts follow (recomputed only when the accounts change)."""
    if kwargs.get("action", "post_").startswith("post_"):
        ignored_numbers_sync()
