"""REDIS_URL really switches django-q2 (and the shared cache) to Redis; Q_SCHEDULER=0 turns
a cluster's scheduler off. Each case runs in a child process with that environment."""

from __future__ import annotations

import redis

from tests.processes import child_env, manage, redis_url

QUEUE_KEY = "django_q:smartplex:q"


def _shell(code: str, tmp_path, **env: str):
    db = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    full = child_env(SMARTPLEX_DATA_DIR=str(tmp_path), DATABASE_URL=db, **env)
    result = manage("shell", "-c", code, env=full)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()


def test_redis_url_puts_tasks_on_redis(tmp_path):
    url = redis_url()
    client = redis.from_url(url)
    client.delete(QUEUE_KEY)
    code = (
        "from django_q.brokers import get_broker; from django_q.tasks import async_task;"
        "print(type(get_broker()).__name__); async_task('math.floor', 2.5)"
    )
    try:
        assert _shell(code, tmp_path, REDIS_URL=url)[-1] == "Redis"
        assert client.llen(QUEUE_KEY) == 1
    finally:
        client.delete(QUEUE_KEY)


def test_without_redis_url_the_database_is_the_broker(tmp_path):
    code = "from django_q.brokers import get_broker; print(type(get_broker()).__name__)"
    assert _shell(code, tmp_path)[-1] == "ORM"


def test_redis_url_shares_the_cache_through_redis(tmp_path):
    url = redis_url()
    write = "from django.core.cache import cache; cache.set('machines-probe', 42, 60)"
    read = "from django.core.cache import cache; print(cache.get('machines-probe'))"
    _shell(write, tmp_path / "a", REDIS_URL=url)
    try:
        assert _shell(read, tmp_path / "b", REDIS_URL=url)[-1] == "42"
    finally:
        redis.from_url(url).delete(*redis.from_url(url).keys("smartplex:*machines-probe"))


def test_database_cache_is_shared_without_redis(tmp_path):
    env = {"CACHE_BACKEND": "database"}
    db_env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    full = child_env(SMARTPLEX_DATA_DIR=str(tmp_path), **db_env, **env)
    assert manage("migrate", "--noinput", env=full).returncode == 0
    assert manage("createcachetable", env=full).returncode == 0
    write = "from django.core.cache import cache; cache.set('k', 'shared', 60)"
    read = "from django.core.cache import cache; print(cache.get('k'))"
    assert manage("shell", "-c", write, env=full).returncode == 0
    assert manage("shell", "-c", read, env=full).stdout.strip().endswith("shared")


def test_q_scheduler_0_turns_the_cluster_scheduler_off(tmp_path):
    code = "from django_q.conf import Conf; print(Conf.SCHEDULER)"
    assert _shell(code, tmp_path, Q_SCHEDULER="0")[-1] == "False"
    assert _shell(code, tmp_path / "default")[-1] == "True"


def test_bad_cache_backend_fails_early(tmp_path):
    full = child_env(SMARTPLEX_DATA_DIR=str(tmp_path), CACHE_BACKEND="memcached")
    result = manage("check", env=full)
    assert result.returncode != 0
    assert "CACHE_BACKEND must be one of" in result.stderr
