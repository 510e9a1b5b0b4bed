"""Plex's `/:/websockets/notifications` messages, in the JSON shape PMS sends.

Every message is `{"NotificationContainer": {"type": …, "size": n, <list key>: [...]}}`;
plexapi's AlertListener hands the inner container to its callback. Timeline entries of
the library (`identifier` "com.plexapp.plugins.library") carry the item's section, its
rating key as `itemID`, its numeric `type` and a `state` (0 created, 5 processed,
9 deleted, with `metadataState` on created/deleted).
"""

from __future__ import annotations

import json
import uuid

LIBRARY = "com.plexapp.plugins.library"
TYPE_NUMBERS = {"movie": 1, "show": 2, "season": 3, "episode": 4}
STATES = {"created": 0, "processed": 5, "deleted": 9}


def message(kind: str, list_key: str, entries: list[dict]) -> str:
    return json.dumps(
        {"NotificationContainer": {"type": kind, "size": len(entries), list_key: entries}}
    )


def timeline_entry(obj, state: str, *, updated_at: int) -> dict:
    """One library timeline entry for a movie/show/season/episode object."""
    entry = {
        "identifier": LIBRARY,
        "sectionID": str(obj.section_key),
        "itemID": str(obj.rating_key),
        "type": TYPE_NUMBERS[obj.media_type],
        "title": obj.title,
        "state": STATES[state],
        "updatedAt": updated_at,
    }
    if state != "processed":
        entry["metadataState"] = state
    if obj.parent_rating_key is not None:
        entry["parentItemID"] = str(obj.parent_rating_key)
    root = obj.grandparent_rating_key or obj.parent_rating_key
    if root is not None:
        entry["rootItemID"] = str(root)
    return entry


def timeline(entries: list[dict]) -> str:
    return message("timeline", "TimelineEntry", entries)


def activity(section_key: str, title: str, *, event: str = "ended") -> str:
    """A library scan activity (`library.update.section`) starting, updating or ending."""
    activity_id = str(uuid.uuid4())
    body = {
        "event": event,
        "uuid": activity_id,
        "Activity": {
            "uuid": activity_id,
            "type": "library.update.section",
            "cancellable": False,
            "userID": 1,
            "title": f"Scanning {title}",
            "subtitle": "",
            "progress": 100 if event == "ended" else 0,
            "Context": {"librarySectionID": str(section_key)},
        },
    }
    return message("activity", "ActivityNotification", [body])


def playing(rating_key: int, state: str, *, session_key: int = 1, offset_ms: int = 0) -> str:
    """A play session changing state ("playing", "paused", "stopped")."""
    body = {
        "sessionKey": str(session_key),
        "clientIdentifier": f"sim-client-{session_key}",
        "guid": "",
        "ratingKey": str(rating_key),
        "url": "",
        "key": f"/library/metadata/{rating_key}",
        "viewOffset": offset_ms,
        "playQueueItemID": session_key,
        "state": state,
    }
    return message("playing", "PlaySessionStateNotification", [body])
