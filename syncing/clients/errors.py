"""The one base class of every client's exception (Plex, Tautulli, Seerr, …)."""


class ClientError(Exception):
    """A failure talking to an outside system, with a one-line, secret-free message."""
