"""Connection records created or updated from the environment (PLEX_URL, TAUTULLI_URL,
RADARR_URL, SONARR_URL, …)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import DatabaseError, transaction

from media.models import PlexServer
from syncing.models import ArrServer, SeerrServer, TautulliServer

logger = logging.getLogger(__name__)

ENV_PLEX_NAME = "Plex (from environment)"
ENV_TAUTULLI_NAME = "Tautulli (from environment)"
ENV_ARR_NAMES = {
    ArrServer.Kind.RADARR: "Radarr (from environment)",
    ArrServer.Kind.SONARR: "Sonarr (from environment)",
}
ENV_SEERR_NAME = "Seerr (from environment)"


@transaction.atomic
def connections_sync_from_env() -> tuple[PlexServer | None, TautulliServer | None]:
    """Create or update the env-defined connections; more servers are added in the admin."""
    plex = None
    if settings.PLEX_URL and settings.PLEX_TOKEN:
        plex, _ = PlexServer.objects.update_or_create(
            name=ENV_PLEX_NAME,
            defaults={"base_url": settings.PLEX_URL.rstrip("/"), "token": settings.PLEX_TOKEN},
        )
    tautulli = None
    if settings.TAUTULLI_URL and settings.TAUTULLI_API_KEY:
        target = plex or PlexServer.objects.order_by("pk").first()
        if target is not None:
            tautulli, _ = TautulliServer.objects.update_or_create(
                name=ENV_TAUTULLI_NAME,
                defaults={
                    "base_url": settings.TAUTULLI_URL.rstrip("/"),
                    "api_key": settings.TAUTULLI_API_KEY,
                    "plex_server": target,
                },
            )
    arr_connections_sync_from_env(plex=plex)
    seerr_connection_from_env()
    return plex, tautulli


def arr_connections_sync_from_env(*, plex: PlexServer | None = None) -> list[ArrServer]:
    """RADARR_URL/RADARR_API_KEY and SONARR_URL/SONARR_API_KEY, each linked to the env Plex
    server (or the first one); path mappings and more instances are set in the admin."""
    target = plex or PlexServer.objects.order_by("pk").first()
    pairs = {
        ArrServer.Kind.RADARR: (settings.RADARR_URL, settings.RADARR_API_KEY),
        ArrServer.Kind.SONARR: (settings.SONARR_URL, settings.SONARR_API_KEY),
    }
    servers = []
    for kind, (url, key) in pairs.items():
        if url and key and target is not None:
            server, _ = ArrServer.objects.update_or_create(
                name=ENV_ARR_NAMES[kind],
                defaults={"kind": kind, "base_url": url.rstrip("/"), "api_key": key},
                create_defaults={
                    "kind": kind, "base_url": url.rstrip("/"), "api_key": key, "plex_server": target,
                },
            )  # fmt: skip
            servers.append(server)
    return servers


def seerr_connection_from_env() -> SeerrServer | None:
    """SEERR_URL + SEERR_API_KEY, when both are set, create or update one SeerrServer."""
    if not (settings.SEERR_URL and settings.SEERR_API_KEY):
        return None
    seerr, _ = SeerrServer.objects.update_or_create(
        name=ENV_SEERR_NAME,
        defaults={"base_url": settings.SEERR_URL.rstrip("/"), "api_key": settings.SEERR_API_KEY},
    )
    return seerr


def connections_none_reason(*, system: str, url_var: str, key_var: str, model) -> str:
    """Why there is nothing of `system` to sync, saying what is actually wrong."""
    url, key = getattr(settings, url_var), getattr(settings, key_var)
    if url and not key:
        return f"{url_var} is set but {key_var} is empty."
    if key and not url:
        return f"{key_var} is set but {url_var} is empty."
    disabled = list(model.objects.filter(enabled=False).values_list("name", flat=True)[:3])
    if disabled:
        return f"Every {system} server is disabled in the admin ({', '.join(disabled)})."
    if url and key:
        return f"{system} from {url_var} could not be linked (see the admin)."
    return (
        f"No {system} server is configured: set {url_var} and {key_var}, or add one in the admin."
    )


def connections_apply_on_start() -> None:
    """At the start of the web server and of each worker: apply a changed `.env` at once.

    A database that is not migrated yet is left alone (migrate applies them itself).
    """
    try:
        connections_sync_from_env()
    except DatabaseError as exc:
        logger.warning("Connections from the environment not applied yet: %s", exc)
