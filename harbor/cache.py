"""Django's Redis cache: one client per connection pool, and django-prometheus's hit/miss counters.

Django's RedisCacheClient builds a new `redis.Redis` for every cache call, and building one
costs about a fifth of a millisecond (its response-callback table): more than the Redis round
trip itself on the throttles and the catalog cache. A redis-py client is thread-safe and
holds no connection of its own (the pool does), so one per pool is enough.

The counters (django_cache_get_*_total, backend="redis") are those of django-prometheus's
NativeRedisCache; that module imports the django-redis package at the top (for its other
class), which Harbor does not use, so the few lines are here.

Values are stored as JSON, never pickled: Django's default RedisSerializer unpickles whatever
it reads, so anyone who can write to Redis could make every web process run code of their
choosing. JSON can only ever give back data. (Integers stay plain, as Django stores them, so
INCR keeps working.)
"""

import json

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient
from django_prometheus.cache.metrics import (
    django_cache_get_fail_total,
    django_cache_get_total,
    django_cache_hits_total,
    django_cache_misses_total,
)

BACKEND = "redis"


class JSONSerializer:
    """What the cache stores: JSON (a tuple comes back a list), or a plain integer."""

    def dumps(self, obj):
        if type(obj) is int:  # as Django's RedisSerializer: INCR/DECR work on plain integers
            return obj
        return json.dumps(obj, separators=(",", ":")).encode()

    def loads(self, data):
        try:
            return int(data)
        except ValueError:
            return json.loads(data)


class ReusingRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._serializer = JSONSerializer()
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient

    def get(self, key, default=None, version=None):
        django_cache_get_total.labels(backend=BACKEND).inc()
        try:
            result = super().get(key, default=None, version=version)
        except Exception:
            django_cache_get_fail_total.labels(backend=BACKEND).inc()
            raise
        if result is None:
            django_cache_misses_total.labels(backend=BACKEND).inc()
            return default
        django_cache_hits_total.labels(backend=BACKEND).inc()
        return result
