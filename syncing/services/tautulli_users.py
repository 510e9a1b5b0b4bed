"""Tautulli's users (get_users), refreshed inside every Tautulli history sync, in the same
transaction as the statistics and the per-user rollups (tautulli_rollups): a failed sync
leaves them as they were."""

from __future__ import annotations

from functools import partial

from syncing.clients.tautulli import UserRow
from syncing.models import TautulliServer, TautulliUser
from syncing.services.upserts import row_stage

_FIELDS = ["username", "friendly_name", "email", "keep_history", "is_active"]


def tautulli_users_store(*, tautulli: TautulliServer, rows: list[UserRow]) -> int:
    """Create or update every user Tautulli listed; users it no longer lists become inactive
    (kept, so rules naming them keep working). Returns how many rows changed."""
    existing = {u.user_id: u for u in TautulliUser.objects.filter(tautulli=tautulli)}
    new, changed = [], []
    for row in rows:
        values = {name: getattr(row, name) for name in _FIELDS}
        values["username"], values["friendly_name"] = row.username[:200], row.friendly_name[:200]
        values["email"] = row.email[:300]
        make = partial(TautulliUser, tautulli=tautulli, user_id=row.user_id)
        row_stage(
            existing=existing, key=row.user_id, values=values, make=make, new=new, changed=changed
        )
    for gone in existing.values():
        if gone.is_active:
            gone.is_active = False
            changed.append(gone)
    TautulliUser.objects.bulk_create(new)
    TautulliUser.objects.bulk_update(changed, _FIELDS)
    return len(new) + len(changed)
