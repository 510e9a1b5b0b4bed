import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smartplex.settings")
application = get_wsgi_application()

# The web server applies a changed .env (PLEX_URL, …) as it starts, like the worker does.
from syncing.services.connections import connections_apply_on_start  # noqa: E402

connections_apply_on_start()

from smartplex.heap import heap_freeze  # noqa: E402

heap_freeze()
