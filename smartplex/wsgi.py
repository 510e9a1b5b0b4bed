import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smartplex.settings")
application = get_wsgi_application()

# The web server applies a changed .env (PLEX_URL, …) as it starts, like the worker does.
from syncing.services.connections import connections_apply_on_start  # noqa: E402

connections_apply_on_start()

# What is loaded by now lives as long as the process: out of the cycle collector's
# generations with it (gc.freeze), so a full collection (about one per ten requests) walks
# only what requests allocate, not the ~90k start-up objects again (~40 ms each time).
gc.collect()
gc.freeze()
