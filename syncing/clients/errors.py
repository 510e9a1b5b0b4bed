"""The one base class of every client's exception type."""


class ClientError(Exception):
    """A failure talking to an outside system; the message is one line without secrets."""
