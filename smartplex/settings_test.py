"""Test settings: the real settings, with plain static storage and a fast password hasher."""

from smartplex.settings import *  # noqa: F403
from smartplex.settings import STORAGES

STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
Q_CLUSTER = {**Q_CLUSTER, "sync": True}  # noqa: F405  (tasks run inline in tests)
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Tests approve and execute at once unless they set a leave delay themselves (the
# lifecycle tests do); production's default is 7 days.
LEAVING_SOON_DAYS = 0
NOTIFY_URLS = ""  # never the developer's own targets
NOTIFY_RETRY_SECONDS = 0.0
DEMO_INBOX_URL = ""
