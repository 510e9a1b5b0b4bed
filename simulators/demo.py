"""The demo: a generated library served by the Plex simulator, its watch history served by
the Tautulli simulator and requests by the same users served by the Seerr simulator, so
`make run` without a Plex server shows a populated app that tells a real server's story
(simulators.demo_story): three years of arrivals, abandoned shows, seasons in progress,
a Tautulli installed a little after the first items; and a Radarr and a Sonarr
holding most of the library (same paths as Plex): the whole path of a deletion, through
Radarr/Sonarr for what they hold and through Plex for the rest. Notifications go to a local
receiver whose messages the admin lists ("Demo inbox") and the log shows."""

from __future__ import annotations

import random
import secrets
import time
from dataclasses import dataclass

from simulators.demo_story import Story, story_history, story_retime
from simulators.library import Library, generate_library
from simulators.notify_target import NotifyReceiver
from simulators.plex import PlexSimulator
from simulators.radarr import RadarrSimulator, radarr_from_library
from simulators.seerr import SeerrSimulator, fill_requests
from simulators.sonarr import SonarrSimulator, sonarr_from_library
from simulators.tautulli import TautulliSimulator


@dataclass(frozen=True)
class DemoSize:
    shows: int = 300
    seasons_per_show: int = 3
    episodes_per_season: int = 8
    movies: int = 3000
    users: int = 12
    days: int = 1000  # of Tautulli history; the library is a tenth older
    plays: int = 60_000  # at most
    requests: int = 400


@dataclass
class Demo:
    plex: PlexSimulator
    tautulli: TautulliSimulator
    library: Library
    radarr: RadarrSimulator
    sonarr: SonarrSimulator
    seerr: SeerrSimulator
    inbox: NotifyReceiver

    def env(self) -> dict[str, str]:
        """The variables that point SmartPlex at the simulators."""
        return {
            "PLEX_URL": self.plex.url,
            "PLEX_TOKEN": self.plex.token,
            "TAUTULLI_URL": self.tautulli.url,
            "TAUTULLI_API_KEY": self.tautulli.api_key,
            "RADARR_URL": self.radarr.url,
            "RADARR_API_KEY": self.radarr.api_key,
            "SONARR_URL": self.sonarr.url,
            "SONARR_API_KEY": self.sonarr.api_key,
            "SEERR_URL": self.seerr.url,
            "SEERR_API_KEY": self.seerr.api_key,
            "NOTIFY_URLS": self.inbox.apprise_url,
            "DEMO_INBOX_URL": self.inbox.inbox_url,
        }

    def stop(self) -> None:
        for sim in (self.plex, self.tautulli, self.radarr, self.sonarr, self.seerr, self.inbox):
            sim.stop()


def demo_start(*, size: DemoSize | None = None, seed: int = 7) -> Demo:
    """Generate the library and its history, start both simulators on 127.0.0.1."""
    size = size or DemoSize()
    library = generate_library(
        shows=size.shows,
        seasons_per_show=size.seasons_per_show,
        episodes_per_season=size.episodes_per_season,
        movies=size.movies,
        seed=seed,
    )
    story = Story(
        now=int(time.time()),
        life_days=size.days * 11 // 10,
        history_days=size.days,
        users=size.users,
    )
    fates = story_retime(library, story, random.Random(seed))
    history = story_history(library, fates, story, seed, size.plays)
    plex = PlexSimulator(library, token=secrets.token_urlsafe(16), record=False).start()
    tautulli = TautulliSimulator(api_key=secrets.token_hex(16), history=history).start()
    tautulli.set_user("user003", keep_history=0)  # one household member with history off
    seerr = SeerrSimulator(api_key=secrets.token_hex(16))
    fill_requests(
        seerr, movies=library.movies, shows=library.shows, users=size.users,
        requests=size.requests, seed=seed,
    )  # fmt: skip
    # Radarr holds nine movies in ten and Sonarr seven shows in eight: the rest goes through Plex.
    movies = [m for i, m in enumerate(library.movies) if i % 10 != 9]
    shows = [s for i, s in enumerate(library.shows) if i % 8 != 7]
    radarr = radarr_from_library(library, movies=movies, api_key=secrets.token_hex(16)).start()
    sonarr = sonarr_from_library(library, shows=shows, api_key=secrets.token_hex(16)).start()
    radarr.on_file_deleted = sonarr.on_file_deleted = plex.file_deleted  # same paths as Plex's
    return Demo(
        plex=plex,
        tautulli=tautulli,
        library=library,
        seerr=seerr.start(),
        radarr=radarr,
        sonarr=sonarr,
        inbox=NotifyReceiver(echo=True).start(),
    )


def main(argv: list[str] | None = None) -> None:
    """`python -m simulators.demo [--env-file F]`: serve the demo until SIGINT/SIGTERM.

    `make run` starts this when no PLEX_URL is set and waits for the env file, which is
    written last and atomically.
    """
    import argparse
    import os
    import signal
    import threading
    from pathlib import Path

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--env-file", help="Write the connection variables here.")
    for name, default in vars(DemoSize()).items():
        env_default = int(os.environ.get(f"DEMO_{name.upper()}", default))
        parser.add_argument(f"--{name.replace('_', '-')}", type=int, default=env_default)
    args = parser.parse_args(argv)
    size = DemoSize(**{k: getattr(args, k) for k in vars(DemoSize())})
    demo = demo_start(size=size)
    env = demo.env()
    print(
        f"Demo Plex at {env['PLEX_URL']} ({size.shows} shows, {size.movies} movies); "
        f"demo Tautulli at {env['TAUTULLI_URL']} ({len(demo.tautulli.history)} plays by "
        f"{size.users} users); demo Seerr at {env['SEERR_URL']} ({size.requests} requests); "
        f"demo Radarr at {env['RADARR_URL']}, Sonarr at {env['SONARR_URL']}.",
        flush=True,
    )
    if args.env_file:
        tmp = Path(f"{args.env_file}.tmp")
        tmp.write_text("".join(f"{k}={v}\n" for k, v in env.items()))
        tmp.chmod(0o600)
        tmp.replace(args.env_file)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    demo.stop()


if __name__ == "__main__":
    main()
