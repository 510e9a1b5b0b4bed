"""Per-request memo of system_config (see media.services.config_memo)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from media.services import config_memo


def system_config_memo(get_response: Callable) -> Callable:
    def middleware(request: HttpRequest) -> HttpResponse:
        with config_memo():
            return get_response(request)

    return middleware
