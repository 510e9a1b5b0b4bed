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
